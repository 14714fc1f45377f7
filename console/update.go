package console

import (
	"fmt"
	"strings"
)

// Updates is the firmware update side the console shows and drives (nil
// on a box without boot slots).
type Updates interface {
	// Status is the slot running, whether it is confirmed, what is staged.
	Status() string
	// History is the update events, oldest first, one line each.
	History() ([]string, error)
	// Apply stages the bundle at path (a file on a USB stick, or the
	// stick's block device itself).
	Apply(path string) (string, error)
	// Reboot boots the staged update: "drain" (new calls refused until
	// the calls up end, 10 minutes at most) or at a time of day "HH:MM".
	Reboot(when string) (string, error)
}

func (c *Console) updates() (Updates, error) {
	if c.o.Updates == nil {
		return nil, fmt.Errorf("this box takes no firmware updates (no boot slots, or no update key in its image)")
	}
	return c.o.Updates, nil
}

func (c *Console) updateStatus(args []string) (string, error) {
	u, err := c.updates()
	if err != nil {
		return "", err
	}
	hist, err := u.History()
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	sb.WriteString(u.Status() + "\n")
	if len(hist) == 0 {
		sb.WriteString("no updates yet\n")
	}
	for _, h := range hist[max(0, len(hist)-20):] {
		sb.WriteString("  " + h + "\n")
	}
	return sb.String(), nil
}

func (c *Console) updateApply(args []string) (string, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("update apply PATH (a bundle on a USB stick, or the stick's device)")
	}
	u, err := c.updates()
	if err != nil {
		return "", err
	}
	return u.Apply(args[0])
}

func (c *Console) updateReboot(args []string) (string, error) {
	when := "drain"
	if len(args) == 1 {
		when = args[0]
	} else if len(args) > 1 {
		return "", fmt.Errorf("update reboot [drain|HH:MM]")
	}
	u, err := c.updates()
	if err != nil {
		return "", err
	}
	return u.Reboot(when)
}
