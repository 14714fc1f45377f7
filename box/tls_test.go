package box_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/internal/testenv"
	"jinyin/media/wav"
	"jinyin/security"
)

// TestBaresipOverTLSWithSRTP: baresip registers as agent 1002 over SIP
// TLS, checking the box's self-signed certificate (made at its first
// start) as its CA, with SRTP mandatory (mediaenc=srtp-mand: RTP/SAVP and
// SDES); the box requires SRTP of 1002 (srtp = "required").
//   - 1001 calls 1002: the box rings baresip over TLS with RTP/SAVP and
//     its key, and 1001 hears the DTMF baresip plays, which the box could
//     only relay by opening baresip's SRTP.
//   - baresip calls the IVR: what baresip hears is the welcome prompt,
//     which it could only hear by opening the box's SRTP.
//   - 1002 calling over UDP, where the keys would go in the clear, is
//     refused with 488.
func TestBaresipOverTLSWithSRTP(t *testing.T) {
	tlsAddr := testenv.FreeAddr(t)
	toml := strings.Replace(string(config.Default()), `transports = ["udp", "tcp"]`, `transports = ["udp", "tcp", "tls"]`+"\ntls_listen = \""+tlsAddr+"\"", 1)
	toml = strings.Replace(toml, "name = \"agent 1002\"\n", "name = \"agent 1002\"\nsrtp = \"required\"\n", 1)
	dir := t.TempDir()
	sipAddr, httpAddr, _ := startConfig(t, dir, []byte(toml))
	boxCert := filepath.Join(dir, "tls", "cert.pem")
	if _, err := os.Stat(boxCert); err != nil {
		t.Fatalf("no self-signed certificate made: %v", err)
	}
	if st := status(t, httpAddr); !strings.Contains(strings.Join(st.SIP, " "), "tls "+tlsAddr) {
		t.Fatalf("status lists %v, not tls %s", st.SIP, tlsAddr)
	}
	out, ctl := startBaresipCtl(t, dir, sipAddr, httpAddr, "1002", func(bsdir, conf, pw string) (string, string) {
		// baresip's own certificate, for the box's TLS connection to it.
		if _, err := security.Certificate("", "", bsdir, "baresip", []string{"127.0.0.1"}, time.Now()); err != nil {
			t.Fatal(err)
		}
		cert, _ := os.ReadFile(filepath.Join(bsdir, "cert.pem"))
		key, _ := os.ReadFile(filepath.Join(bsdir, "key.pem"))
		os.WriteFile(filepath.Join(bsdir, "both.pem"), append(cert, key...), 0o600)
		// 8 s of audio to send (the digits, then quiet: baresip hangs up
		// when its source ends), and what it hears dumped (sndfile).
		tones, _ := os.ReadFile(filepath.Join(dir, "tones.wav"))
		a, err := wav.Decode(bytes.NewReader(tones))
		if err != nil {
			t.Fatal(err)
		}
		var long bytes.Buffer
		wav.Encode(&long, wav.PCM, append(a.Samples, make([]int16, 8*8000)...))
		os.WriteFile(filepath.Join(dir, "long.wav"), long.Bytes(), 0o600)
		conf = strings.Replace(conf, filepath.Join(dir, "tones.wav"), filepath.Join(dir, "long.wav"), 1)
		conf += "module sndfile.so\nsnd_path " + bsdir + "\n"
		conf += "module srtp.so\nsip_trans_def tls\nsip_certificate " + filepath.Join(bsdir, "both.pem") + "\nsip_cafile " + boxCert + "\n"
		return conf, "<sip:1002@" + tlsAddr + ";transport=tls>;auth_pass=" + pw + ";answermode=auto;mediaenc=srtp-mand;regint=600"
	})

	// 1001 (plain UDP) calls 1002 (TLS, SRTP): baresip's digits relayed.
	call := dial(t, sipAddr, "1002", "1001", password(t, dir, "1001"))
	listen(t, call).hearDigits("2580", out)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	call.Dialog.Bye(ctx)
	waitNoCalls(t, httpAddr)

	// baresip calls the IVR and hears its welcome.
	baresipCommand(t, ctl, `dial","params":"sip:100@`+tlsAddr+`;transport=tls`)
	time.Sleep(4 * time.Second) // real time: baresip records what it hears as it plays out
	baresipCommand(t, ctl, "hangup")
	waitNoCalls(t, httpAddr)
	heard := readHeard(t, filepath.Join(dir, "baresip", "dump-*-dec.wav"), out)
	if rms := rmsOf(heard); rms < 500 {
		t.Errorf("baresip heard RMS %.0f over %d samples: not the welcome prompt", rms, len(heard))
	} else {
		t.Logf("baresip heard RMS %.0f over %d samples", rms, len(heard))
	}

	// 1002 over UDP: its keys would travel in the clear.
	if c, err := invite(sipAddr, "100", "1002", password(t, dir, "1002")); err == nil {
		c.Close()
		t.Error("a call from 1002 (SRTP required) over UDP was taken")
	} else if !strings.Contains(err.Error(), "488") {
		t.Errorf("1002 over UDP: %v, want 488", err)
	}
}

func waitNoCalls(t *testing.T, httpAddr string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); status(t, httpAddr).Calls != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls left", status(t, httpAddr).Calls)
		}
	}
}

// readHeard is what baresip heard in its last call (sndfile's dump of
// the decoded audio, named by time), without its first half second.
func readHeard(t *testing.T, glob string, log *testenv.Buffer) []int16 {
	t.Helper()
	dumps, _ := filepath.Glob(glob)
	if len(dumps) == 0 {
		t.Fatalf("baresip dumped nothing as %s\n%s", glob, log.String())
	}
	slices.Sort(dumps)
	data, _ := os.ReadFile(dumps[len(dumps)-1])
	a, err := wav.Decode(bytes.NewReader(data))
	if a == nil {
		t.Fatalf("baresip's recording: %v\n%s", err, log.String())
	}
	return a.Samples[min(len(a.Samples), 4000):]
}

func rmsOf(s []int16) float64 {
	if len(s) == 0 {
		return 0
	}
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)))
}
