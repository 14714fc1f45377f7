package console

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
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
	// Receive stages the bundle read from r (pasted on the console).
	Receive(r io.Reader) (string, error)
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

// A bundle pasted on the serial console, when a box has no USB stick or
// network to take it from, is base64 between these lines (76 columns,
// as `base64` writes it). The bundle's own signature and SHA-256 refuse
// a paste cut short or garbled; nothing is kept of it but what the
// updater writes to the inactive slot as it goes.
const (
	updateBegin = "-----BEGIN JINYIN UPDATE-----"
	updateEnd   = "-----END JINYIN UPDATE-----"
)

// updateReceive takes a pasted bundle: each line is decoded as it comes
// and streamed into the updater, so a 40 MiB bundle is never held here.
// At 115,200 bit/s a 30 MiB bundle takes about 50 minutes (base64 adds a
// third): the last resort it is meant to be.
func (c *Console) updateReceive(stop <-chan struct{}) error {
	u, err := c.updates()
	if err != nil {
		return err
	}
	c.write("Paste the update from its BEGIN line to its END line, e.g.\n" +
		"  (echo " + updateBegin + "; base64 jinyin.update; echo " + updateEnd + ") > /dev/ttyUSB0\n")
	for {
		l, err := c.readLine(stop, &editor{hidden: true}, nil, nil)
		if err != nil {
			return err
		}
		if strings.TrimSpace(l) == updateBegin {
			break
		}
	}
	pr, pw := io.Pipe()
	type result struct {
		msg string
		err error
	}
	done := make(chan result, 1)
	go func() {
		msg, err := u.Receive(base64.NewDecoder(base64.StdEncoding, pr))
		pr.CloseWithError(err) // a refusal mid-paste ends the writes below
		done <- result{msg, err}
	}()
	lines := 0
	for {
		l, err := c.readLine(stop, &editor{hidden: true}, nil, nil)
		if err != nil {
			pw.CloseWithError(err)
			<-done
			return err
		}
		l = strings.TrimSpace(l)
		if l == updateEnd {
			pw.Close()
			break
		}
		if l == "" {
			continue
		}
		if _, err := io.WriteString(pw, l); err != nil {
			// Refused already (a bad signature shows in the first lines):
			// the rest of the paste is read and dropped up to its end.
			for l != updateEnd {
				if l, err = c.readLine(stop, &editor{hidden: true}, nil, nil); err != nil {
					break
				}
				l = strings.TrimSpace(l)
			}
			break
		}
		if lines++; lines%2000 == 0 {
			c.write(fmt.Sprintf("%d KiB\n", lines*57/1024))
		}
	}
	r := <-done
	if r.err != nil {
		if errors.Is(r.err, io.ErrUnexpectedEOF) || errors.Is(r.err, io.EOF) {
			return fmt.Errorf("the paste ended before the bundle did: %v", r.err)
		}
		return r.err
	}
	c.write(r.msg)
	return nil
}
