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

// batch is how many datagrams one recvBatch reads at most: a call gets
// one packet per 20 ms tick, so two in one system call tell it that none
// is left (one fewer than the call) with no empty read to find it out.
const batch = 2

// mmsghdr is struct mmsghdr (recvmmsg(2)): a msghdr and the length
// received; Go pads it as C does (64 bytes on 64-bit, 32 on ARMv7).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

// recvBatch reads up to batch datagrams without blocking, in one
// recvmmsg: n of them, each of lens[i] bytes (more than its buffer when
// it was truncated) from froms[i]; err is EAGAIN when none waits.
func recvBatch(fd int, bufs *[batch][512]byte, lens *[batch]int, froms *[batch]netip.AddrPort) (int, error) {
	var hs [batch]mmsghdr
	var iov [batch]unix.Iovec
	var names [batch]unix.RawSockaddrAny
	for i := range hs {
		iov[i].Base = &bufs[i][0]
		iov[i].SetLen(len(bufs[i]))
		hs[i].hdr.Name = (*byte)(unsafe.Pointer(&names[i]))
		hs[i].hdr.Namelen = unix.SizeofSockaddrAny
		hs[i].hdr.Iov = &iov[i]
		hs[i].hdr.SetIovlen(1)
	}
	n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&hs[0])), batch, unix.MSG_DONTWAIT|unix.MSG_TRUNC, 0, 0)
	if e != 0 {
		return 0, e
	}
	for i := range int(n) {
		lens[i], froms[i] = int(hs[i].len), rawAddr(&names[i])
	}
	return int(n), nil
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
