// Package ivr runs the voice menus callers meet first: flows declared in the
// config, played and steered by keypad on a channel that carries audio, DTMF
// events and hang-up.
//
// Layer: above media and store. It never imports a signalling package (sip,
// pri, analog): a call from a SIP trunk, a SIP phone or an E1 line looks the
// same here. The flow engine arrives with issue 5; until then Welcome
// greets callers on the configured IVR extensions.
package ivr
