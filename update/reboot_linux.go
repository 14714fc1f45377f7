package update

import (
	"syscall"
	"unsafe"
)

// rebootWith syncs the disks and restarts the machine, with arg for the
// boot loader ("0 tryboot" on a Pi: LINUX_REBOOT_CMD_RESTART2) or none.
func rebootWith(arg string) error {
	syscall.Sync()
	if arg == "" {
		return syscall.Reboot(syscall.LINUX_REBOOT_CMD_RESTART)
	}
	p, err := syscall.BytePtrFromString(arg)
	if err != nil {
		return err
	}
	_, _, e := syscall.Syscall6(syscall.SYS_REBOOT, syscall.LINUX_REBOOT_MAGIC1, syscall.LINUX_REBOOT_MAGIC2,
		syscall.LINUX_REBOOT_CMD_RESTART2, uintptr(unsafe.Pointer(p)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
