package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jinyin/internal/ptytest"
	"jinyin/internal/testenv"
)

// demoPrompt is the console's prompt on the demo box.
const demoPrompt = "jinyin-demo> "

// The console's configuration commands and restarts, on the real binary:
// config set (checked), check, save (the previous file kept), reload (the
// box restarts on the file, data kept), reboot declined, factory reset
// (data erased: the console asks for a new admin password again).
func TestConsoleConfigAndRestarts(t *testing.T) {
	dir := t.TempDir()
	dev, term := ptytest.Pair(t, dir)
	file := filepath.Join(dir, "jinyin.toml")
	cfg := strings.Replace(string(defaultConfigText(t)), `device = ""`, `device = "`+dev+`"`, 1)
	cfg = strings.Replace(cfg, `listen = "127.0.0.1:8080"`, `listen = ""`, 1)
	if err := os.WriteFile(file, []byte(cfg), 0o640); err != nil {
		t.Fatal(err)
	}
	sipAddr := testenv.FreeAddr(t)
	b := startBox(t, dir, "--config", file, "--set", "sip.listen="+sipAddr)
	waitSIP(t, b, sipAddr)
	login := func() {
		term.Expect("login: ")
		term.Type("admin\rs3cret-pass\r")
		term.Expect(demoPrompt)
	}
	term.Expect("New password: ")
	term.Type("s3cret-pass\rs3cret-pass\r")
	login()

	if out := term.Command("config set sip.max_calls -1", demoPrompt); !strings.Contains(out, "not set") || !strings.Contains(out, "max_calls must be 0") {
		t.Errorf("a bad value:\n%s", out)
	}
	term.Type("config set sip.max_calls 10\r")
	term.Expect("sip.max_calls=10 staged")
	term.Expect(demoPrompt)
	if out := term.Command("conf rel", demoPrompt); !strings.Contains(out, "1 change(s) are staged") {
		t.Errorf("reload with changes staged:\n%s", out)
	}
	if out := term.Command("config check", demoPrompt); !strings.Contains(out, file+": ok, with 1 change(s) not saved") {
		t.Errorf("config check:\n%s", out)
	}
	term.Type("config save\r")
	term.Expect("saved " + file)
	saved, _ := os.ReadFile(file)
	prev, _ := os.ReadFile(file + ".prev")
	if !strings.Contains(string(saved), "max_calls = 10") || string(prev) != cfg {
		t.Errorf("saved file has max_calls 10: %v; previous kept: %v", strings.Contains(string(saved), "max_calls = 10"), string(prev) == cfg)
	}
	term.Type("config reload\r")
	term.Expect("reloading")
	login() // the restarted box: same data, same password
	if out := term.Command("config show", demoPrompt); !strings.Contains(out, "max_calls = 10") {
		t.Errorf("the reloaded box runs without the saved change:\n%s", out)
	}
	// A backup, a change, and the backup restored: the change is gone.
	term.Type("backup\r")
	term.Expect("-----BEGIN JINYIN BACKUP-----")
	b64 := term.Expect("-----END JINYIN BACKUP-----")
	term.Expect(demoPrompt)
	term.Type("agent 1001 login\r")
	term.Expect("agent 1001: login")
	term.Expect(demoPrompt)
	term.Type("restore\r")
	term.Expect("Paste the backup")
	term.Type("-----BEGIN JINYIN BACKUP-----\r")
	for _, l := range strings.Split(strings.TrimSuffix(b64, "-----END JINYIN BACKUP-----"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			term.Type(l + "\r")
		}
	}
	term.Type("-----END JINYIN BACKUP-----\ryes\r")
	term.Expect("restoring; restarting")
	login()
	if out := term.Command("show agents", demoPrompt); !strings.Contains(out, "1001   out") {
		t.Errorf("after the restore, agent 1001 should be logged out as in the backup:\n%s", out)
	}
	term.Type("reboot\rn\r")
	term.Expect("not restarted")
	creds, _ := os.ReadFile(filepath.Join(dir, "jinyin-data", "credentials.txt"))
	term.Type("factory-reset\ryes\r")
	term.Expect("erased; restarting")
	term.Expect("No admin password is set")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		now, _ := os.ReadFile(filepath.Join(dir, "jinyin-data", "credentials.txt"))
		if len(now) > 0 && string(now) != string(creds) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the agents' passwords were not renewed by the factory reset")
		}
	}
	waitSIP(t, b, sipAddr)
}
