package sip

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/internal/testenv"
)

// TestTrunkRegistersWithCarrier: SIPp plays a carrier's registrar; the box
// registers with digest and shows the trunk registered.
func TestTrunkRegistersWithCarrier(t *testing.T) {
	bin := testenv.LookPath(t, "sipp", "sip-tester")
	carrier := freeUDPPort(t)
	carrierAddr := fmt.Sprintf("127.0.0.3:%d", carrier)
	cmd := exec.Command(bin, "-sf", filepath.Join("testdata", "sipp", "carrier-registrar.xml"), "-i", "127.0.0.3", "-p", fmt.Sprint(carrier),
		"-m", "1", "-nostdin", "-timeout", "15s", "-timeout_error")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()
	time.Sleep(200 * time.Millisecond) // SIPp binds its port
	s, _ := startServer(t, func(o *Options) {
		o.Trunks = []config.Trunk{{Name: "carrier", Host: carrierAddr, Username: "0755000000", Password: "carrier-secret", Register: true, Destination: "100"}}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		st := s.Trunks()[0]
		if st.State == TrunkRegistered {
			if wait := time.Until(st.NextTry); wait < 40*time.Second || wait > 50*time.Second {
				t.Errorf("refresh in %v, want 80%% of the 60 s granted", wait)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("trunk %+v", st)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("SIPp carrier scenario failed (digest not accepted?): %v", err)
	}
}

// TestTrunkCallsLandOnDestination: a call from an IP-authenticated peer
// (127.0.0.2) to any number reaches the trunk's destination; beyond the
// trunk's channels it gets 503.
func TestTrunkCallsLandOnDestination(t *testing.T) {
	rec := newRecorder()
	s, addr := startServer(t, func(o *Options) {
		o.Trunks = []config.Trunk{{Name: "peer", Host: "127.0.0.2:5060", Channels: 1, Destination: "100"}}
		o.Router = func(to, from string) (Route, error) {
			if to != "100" {
				return Route{}, ErrNotFound
			}
			return Route{App: rec.app}, nil
		}
	})
	if st := s.Trunks()[0]; st.State != TrunkIPAuth {
		t.Fatalf("trunk state %s", st.State)
	}
	// Over the channel limit: hold one unanswered-to-ACK call, then another.
	hold, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	dst, _ := net.ResolveUDPAddr("udp", addr)
	if got := sendRaw(t, hold, dst, rawInvite("88880001", "held", hold.LocalAddr()), 3*time.Second); !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("first trunk call: %q", got)
	}
	second, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	defer second.Close()
	if got := sendRaw(t, second, dst, rawInvite("88880002", "second", second.LocalAddr()), 3*time.Second); !strings.HasPrefix(got, "SIP/2.0 503") {
		t.Fatalf("call beyond the trunk's channels: %q", got)
	}
	if st := s.Trunks()[0]; st.Calls != 1 {
		t.Errorf("trunk shows %d calls", st.Calls)
	}
	hold.Close()
	// From SIPp on the trunk's address, dialling a DID: the destination's
	// app takes it and hears the digit.
	testenv.LookPath(t, "sipp", "sip-tester")
	s2rec := newRecorder()
	s2, addr2 := startServer(t, func(o *Options) {
		o.Trunks = []config.Trunk{{Name: "peer", Host: "127.0.0.2:5060", Destination: "100"}}
		o.Router = func(to, from string) (Route, error) {
			if to != "100" {
				return Route{}, ErrNotFound
			}
			return Route{App: s2rec.app}, nil
		}
	})
	cmd := exec.Command("sipp", addr2, "-sf", filepath.Join("testdata", "sipp", "call-caller-hangup.xml"), "-s", "075588880000", "-m", "1",
		"-i", "127.0.0.2", "-p", "0", "-mi", "127.0.0.2", "-mp", "0", "-nostdin", "-timeout", "15s", "-timeout_error")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("SIPp from the trunk: %v\n%s", err, out)
	}
	s2rec.wait(t)
	if s2rec.digits != "1" {
		t.Errorf("digits %q at the trunk's destination", s2rec.digits)
	}
	waitIdle(t, s2)
}

// TestTrunkACL: a trunk's calls may come from the networks of its acl as
// well as its host; from elsewhere, the same call is a stranger's, asked
// for a digest.
func TestTrunkACL(t *testing.T) {
	rec := newRecorder()
	_, addr := startServer(t, func(o *Options) {
		o.Trunks = []config.Trunk{{Name: "carrier", Host: "127.0.0.2:5060", ACL: []string{"127.0.0.32/28"}, Destination: "100"}}
		o.Router = func(to, from string) (Route, error) {
			if to != "100" {
				return Route{}, ErrNotFound
			}
			return Route{App: rec.app}, nil
		}
	})
	dst, _ := net.ResolveUDPAddr("udp", addr)
	for _, c := range []struct {
		ip   net.IP
		want string
	}{
		{net.IPv4(127, 0, 0, 40), "SIP/2.0 200"},
		{net.IPv4(127, 0, 0, 50), "SIP/2.0 407"},
	} {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: c.ip})
		if err != nil {
			t.Fatal(err)
		}
		got := sendRaw(t, conn, dst, rawInvite("88880001", "acl"+c.ip.String(), conn.LocalAddr()), 3*time.Second)
		conn.Close()
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("a DID call from %v: %q, want %s", c.ip, got, c.want)
		}
	}
}
