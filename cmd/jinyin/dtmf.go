package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"jinyin/media/dtmf"
	"jinyin/media/wav"
)

// cmdDTMF detects DTMF digits in recordings, one line per file:
// "FILE: DIGITS", and with --events each digit as DIGIT@START+DURATION.
func cmdDTMF(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dtmf", stderr)
	events := fs.Bool("events", false, "add each digit's start time and duration")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("usage: jinyin dtmf [--events] FILE.wav [FILE.wav]")
	}
	failed := 0
	for _, name := range fs.Args() {
		line, err := detectFile(name, *events)
		if err != nil && line == "" {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			failed++
			continue
		}
		if err != nil { // truncated: the digits in what is there, and a warning
			fmt.Fprintf(stderr, "%s: warning: %v\n", name, err)
		}
		fmt.Fprintln(stdout, line)
	}
	if failed > 0 {
		return errExit(1)
	}
	return nil
}

// detectFile streams one recording through the receiver: 4,096 samples
// at a time through one buffer, so memory stays the same whatever the
// file's length (only the digits found are kept). A truncated file gives
// the digits in what is there and the error.
func detectFile(name string, withEvents bool) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	rd, err := wav.NewReader(f)
	if err != nil {
		return "", err
	}
	var digits, evs strings.Builder
	d := dtmf.NewDetector(dtmf.Config{}, func(e dtmf.Event) {
		if !e.End {
			digits.WriteByte(e.Digit)
			return
		}
		if withEvents {
			fmt.Fprintf(&evs, " %c@%.3fs+%dms", e.Digit, float64(e.Start)/8000, e.Duration/8)
		}
	})
	var buf [4096]int16
	for {
		n, rerr := rd.Read(buf[:])
		d.Process(buf[:n])
		if rerr != nil {
			if rerr != io.EOF {
				err = rerr
			}
			break
		}
	}
	d.Flush()
	if err != nil && !errors.Is(err, wav.ErrTruncated) {
		return "", err
	}
	return name + ": " + digits.String() + evs.String(), err
}
