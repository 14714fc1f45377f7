package update

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"testing"
	"time"
)

func keys(t testing.TB) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func bundle(t testing.TB, priv ed25519.PrivateKey, m Manifest, payload []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Sign(&b, priv, m, bytes.NewReader(payload)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var demo = Manifest{Version: "1.2.0", Board: "cm4", Schema: 7, Created: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)}

func TestBundleRoundTrip(t *testing.T) {
	pub, priv := keys(t)
	payload := bytes.Repeat([]byte("slot image "), 10000)
	r, err := Open(bytes.NewReader(bundle(t, priv, demo, payload)), pub)
	if err != nil {
		t.Fatal(err)
	}
	if r.Manifest.Version != "1.2.0" || r.Manifest.Board != "cm4" || r.Manifest.Size != int64(len(payload)) || r.Manifest.Schema != 7 {
		t.Errorf("manifest %+v", r.Manifest)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("payload: %d octets, %v", len(got), err)
	}
	// An empty payload is a bundle too.
	r, err = Open(bytes.NewReader(bundle(t, priv, demo, nil)), pub)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(r); err != nil || len(got) != 0 {
		t.Errorf("empty payload: %d %v", len(got), err)
	}
}

func TestBundleRefusals(t *testing.T) {
	pub, priv := keys(t)
	otherPub, otherPriv := keys(t)
	payload := bytes.Repeat([]byte{0xA5, 0x5A}, 3000)
	good := bundle(t, priv, demo, payload)
	header := bytes.Index(good, payload)
	for _, tc := range []struct {
		name string
		b    []byte
		key  ed25519.PublicKey
		open error // from Open
		read error // from reading the payload
	}{
		{"another key's signature", bundle(t, otherPriv, demo, payload), pub, ErrSignature, nil},
		{"checked with another key", good, otherPub, ErrSignature, nil},
		{"no key", good, nil, ErrSignature, nil},
		{"manifest altered", bytes.Replace(good, []byte(`"1.2.0"`), []byte(`"1.3.0"`), 1), pub, ErrSignature, nil},
		{"payload altered", append(append(bytes.Clone(good[:header+10]), good[header+10]^1), good[header+11:]...), pub, nil, ErrPayload},
		{"payload truncated", good[:len(good)-1], pub, nil, ErrPayload},
		{"header truncated", good[:header-5], pub, ErrFormat, nil},
		{"not a bundle", []byte("PK\x03\x04 a zip file\n\n\n"), pub, ErrFormat, nil},
		{"signature not base64", bytes.Replace(good, []byte("\n"), []byte("\n!"), 1), pub, ErrFormat, nil},
		{"empty", nil, pub, ErrFormat, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Open(bytes.NewReader(tc.b), tc.key)
			if !errors.Is(err, tc.open) {
				t.Fatalf("open: %v, want %v", err, tc.open)
			}
			if err != nil {
				return
			}
			if _, err := io.ReadAll(r); !errors.Is(err, tc.read) {
				t.Errorf("read: %v, want %v", err, tc.read)
			}
		})
	}
}

// Extra octets after the payload are not part of it (a file padded to a
// block size still verifies).
func TestBundleTrailing(t *testing.T) {
	pub, priv := keys(t)
	b := append(bundle(t, priv, demo, []byte("payload")), 0, 0, 0)
	r, err := Open(bytes.NewReader(b), pub)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(r); err != nil || string(got) != "payload" {
		t.Errorf("%q %v", got, err)
	}
}

func TestKeys(t *testing.T) {
	if _, err := ParsePublicKey([]byte("bm90IGEga2V5\n")); err == nil {
		t.Error("a short key taken")
	}
	if _, err := ParsePrivateKey([]byte("x")); err == nil {
		t.Error("a private key of garbage taken")
	}
	pub, priv := keys(t)
	for _, k := range [][]byte{pub, priv} {
		text := []byte(" " + base64.StdEncoding.EncodeToString(k) + "\n")
		if len(k) == ed25519.PublicKeySize {
			if got, err := ParsePublicKey(text); err != nil || !bytes.Equal(got, k) {
				t.Errorf("public key %v", err)
			}
		} else if got, err := ParsePrivateKey(text); err != nil || !bytes.Equal(got, k) {
			t.Errorf("private key %v", err)
		}
	}
}

// FuzzOpen: any input is refused with an error or read to its end; none
// panics, and with the right key only what was signed opens.
func FuzzOpen(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	f.Add(bundle(f, priv, demo, []byte("payload")))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Open(bytes.NewReader(b), pub)
		if err != nil {
			return
		}
		if r.Manifest.Version == "" || r.Manifest.Board == "" {
			t.Fatalf("opened a manifest without version or board: %+v", r.Manifest)
		}
		got, err := io.ReadAll(r)
		if err == nil && int64(len(got)) != r.Manifest.Size {
			t.Fatalf("read %d octets of a %d-octet payload without an error", len(got), r.Manifest.Size)
		}
	})
}
