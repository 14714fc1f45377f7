//go:build !linux

package update

import "errors"

func rebootWith(string) error { return errors.New("update: reboot is Linux's") }
