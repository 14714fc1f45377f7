// Package pri is the home of the E1/PRI signalling stacks: Q.921 LAPD
// (pri/q921) carries Q.931 call control over a span's D-channel.
//
// Layer: beside sip; above hal (a D-channel is a stream of HDLC frames).
// Only the Q.921 frame codec exists so far; the link state machine, Q.931
// and the libpri interop tests are the line-card issue's work.
package pri
