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

func detectFile(name string, withEvents bool) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	audio, err := wav.Decode(f)
	if err != nil && !errors.Is(err, wav.ErrTruncated) || audio == nil {
		return "", err
	}
	var digits strings.Builder
	var evs []string
	d := dtmf.NewDetector(dtmf.Config{}, func(e dtmf.Event) {
		if !e.End {
			digits.WriteByte(e.Digit)
			return
		}
		evs = append(evs, fmt.Sprintf("%c@%.3fs+%dms", e.Digit, float64(e.Start)/8000, e.Duration/8))
	})
	d.Process(audio.Samples)
	d.Flush()
	line := name + ": " + digits.String()
	if withEvents && len(evs) > 0 {
		line += " " + strings.Join(evs, " ")
	}
	return line, err
}
