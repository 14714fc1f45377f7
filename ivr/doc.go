// Package ivr runs the voice menus callers meet first: flows declared in the
// config ([flow.NAME] with [flow.NAME.node.ID] tables), played and steered by
// keypad on a channel that carries audio, DTMF events and hang-up.
//
// Engine holds what every call shares (flows, prompts, store, transfers, the
// HTTP client for lookups, counters); Run walks one call through a flow in
// the caller's goroutine. The walk is the state machine in call_fsm.go: the
// state is the node, each node's step plays, waits for keys and timers on
// the injected clock, and returns the next node and the exit it took.
//
// Layer: above media and store. It never imports a signalling package (sip,
// pri, analog): a call from a SIP trunk, a SIP phone or an E1 line looks the
// same here. Transfers leave the IVR through Engine.Transfer, which the box
// provides.
package ivr
