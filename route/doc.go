// Package route is the box's dial plan: what a dialled number reaches and
// how a call gets there. A number is one Dest: an IVR extension's flow, an
// extension's phone (SIP-registered or on an FXS port), a queue or an
// agent's own line in it, an agent's feature code (*11-*14), a
// supervisor's code (*15-*17 and an agent), or a number out through a
// trunk group (PRI spans, FXO lines or a SIP trunk, tried in order); or a
// Refusal, which each signalling turns away in its own terms (SIP 404 or
// 480, a Q.850 cause).
//
// Plan.Lookup decides for calls coming in (by Origin: SIP, an exchange
// line, an FXS phone), Plan.Resolve for the IVR's transfers; both are
// pure reads of the config and of who is registered, table-tested. Plan's
// Router, Inbound, Transfer and Dialer then place the call: ring-back to
// the caller, the far end dialled through the signalling's small dialer
// interface (Registrar, SIP, Span, Line, Phones), and the two bridged.
// Dial classes to come (toll-fraud caps, PINs for trunk calls) and the
// outbound dialler live here too.
//
// Layer: above the signalling stacks (sip, pri, analog), the IVR and the
// queue, which it sees through the interfaces in dial.go; the composition
// root (box) builds a Plan and wires its fields, and decides nothing
// about where a call goes.
package route
