// Package pri is E1/PRI signalling: each span's Stack runs Q.921 LAPD
// (pri/q921) on the span's D-channel and Q.931 call control (ETSI EN
// 300 102, EuroISDN) above it, in either role (pri-cpe or pri-net), and
// gives each call's B-channel to the application as a media.Channel.
//
// Layer: signalling, beside sip and analog; above hal and media. A
// Stack's state belongs to one goroutine (its loop); timers run on the
// injected clock and post their expiry to the loop. The stack is
// stack.go, the Call it hands out call.go, its state machine
// call_fsm.go, the decoded trace trace.go; pri/libpritest runs libpri as
// the far end for the interop tests.
package pri
