package board

import (
	"jinyin/config"
	"jinyin/hal"
	"jinyin/hal/osmoe1d"
)

// OsmoE1D is the span driver "osmo-e1d", for any profile whose E1 comes
// from Osmocom's osmo-e1d daemon (the CM4 carrier's icE1usb): the line
// the span's e1d names, at e1d_socket. A daemon that is not running is a
// failure, not an absent card: the span was configured to be there.
func OsmoE1D(c config.Span) (hal.Span, bool, error) {
	intf, line, err := config.ParseE1D(c.E1D)
	if err != nil {
		return nil, false, err
	}
	s, err := osmoe1d.Open(c.E1DSocket, intf, line)
	if err != nil {
		return nil, false, err
	}
	return s, true, nil
}
