package rtp

import (
	"encoding/binary"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The media sockets are raw non-blocking descriptors outside Go's network
// poller: the pacer's shard goroutines send and drain them each tick, so
// no goroutine ever waits on one and an arriving packet costs the runtime
// nothing. These wrappers make the two system calls without allocating
// (syscall.Recvfrom allocates a Sockaddr per packet).

func openUDP(local netip.AddrPort) (int, error) {
	family := unix.AF_INET
	if local.Addr().Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	var sa unix.Sockaddr
	if family == unix.AF_INET {
		sa = &unix.SockaddrInet4{Port: int(local.Port()), Addr: local.Addr().As4()}
	} else {
		sa = &unix.SockaddrInet6{Port: int(local.Port()), Addr: local.Addr().As16()}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func closeFD(fd int) { unix.Close(fd) }

// recvFrom reads one datagram without blocking; err is EAGAIN when none waits.
func recvFrom(fd int, buf []byte) (int, netip.AddrPort, error) {
	var rsa unix.RawSockaddrAny
	l := uint32(unix.SizeofSockaddrAny)
	n, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)),
		unix.MSG_DONTWAIT|unix.MSG_TRUNC, uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&l)))
	if e != 0 {
		return 0, netip.AddrPort{}, e
	}
	return int(n), rawAddr(&rsa), nil
}

// sendTo sends one datagram without blocking.
func sendTo(fd int, p []byte, to netip.AddrPort) error {
	var sa unsafe.Pointer
	var l uintptr
	var s4 unix.RawSockaddrInet4
	var s6 unix.RawSockaddrInet6
	if to.Addr().Is4() {
		s4.Family = unix.AF_INET
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&s4.Port))[:], to.Port())
		s4.Addr = to.Addr().As4()
		sa, l = unsafe.Pointer(&s4), unix.SizeofSockaddrInet4
	} else {
		s6.Family = unix.AF_INET6
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&s6.Port))[:], to.Port())
		s6.Addr = to.Addr().As16()
		sa, l = unsafe.Pointer(&s6), unix.SizeofSockaddrInet6
	}
	_, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), unix.MSG_DONTWAIT, uintptr(sa), l)
	if e != 0 {
		return e
	}
	return nil
}

func rawAddr(rsa *unix.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		p := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&p.Port))[:])
		return netip.AddrPortFrom(netip.AddrFrom4(p.Addr), port)
	case unix.AF_INET6:
		p := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&p.Port))[:])
		return netip.AddrPortFrom(netip.AddrFrom16(p.Addr).Unmap(), port)
	}
	return netip.AddrPort{}
}
