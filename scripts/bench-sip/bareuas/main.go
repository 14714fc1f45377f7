// Command bareuas is the signalling ceiling for scripts/bench-sip.sh: a
// bare sipgo UAS that answers every INVITE with 200 OK and an SDP answer,
// takes ACK and BYE, and does nothing else (no media, no admission
// control), so the script can print jinyin's throughput as a ratio of it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:5060", "UDP address")
	flag.Parse()
	sip.SetDefaultLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	ua, err := sipgo.NewUA()
	if err != nil {
		panic(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		panic(err)
	}
	answer := []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n")
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		res := sip.NewSDPResponseFromRequest(req, answer)
		res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: "127.0.0.1"}})
		tx.Respond(res)
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fmt.Fprintln(os.Stderr, "bareuas listening on", *addr)
	srv.ListenAndServe(ctx, "udp", *addr)
}
