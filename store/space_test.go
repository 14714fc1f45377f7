package store

import (
	"os"
	"path/filepath"
	"testing"
)

// The reserve is taken when there is room, given back when the free space
// falls below low, and taken again only once there is low plus the
// reserve: between the two the box stays short (no flapping).
func TestSpace(t *testing.T) {
	dir := t.TempDir()
	const mib = 1 << 20
	s := NewSpace(dir, 2*mib, 10*mib)
	free := uint64(100 * mib)
	s.free = func() (uint64, error) { return free, nil }
	reserve := func() int64 {
		fi, err := os.Stat(filepath.Join(dir, ReserveFile))
		if err != nil {
			return -1
		}
		return fi.Size()
	}
	step := func(f uint64, wantShort, wantChanged bool, wantReserve int64) {
		t.Helper()
		free = f
		short, changed, err := s.Check()
		if err != nil || short != wantShort || changed != wantChanged || s.Short() != wantShort || reserve() != wantReserve {
			t.Errorf("free %d MiB: short %v changed %v reserve %d %v; want %v %v %d", f/mib, short, changed, reserve(), err, wantShort, wantChanged, wantReserve)
		}
	}
	step(100*mib, false, false, 2*mib) // first look: the reserve is made
	step(50*mib, false, false, 2*mib)
	step(10*mib, false, false, 2*mib) // at low: still room
	step(10*mib-1, true, true, -1)    // below: short, the reserve given back
	step(11*mib, true, false, -1)     // above low, not by the reserve: still short
	step(12*mib-1, true, false, -1)   //
	step(12*mib, false, true, 2*mib)  // low + reserve: room again, the reserve taken
	step(5*mib, true, true, -1)       //
	step(5*mib, true, false, -1)      // no change
	// A reserve left half made (the disk filled while taking it) is
	// completed when there is room for the rest.
	os.WriteFile(filepath.Join(dir, ReserveFile), make([]byte, mib), 0o600)
	step(20*mib, false, true, 2*mib)
}

func TestSpaceFreeBytes(t *testing.T) {
	n, err := freeBytes(t.TempDir())
	if err != nil || n == 0 {
		t.Errorf("free %d %v", n, err)
	}
	if _, err := freeBytes(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("no error for a missing directory")
	}
}

// A reserve that cannot be made for another reason than space (a
// read-only directory) does not make the box short, and is not tried
// again every second.
func TestSpaceReserveRefused(t *testing.T) {
	dir := t.TempDir()
	const mib = 1 << 20
	s := NewSpace(filepath.Join(dir, "missing"), 2*mib, 10*mib) // its reserve cannot be created
	s.free = func() (uint64, error) { return 100 * mib, nil }
	short, _, err := s.Check()
	if short || err == nil {
		t.Fatalf("short %v, err %v", short, err)
	}
	if short, _, err = s.Check(); short || err != nil {
		t.Errorf("second look: short %v, err %v (tried again)", short, err)
	}
	s.free = func() (uint64, error) { return mib, nil }
	if short, _, _ = s.Check(); !short {
		t.Error("below low, not short")
	}
}
