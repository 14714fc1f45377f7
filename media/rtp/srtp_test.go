package rtp

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/pion/srtp/v3"

	"jinyin/media"
)

// srtpPair is two sessions that send each other PCMA with telephone-event
// 101, protected with suite, each side's keys the other's.
func srtpPair(t *testing.T, suite string, bRemote []byte) (a, b *Session, ca, cb *collector) {
	pool, pacer, _ := newPair(t)
	var err error
	if a, err = pool.Open(); err != nil {
		t.Fatal(err)
	}
	if b, err = pool.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)
	ka, kb := NewKey(), NewKey()
	if bRemote == nil {
		bRemote = ka
	}
	if err := a.SetSRTP(Keys{Suite: suite, Local: ka, Remote: kb}); err != nil {
		t.Fatal(err)
	}
	if err := b.SetSRTP(Keys{Suite: suite, Local: kb, Remote: bRemote}); err != nil {
		t.Fatal(err)
	}
	a.rtcpEvery, b.rtcpEvery = 5, 5
	ca, cb = &collector{}, &collector{}
	a.Start(Params{Remote: b.Local(), Codec: media.PCMA, CodecPT: 8, EventPT: 101, Send: true}, ca.on)
	b.Start(Params{Remote: a.Local(), Codec: media.PCMA, CodecPT: 8, EventPT: 101, Send: true}, cb.on)
	pacer.Add(a)
	pacer.Add(b)
	return a, b, ca, cb
}

// TestSRTPBetweenSessions: with SRTP agreed, digits (RFC 4733 events)
// and RTCP reports reach the other side through SRTP and SRTCP, in both
// suites, and nothing fails authentication.
func TestSRTPBetweenSessions(t *testing.T) {
	for _, suite := range Suites {
		t.Run(suite, func(t *testing.T) {
			a, b, _, cb := srtpPair(t, suite, nil)
			for _, d := range "19#" {
				a.SendDigit(byte(d))
			}
			cb.wait(t, "19#")
			for deadline := time.Now().Add(3 * time.Second); b.PeerReport.Load() == nil; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("no SRTCP reception report from A")
				}
			}
			if n := a.Unauthentic.Load() + b.Unauthentic.Load(); n != 0 {
				t.Errorf("%d packets failed authentication", n)
			}
		})
	}
}

// TestSRTPWrongKey: a receiver with the wrong key for its peer takes
// nothing from it: every packet fails authentication and no digit gets
// through.
func TestSRTPWrongKey(t *testing.T) {
	a, b, _, cb := srtpPair(t, SuiteAES80, NewKey())
	a.SendDigit('5')
	deadline := time.Now().Add(3 * time.Second)
	for b.Unauthentic.Load() < 10 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := b.Unauthentic.Load(); n < 10 {
		t.Fatalf("%d packets failed authentication, want 10 or more", n)
	}
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if cb.digits != "" {
		t.Errorf("digits %q got through with the wrong key", cb.digits)
	}
}

// TestSRTPOnTheWire: what a protected session sends is not its audio in
// the clear: each packet is the 12-octet header, 160 encrypted octets and
// the 10-octet tag of AES_CM_128_HMAC_SHA1_80 (RFC 3711 §4.2, RFC 4568
// §6.2.1); it opens with the session's key and sequence, and then holds
// the A-law silence (0xD5) played; a packet altered in one bit, or sent
// twice, is dropped by the receiver.
func TestSRTPOnTheWire(t *testing.T) {
	s, sink := sinkSession(t, 32000, 32999)
	key, peer := NewKey(), NewKey()
	if err := s.SetSRTP(Keys{Suite: SuiteAES80, Local: key, Remote: peer}); err != nil {
		t.Fatal(err)
	}
	s.Start(Params{Remote: sink.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: media.PCMA, CodecPT: 8, Send: true}, func(media.Event) {})
	s.Tick()
	buf := make([]byte, 1500)
	sink.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := sink.ReadFromUDP(buf)
	if err != nil {
		t.Fatal(err)
	}
	pkt := buf[:n]
	if n != HeaderLen+media.FrameSamples+10 {
		t.Fatalf("packet of %d octets, want 182", n)
	}
	silence := bytes.Repeat([]byte{0xD5}, media.FrameSamples)
	if bytes.Contains(pkt, silence[:16]) {
		t.Fatal("the audio is in the clear")
	}
	rx, err := srtp.CreateContext(key[:16], key[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := rx.DecryptRTP(nil, pkt, nil)
	if err != nil {
		t.Fatalf("the box's packet does not open with its key: %v", err)
	}
	if !bytes.Equal(plain[HeaderLen:], silence) {
		t.Errorf("opened: % X", plain[HeaderLen:HeaderLen+8])
	}

	// What the session takes in: sealed with the peer's key.
	tx, err := srtp.CreateContext(peer[:16], peer[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		t.Fatal(err)
	}
	plainIn := append([]byte{0x80, 8, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4}, silence...)
	sealed, err := tx.EncryptRTP(nil, plainIn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.openRTP(sealed); !ok {
		t.Fatal("a packet sealed with the peer's key did not open")
	}
	if _, ok := s.openRTP(sealed); ok {
		t.Error("a replayed packet opened")
	}
	plainIn[3] = 2 // the next sequence number
	sealed, _ = tx.EncryptRTP(nil, plainIn, nil)
	sealed[HeaderLen+5] ^= 1
	if _, ok := s.openRTP(sealed); ok {
		t.Error("an altered packet opened")
	}
	if got := s.Unauthentic.Load(); got != 2 {
		t.Errorf("Unauthentic = %d, want 2", got)
	}
}

// TestSetSRTPRefuses: an unknown suite, or keys of the wrong length.
func TestSetSRTPRefuses(t *testing.T) {
	var s Session
	for _, k := range []Keys{
		{Suite: "F8_128_HMAC_SHA1_80", Local: NewKey(), Remote: NewKey()},
		{Suite: SuiteAES80, Local: NewKey()[:16], Remote: NewKey()},
		{Suite: SuiteAES80, Local: NewKey(), Remote: nil},
	} {
		if err := s.SetSRTP(k); err == nil {
			t.Errorf("SetSRTP(%s, %d, %d) accepted", k.Suite, len(k.Local), len(k.Remote))
		}
	}
}

// BenchmarkSessionTickSRTP is a tick with SRTP: it must allocate nothing.
func BenchmarkSessionTickSRTP(b *testing.B) {
	s := benchSession(b, 36000, 36999)
	if err := s.SetSRTP(Keys{Suite: SuiteAES80, Local: NewKey(), Remote: NewKey()}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Tick()
	}
}
