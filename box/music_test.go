package box_test

import (
	"bytes"
	"math"
	"os"
	"testing"
	"time"

	"jinyin/config"
	"jinyin/media"
	"jinyin/media/wav"
)

// A caller waiting in the demo's general queue hears the embedded music
// after the hold prompts: not silence, and the music itself, byte for
// byte as the file holds it (PCMA goes out as stored).
func TestDemoQueueMusicOverSIP(t *testing.T) {
	data, err := os.ReadFile("../media/music/hold.wav")
	if err != nil {
		t.Fatal(err)
	}
	a, err := wav.Decode(bytes.NewReader(data))
	if err != nil || a.Format != wav.ALaw {
		t.Fatalf("hold.wav: %v %v", a.Format, err)
	}
	loop := append(append([]byte(nil), a.Raw...), a.Raw...)

	sipAddr, _, _ := startConfig(t, t.TempDir(), config.Default())
	call := dial(t, sipAddr, "100", "1003", "")
	h := listen(t, call)
	h.hear("zh", "main-menu")
	call.SendDigits("0")
	h.hear("zh", "queue-hold", "callback-offer")
	h.hearEnd("zh", "callback-offer")
	const want = 2 * media.RateHz // 2 s of what follows, well before the hold prompt again (8 s)
	for deadline := time.Now().Add(10 * time.Second); len(call.Heard()) < h.from+want; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("heard %d bytes after the prompts", len(call.Heard())-h.from)
		}
	}
	after := call.Heard()[h.from : h.from+want]
	pcm := make([]int16, len(after))
	media.PCMA.Decode(pcm, after)
	var sum float64
	for _, s := range pcm {
		sum += float64(s) * float64(s)
	}
	if rms := math.Sqrt(sum / float64(len(pcm))); rms < 300 {
		t.Errorf("the 2 s after the prompts are near silent (RMS %.0f of 32767): no music", rms)
	}
	// Half a second from the middle of it is a piece of the music.
	piece := after[media.RateHz/2 : media.RateHz]
	if !bytes.Contains(loop, piece) {
		t.Error("what the caller hears after the prompts is not the hold music")
	}
}
