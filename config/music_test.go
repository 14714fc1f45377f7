package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"jinyin/media/music"
	"jinyin/media/wav"
)

// A queue's music is checked where it stands, relative to the config
// file's folder, as `jinyin check` reports it: FILE:LINE:COL.
func TestCheckMusic(t *testing.T) {
	dir := t.TempDir()
	tone := make([]int16, 1600)
	for i := range tone {
		tone[i] = int16(i%40*200 - 4000)
	}
	put := func(name string, data []byte) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	wav.Encode(&b, wav.ALaw, tone)
	put("hold.wav", b.Bytes())
	put("list/a.wav", b.Bytes())
	put("list/b.wav", b.Bytes())
	put("notes.wav", []byte("words, not audio"))
	b.Reset()
	wav.Encode(&b, wav.PCM, tone)
	put("loud.wav", append(b.Bytes()[:24:24], append([]byte{0x44, 0xac, 0, 0}, b.Bytes()[28:]...)...)) // 44.1 kHz
	os.Mkdir(filepath.Join(dir, "empty"), 0o755)
	env := testEnv
	env.Music = music.Check
	file := filepath.Join(dir, "box.toml")
	queue := "[[extension]]\nnumber = \"1001\"\nkind = \"agent\"\n[[queue]]\nname = \"general\"\nagents = [\"1001\"]\n"
	const line, col = 44, 9 // where music's value stands below
	for _, c := range []struct {
		music string
		want  string // "" accepted
	}{
		{`"hold.wav"`, ""},
		{`"list"`, ""},
		{`"list/"`, ""},
		{`"builtin:hold"`, ""},
		{`"` + filepath.Join(dir, "hold.wav") + `"`, ""},
		{`"missing.wav"`, "no file or folder " + filepath.Join(dir, "missing.wav")},
		{`"notes.wav"`, "is not a WAV the box plays"},
		{`"loud.wav"`, "44100 Hz; want 8000 Hz"},
		{`"empty"`, "holds no .wav files"},
		{`"builtin:jazz"`, `no built-in music "jazz"`},
	} {
		src := base + queue + "music = " + c.music + "\n"
		if got := strings.Count(src, "\n"); got != line {
			t.Fatalf("music on line %d", got)
		}
		cfg, err := Load(file, []byte(src), nil, env)
		if c.want == "" {
			if err != nil {
				t.Errorf("music = %s rejected: %v", c.music, err)
			} else if p := cfg.Path(cfg.Queues[0].Music); !strings.HasPrefix(p, dir) && p != music.Builtin {
				t.Errorf("music = %s resolves to %s, not in the config's folder", c.music, p)
			}
			continue
		}
		var issues Issues
		if !errors.As(err, &issues) || len(issues) != 1 {
			t.Errorf("music = %s: %v, want one issue", c.music, err)
			continue
		}
		if is := issues[0]; is.File != file || is.Line != line || is.Col != col || !strings.Contains(is.Msg, c.want) {
			t.Errorf("music = %s: %v, want %s:%d:%d: ...%s...", c.music, is, file, line, col, c.want)
		}
	}
	// The same music from the working directory is not found: relative
	// paths start from the file, not from where the box was started.
	if _, err := Load(file, []byte(base+queue+"music = \"hold.wav\"\n"), nil, env); err != nil {
		t.Fatal(err)
	}
	if _, err := Load("f.toml", []byte(base+queue+"music = \"hold.wav\"\n"), nil, env); err == nil {
		t.Error("hold.wav found beside the test, not the config")
	}
	// A --set is checked too, and reported as the --set.
	_, err := Load(file, []byte(base+queue), []string{"queue.0.music=empty"}, env)
	if err == nil || !strings.HasPrefix(err.Error(), "--set queue.0.music: music: folder") {
		t.Errorf("--set queue.0.music=empty: %v", err)
	}
}
