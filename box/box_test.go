package box_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"jinyin/board"
	_ "jinyin/board/sim"
	"jinyin/box"
	"jinyin/config"
	"jinyin/internal/testenv"
	"jinyin/media"
	"jinyin/media/dtmf"
	"jinyin/media/dtmf/dtmftest"
	"jinyin/media/rtp"
	"jinyin/media/wav"
)

func freeAddr(t *testing.T) string {
	for i := 0; i < 20; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		a := l.Addr().String()
		l.Close()
		if u, err := net.ListenPacket("udp", a); err == nil {
			u.Close()
			return a
		}
	}
	t.Fatal("no free port")
	return ""
}

// startBox runs the embedded default (the demo) on free loopback ports.
func startBox(t *testing.T, dir string) (sipAddr, httpAddr string) {
	sipAddr, httpAddr = freeAddr(t), freeAddr(t)
	cfg, err := config.Load(config.DefaultName, config.Default(), []string{"sip.listen=" + sipAddr, "http.listen=" + httpAddr, "sip.rtp_ports=36000-36999"}, board.Env())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	b, err := box.New(cfg, dir, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return sipAddr, httpAddr
}

func status(t *testing.T, httpAddr string) box.Status {
	var st box.Status
	res, err := http.Get("http://" + httpAddr + "/status")
	if err == nil {
		json.NewDecoder(res.Body).Decode(&st)
		res.Body.Close()
	}
	return st
}

// TestBaresipTakesABridgedCall: baresip registers as agent 1002 with the
// password the box wrote to credentials.txt, answers automatically and
// plays DTMF tones; a caller rings 1002 through the box and hears, relayed
// through the box's bridge, the digits baresip plays.
func TestBaresipTakesABridgedCall(t *testing.T) {
	bin := testenv.LookPath(t, "baresip", "baresip")
	dir := t.TempDir()
	sipAddr, httpAddr := startBox(t, dir)
	creds, _ := os.ReadFile(filepath.Join(dir, "credentials.txt"))
	var pw string
	for _, line := range strings.Split(string(creds), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "1002" {
			pw = f[1]
		}
	}
	var ts []dtmftest.Tone
	for _, d := range "2580" {
		ts = append(ts, dtmftest.Tone{Digit: byte(d), RowDBm0: -8, ColDBm0: -6, DurationMs: 100, GapMs: 100})
	}
	var tones bytes.Buffer
	wav.Encode(&tones, wav.PCM, dtmftest.Signal(1000, ts, 0, 1))
	os.WriteFile(filepath.Join(dir, "tones.wav"), tones.Bytes(), 0o600)
	bsdir := filepath.Join(dir, "baresip")
	os.MkdirAll(bsdir, 0o700)
	port := freeAddr(t)
	os.WriteFile(filepath.Join(bsdir, "config"), []byte("sip_listen "+port+"\naudio_source aufile,"+filepath.Join(dir, "tones.wav")+
		"\naudio_player aufile,"+filepath.Join(dir, "heard.wav")+"\nmodule_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aufile.so\nmodule_app account.so\nsip_trans_def udp\n"), 0o600)
	os.WriteFile(filepath.Join(bsdir, "accounts"), []byte("<sip:1002@"+sipAddr+";transport=udp>;auth_pass="+pw+";answermode=auto;regint=600\n"), 0o600)
	cmd := exec.Command(bin, "-f", bsdir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	for deadline := time.Now().Add(10 * time.Second); status(t, httpAddr).Registered["1002"] == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("baresip did not register:\n%s", out.String())
		}
	}

	digits, err := callAndListen(sipAddr, "1002", 4*time.Second)
	if err != nil {
		t.Fatalf("%v\nbaresip:\n%s", err, out.String())
	}
	if !strings.Contains(digits, "2580") {
		t.Fatalf("heard %q through the bridge, want 2580\nbaresip:\n%s", digits, out.String())
	}
	if st := status(t, httpAddr); st.Calls != 0 {
		// the caller hung up; both legs must be gone
		time.Sleep(500 * time.Millisecond)
		if st = status(t, httpAddr); st.Calls != 0 {
			t.Errorf("%d calls left after hang-up", st.Calls)
		}
	}
}

// callAndListen calls ext through the box as a plain SIP caller and
// detects DTMF in the audio it receives for d.
func callAndListen(sipAddr, ext string, d time.Duration) (string, error) {
	rtpConn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return "", err
	}
	defer rtpConn.Close()
	ua, _ := sipgo.NewUA(sipgo.WithUserAgent("test-caller"))
	defer ua.Close()
	client, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	dc := sipgo.NewDialogClientCache(client, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "caller", Host: "127.0.0.1"}})
	offer := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n", rtpConn.LocalAddr().(*net.UDPAddr).Port)
	host, p, _ := net.SplitHostPort(sipAddr)
	var port int
	fmt.Sscan(p, &port)
	ctx, cancel := context.WithTimeout(context.Background(), d+20*time.Second)
	defer cancel()
	dlg, err := dc.Invite(ctx, sip.Uri{Scheme: "sip", User: ext, Host: host, Port: port}, []byte(offer), sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		return "", fmt.Errorf("invite: %w", err)
	}
	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		return "", fmt.Errorf("answer: %w", err)
	}
	dlg.Ack(ctx)
	defer dlg.Bye(ctx)
	var digits string
	det := dtmf.NewDetector(dtmf.Config{}, func(e dtmf.Event) {
		if !e.End {
			digits += string(e.Digit)
		}
	})
	buf := make([]byte, 1500)
	pcm := make([]int16, 1500)
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		rtpConn.SetReadDeadline(end)
		n, _, err := rtpConn.ReadFromUDP(buf)
		if err != nil {
			break
		}
		if _, payload, err := rtp.Parse(buf[:n]); err == nil {
			media.PCMA.Decode(pcm, payload)
			det.Process(pcm[:len(payload)])
		}
	}
	return digits, nil
}
