package box_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"jinyin/internal/testenv"
	"jinyin/store"
)

// TestDataDiskFull runs the demo on a 40 MiB tmpfs of its own and fills
// it: the box sees it within seconds, gives its 4 MiB reserve back, says
// so in /status, refuses a voicemail with a prompt (the caller's call
// goes on to the next node), and keeps writing CDRs; the database stays
// sound. Once the filler is gone, the reserve is taken back and a
// voicemail is kept again.
func TestDataDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "root, to mount a tmpfs of a fixed size")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=40m,mode=0700"); err != nil {
		testenv.Missing(t, "a tmpfs mount ("+err.Error()+")")
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	dir := filepath.Join(mnt, "data")
	os.Mkdir(dir, 0o700)
	cfg := strings.Replace(string(ivrConfig("http://127.0.0.1:1/")), "disk_low_mb = 64", "disk_low_mb = 8", 1)
	cfg = strings.Replace(cfg, "disk_reserve_mb = 16", "disk_reserve_mb = 4", 1)
	sipAddr, httpAddr, stop := startConfig(t, dir, []byte(cfg))
	if fi, err := os.Stat(filepath.Join(dir, store.ReserveFile)); err != nil || fi.Size() != 4<<20 {
		t.Fatalf("reserve: %v %v", fi, err)
	}
	if st := status(t, httpAddr); st.Disk.Short || st.Disk.FreeMB == 0 {
		t.Fatalf("disk at start: %+v", st.Disk)
	}

	// Fill it.
	filler, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for i := range 64 {
		if _, err := filler.Write(chunk); errors.Is(err, syscall.ENOSPC) {
			break
		} else if err != nil || i == 63 {
			t.Fatalf("filling: %v", err)
		}
	}
	filler.Close()
	waitDisk(t, httpAddr, true)
	if _, err := os.Stat(filepath.Join(dir, store.ReserveFile)); !os.IsNotExist(err) {
		t.Errorf("the reserve is still held: %v", err)
	}

	// A caller who keys 4 for voicemail is told it cannot be recorded.
	voicemail := func(want string) {
		t.Helper()
		call := dial(t, sipAddr, "100", "13800000009", "")
		h := listen(t, call)
		h.hear("zh", "main-menu")
		call.SendDigits("4")
		if want == "refused" {
			h.hear("zh", "recording-unavailable")
		} else {
			h.hearEnd("zh", "voicemail-intro")
			time.Sleep(400 * time.Millisecond) // the beep
			call.Send(tone400(1.5))
			h.hear("zh", "voicemail-saved")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		call.Dialog.Bye(ctx)
		waitNoCalls(t, httpAddr)
	}
	voicemail("refused")
	voicemail("refused")
	var vms []store.Voicemail
	testenv.GetJSON(t, "http://"+httpAddr+"/voicemail?mailbox=main", &vms)
	if len(vms) != 0 {
		t.Errorf("voicemail kept on a full disk: %+v", vms)
	}

	// Room again.
	os.Remove(filepath.Join(mnt, "filler"))
	waitDisk(t, httpAddr, false)
	if fi, err := os.Stat(filepath.Join(dir, store.ReserveFile)); err != nil || fi.Size() != 4<<20 {
		t.Errorf("reserve after: %v %v", fi, err)
	}
	voicemail("kept")
	testenv.GetJSON(t, "http://"+httpAddr+"/voicemail?mailbox=main", &vms)
	if len(vms) != 1 {
		t.Errorf("voicemail after the disk had room: %+v", vms)
	}
	stop()

	// Every call left its CDR, and the database checks clean.
	db, err := bolt.Open(filepath.Join(dir, "jinyin.db"), 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check: %v", err)
		}
		return nil
	})
	db.Close()
	s := openStore(t, dir)
	cdrs, _ := s.CDRs(0, 100)
	if len(cdrs) != 3 {
		t.Errorf("%d CDRs, want one for each of the 3 calls: %+v", len(cdrs), cdrs)
	}
}

func waitDisk(t *testing.T, httpAddr string, short bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); status(t, httpAddr).Disk.Short != short; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the box did not see the disk short=%v: %+v", short, status(t, httpAddr).Disk)
		}
	}
}
