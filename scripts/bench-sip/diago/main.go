// Command diago-ivr is the peer yardstick of scripts/bench-sip.sh: a
// playback server on diago (github.com/emiago/diago, a Go media library on
// sipgo) that answers every call and plays the same prompt as jinyin's IVR,
// over and over, until the caller hangs up, reading (and dropping) the
// audio it receives, as an IVR that listens must. It is a module of its
// own so that the firmware's module does not depend on diago.
package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5060", "UDP address")
	wavPath := flag.String("wav", "", "the prompt: a 16-bit 8 kHz mono WAV file")
	flag.Parse()
	wav, err := os.ReadFile(*wavPath)
	if err != nil {
		panic(err)
	}
	host, port, err := net.SplitHostPort(*listen)
	if err != nil {
		panic(err)
	}
	p, _ := strconv.Atoi(port)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	sip.SetDefaultLogger(log)
	ua, err := sipgo.NewUA()
	if err != nil {
		panic(err)
	}
	dg := diago.NewDiago(ua, diago.WithTransport(diago.Transport{Transport: "udp", BindHost: host, BindPort: p}), diago.WithLogger(log))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err = dg.Serve(ctx, func(d *diago.DialogServerSession) {
		m, err := d.Answer(diago.AnswerOptions{})
		if err != nil {
			return
		}
		if r, err := m.AudioReader(); err == nil {
			go io.Copy(io.Discard, r)
		}
		pb, err := m.PlaybackCreate()
		if err != nil {
			return
		}
		for d.Context().Err() == nil {
			if _, err := pb.Play(bytes.NewReader(wav), "audio/wav"); err != nil {
				return
			}
		}
	})
	if err != nil && ctx.Err() == nil {
		panic(err)
	}
}
