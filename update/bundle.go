// Package update is how the box takes new firmware: a signed bundle
// (ed25519, the public key in the read-only image) written to the boot
// slot it is not running from, booted once as a trial, and kept only when
// the new version's health check passes; otherwise the next boot is the
// old slot again, by the boot loader's own fallback.
//
// The A/B scheme is the Raspberry Pi firmware's own (autoboot.txt with
// tryboot_a_b=1: boot_partition for normal boots, a [tryboot] section for
// the one boot after `reboot "0 tryboot"`; the firmware reports the
// partition and the tryboot flag in the device tree), chosen over RAUC,
// Mender or SWUpdate because it needs no second boot loader (U-Boot) and
// falls back without any code of ours running: a trial that hangs is
// reset by the watchdog into the old slot. The same rules drive the QEMU
// image, whose "firmware" is the test harness (boot.go).
//
// Layer: above store; box and the command line wire it. Standard library
// only.
package update

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"
)

// A bundle is three lines and the payload:
//
//	jinyin-update 1
//	<base64 of the ed25519 signature of the manifest line's bytes>
//	<the manifest, one line of JSON>
//	<payload: Size octets, the slot's image>
//
// The signature covers the manifest, and the manifest the payload's
// SHA-256, so a bundle signed with another key is refused before anything
// is written, and a payload that does not match is refused before the
// slot is booted.
const magic = "jinyin-update 1"

// Manifest describes a bundle's payload.
type Manifest struct {
	Version string    `json:"version"`
	Commit  string    `json:"commit,omitempty"`
	Board   string    `json:"board"`  // the board profile it is built for
	Schema  int       `json:"schema"` // the store schema the new firmware writes
	Size    int64     `json:"size"`   // payload octets
	SHA256  string    `json:"sha256"` // of the payload, hex
	Created time.Time `json:"created"`
}

// Bundle errors.
var (
	ErrFormat    = errors.New("update: not an update bundle")
	ErrSignature = errors.New("update: bad signature (not signed with this box's update key)")
	ErrPayload   = errors.New("update: payload does not match its manifest (truncated or altered)")
)

const maxLine = 4096

// Sign writes a bundle of payload (size octets) described by m; m.Size
// and m.SHA256 are filled in from the payload, read twice (payload must
// be seekable, as a file is).
func Sign(w io.Writer, key ed25519.PrivateKey, m Manifest, payload io.ReadSeeker) error {
	h := sha256.New()
	n, err := io.Copy(h, payload)
	if err != nil {
		return err
	}
	if _, err := payload.Seek(0, io.SeekStart); err != nil {
		return err
	}
	m.Size, m.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	line, err := json.Marshal(m)
	if err != nil {
		return err
	}
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(key, line))
	if _, err := fmt.Fprintf(w, "%s\n%s\n%s\n", magic, sig, line); err != nil {
		return err
	}
	if c, err := io.CopyN(w, payload, n); err != nil {
		return fmt.Errorf("update: payload changed while signing (%d of %d octets): %w", c, n, err)
	}
	return nil
}

// Reader reads a bundle: its manifest is checked against the key when
// it is opened, its payload as it is read.
type Reader struct {
	Manifest Manifest
	r        io.Reader // the payload, limited to its size
	h        hash.Hash
	left     int64
}

// Open reads a bundle's header from r and checks its signature with key.
// Reading the Reader then gives the payload, and its last read reports
// ErrPayload if it does not match the manifest.
func Open(r io.Reader, key ed25519.PublicKey) (*Reader, error) {
	br := bufio.NewReaderSize(r, maxLine)
	var lines [3][]byte
	for i := range lines {
		l, err := br.ReadSlice('\n')
		if err != nil {
			return nil, fmt.Errorf("%w: header line %d: %v", ErrFormat, i+1, err)
		}
		lines[i] = bytes.Clone(l[:len(l)-1])
	}
	if string(lines[0]) != magic {
		return nil, fmt.Errorf("%w: it starts %q", ErrFormat, truncate(lines[0]))
	}
	sig, err := base64.StdEncoding.DecodeString(string(lines[1]))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: signature line", ErrFormat)
	}
	if len(key) != ed25519.PublicKeySize || !ed25519.Verify(key, lines[2], sig) {
		return nil, ErrSignature
	}
	var m Manifest
	if err := json.Unmarshal(lines[2], &m); err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrFormat, err)
	}
	if m.Size < 0 || len(m.SHA256) != 2*sha256.Size || m.Version == "" || m.Board == "" {
		return nil, fmt.Errorf("%w: manifest lacks its version, board, size or digest", ErrFormat)
	}
	return &Reader{Manifest: m, r: io.LimitReader(br, m.Size), h: sha256.New(), left: m.Size}, nil
}

func truncate(b []byte) []byte { return b[:min(len(b), 32)] }

// Read gives the payload; at its end, io.EOF if it matched its manifest,
// ErrPayload if not.
func (b *Reader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.h.Write(p[:n])
	b.left -= int64(n)
	if err == io.EOF || err == nil && b.left == 0 {
		if b.left != 0 || hex.EncodeToString(b.h.Sum(nil)) != b.Manifest.SHA256 {
			return n, ErrPayload
		}
		if n > 0 {
			return n, nil // io.EOF on the next call
		}
		return 0, io.EOF
	}
	return n, err
}

// ParsePublicKey reads a public key as `jinyin update keygen` writes it:
// one line of base64.
func ParsePublicKey(text []byte) (ed25519.PublicKey, error) {
	k, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(text)))
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, errors.New("update: not an ed25519 public key (one line of base64)")
	}
	return ed25519.PublicKey(k), nil
}

// ParsePrivateKey reads a private key as `jinyin update keygen` writes it.
func ParsePrivateKey(text []byte) (ed25519.PrivateKey, error) {
	k, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(text)))
	if err != nil || len(k) != ed25519.PrivateKeySize {
		return nil, errors.New("update: not an ed25519 private key (one line of base64)")
	}
	return ed25519.PrivateKey(k), nil
}
