package console

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// shown is a string a caller controls (a SIP user name) as the console
// shows it: quoted with escapes when it holds anything but printable
// characters and spaces, so it cannot move the cursor, clear the screen or
// forge a column on the technician's terminal.
func shown(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return s
	}
	return strconv.QuoteToGraphic(s)
}

func (c *Console) showBans(args []string) (string, error) {
	var rows [][]string
	for _, b := range c.o.Guard.Bans() {
		rows = append(rows, []string{b.Addr, b.Since.Format(time.DateTime), b.Until.Format(time.DateTime), b.Reason})
	}
	if len(rows) == 0 {
		return "no bans\n", nil
	}
	return table("SOURCE\tSINCE\tUNTIL\tWHY", rows), nil
}

func (c *Console) banLift(args []string) (string, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("ban lift ADDR")
	}
	if err := c.o.Guard.Lift(args[0], "console"); err != nil {
		return "", err
	}
	return fmt.Sprintf("ban of %s lifted\n", args[0]), nil
}

func (c *Console) showSecurity(args []string) (string, error) {
	n := 20
	if len(args) == 1 {
		var err error
		if n, err = strconv.Atoi(args[0]); err != nil || n < 1 || n > 1000 {
			return "", fmt.Errorf("show security [N], N from 1 to 1000, not %q", args[0])
		}
	} else if len(args) > 1 {
		return "", fmt.Errorf("show security [N]")
	}
	evs, err := c.o.Guard.Newest(n)
	if err != nil {
		return "", err
	}
	var rows [][]string
	for _, e := range evs {
		rows = append(rows, []string{e.Time.Format(time.DateTime), e.Name, e.Source, shown(e.Account), shown(e.Detail)})
	}
	if len(rows) == 0 {
		return "no security events\n", nil
	}
	return table("TIME\tEVENT\tSOURCE\tACCOUNT\tDETAIL", rows), nil
}

// breakers are the toll-fraud breakers open, as alarm rows, by name.
func (c *Console) breakers() [][]string {
	if c.o.Breakers == nil {
		return nil
	}
	open := c.o.Breakers()
	names := make([]string, 0, len(open))
	for n := range open {
		names = append(names, n)
	}
	slices.Sort(names)
	var rows [][]string
	for _, n := range names {
		rows = append(rows, []string{n, "calls out stopped until " + open[n].Format(time.DateTime) + " (toll-fraud breaker; breaker lift " + n + ")"})
	}
	return rows
}

func (c *Console) breakerLift(args []string) (string, error) {
	name := strings.Join(args, " ")
	if (len(args) != 2 || args[0] != "extension") && (len(args) != 3 || args[0] != "trunk" || args[1] != "group") {
		return "", fmt.Errorf("breaker lift extension N | trunk group NAME")
	}
	if c.o.LiftBreaker == nil || !c.o.LiftBreaker(name) {
		return "", fmt.Errorf("%s is not stopped", shown(name))
	}
	return fmt.Sprintf("%s may call out again\n", name), nil
}
