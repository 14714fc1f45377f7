package console

import (
	"fmt"
	"strings"
	"time"

	"jinyin/kpi"
)

// showKPI shows the call centre's figures of today or the last hour, as
// the KPI room computes them (the same as GET /kpi and `jinyin report`).
func (c *Console) showKPI(args []string) (string, error) {
	if c.o.KPI == nil {
		return "", fmt.Errorf("no KPIs on this box")
	}
	now := c.o.Clock.Now()
	loc := c.o.Location
	if loc == nil {
		loc = time.Local
	}
	from, to := kpi.Today(now, loc)
	period := "today"
	if len(args) > 0 {
		switch {
		case strings.HasPrefix("hour", args[0]):
			from, period = now.Add(-time.Hour), "the last hour"
		case strings.HasPrefix("today", args[0]):
		default:
			return "", fmt.Errorf("show kpi [today|hour], not %q", args[0])
		}
	}
	r, err := c.o.KPI(from, to, 0)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Queues, %s (SL: answered in target / answered + abandoned):\n", period)
	if err := kpi.Text(&b, r, "", loc); err != nil {
		return "", err
	}
	return b.String(), nil
}
