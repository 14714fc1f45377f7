package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"jinyin/store"
)

func TestPasswdCommand(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	run := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"passwd", "--data", data}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("a long secret\n", "--role", "viewer", "tv"); err != nil || !strings.Contains(out, "tv (viewer): password set") {
		t.Fatalf("%v %s", err, out)
	}
	for _, c := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"short\n", []string{"boss"}, "at least 8"},
		{"a long secret\n", []string{"--role", "admin", "boss"}, `role "admin"`},
		{"", []string{"boss"}, "reading the password"},
		{"a long secret\n", nil, "usage"},
	} {
		if out, err := run(c.stdin, c.args...); err == nil || !strings.Contains(out, c.want) {
			t.Errorf("%v: %v %s, want %q", c.args, err, out, c.want)
		}
	}
	db, err := store.Open(filepath.Join(data, "jinyin.db"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := db.GetWebUser("tv")
	if err != nil || u.Role != "viewer" || bcrypt.CompareHashAndPassword(u.Hash, []byte("a long secret")) != nil {
		t.Errorf("stored %+v %v", u, err)
	}
	if users, _ := db.WebUsers(); len(users) != 1 {
		t.Errorf("accounts %v", users)
	}
	// While the box holds the store, the console is the way.
	if out, err := run("a long secret\n", "boss"); err == nil || !strings.Contains(out, "web passwd") {
		t.Errorf("locked: %v %s", err, out)
	}
	db.Close()
}
