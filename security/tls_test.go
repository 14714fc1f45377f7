package security

import (
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSelfSignedCertificate: the first start makes a certificate for the
// box's name and listen address, valid ten years, its own CA; the next
// start finds the same one; the key is readable by the box alone.
func TestSelfSignedCertificate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	c, err := Certificate("", "", dir, "jinyin-demo", []string{"192.0.2.7", "0.0.0.0", "pbx.example"}, now)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Subject.CommonName != "jinyin-demo" || !leaf.IsCA || !leaf.NotAfter.Equal(now.AddDate(10, 0, 0).Truncate(time.Second)) {
		t.Errorf("certificate %v, CA %v, until %v", leaf.Subject, leaf.IsCA, leaf.NotAfter)
	}
	if len(leaf.IPAddresses) != 1 || !leaf.IPAddresses[0].Equal(net.ParseIP("192.0.2.7")) || strings.Join(leaf.DNSNames, ",") != "jinyin-demo,pbx.example" {
		t.Errorf("names %v %v (0.0.0.0 is no name)", leaf.IPAddresses, leaf.DNSNames)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "192.0.2.7", CurrentTime: now}); err != nil {
		t.Errorf("a phone given cert.pem as its CA cannot check the box by its address: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key.pem: %v %v", fi.Mode(), err)
	}
	again, err := Certificate("", "", dir, "other-name", nil, now.Add(time.Hour))
	if err != nil || string(again.Certificate[0]) != string(c.Certificate[0]) {
		t.Errorf("the second start made a new certificate: %v", err)
	}
}

// TestConfiguredCertificate: the config's files are used as they are; a
// broken pair, or a damaged self-signed one, is an error that says what
// to do, not a new certificate made silently.
func TestConfiguredCertificate(t *testing.T) {
	dir := t.TempDir()
	if _, err := Certificate("", "", dir, "box", nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if _, err := Certificate(cert, key, t.TempDir(), "box", nil, time.Now()); err != nil {
		t.Errorf("the config's pair: %v", err)
	}
	if _, err := Certificate(cert, filepath.Join(dir, "none.pem"), t.TempDir(), "box", nil, time.Now()); err == nil || !strings.Contains(err.Error(), "sip.tls_cert and sip.tls_key") {
		t.Errorf("a missing key: %v", err)
	}
	os.WriteFile(key, []byte("not a key"), 0o600)
	if _, err := Certificate("", "", dir, "box", nil, time.Now()); err == nil || !strings.Contains(err.Error(), "delete both files") {
		t.Errorf("a damaged self-signed pair: %v", err)
	}
}
