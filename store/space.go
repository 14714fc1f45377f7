package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
)

// Space keeps the data directory's filesystem from stopping the box when
// it fills. A reserve file holds back Reserve bytes while there is room.
// When the free space falls below Low, the box is short of space: the
// reserve is given back (so the database, whose records are small, keeps
// being written into it for a good while), and what is large and can be
// refused — recordings, voicemail — is refused. When the free space is
// Low plus Reserve again, the reserve is taken back and the box is no
// longer short.
//
// Check is called on a timer; Short is read wherever a recording would
// begin, and costs an atomic load.
type Space struct {
	dir, reservePath string
	reserve, low     uint64
	free             func() (uint64, error)

	mu     sync.Mutex // Check
	cannot bool       // the reserve could not be made (not for want of space)
	short  atomic.Bool
}

// ReserveFile is the reserve's name in the data directory.
const ReserveFile = "reserve"

// NewSpace watches dir's filesystem, with reserve and low in bytes.
func NewSpace(dir string, reserve, low uint64) *Space {
	s := &Space{dir: dir, reservePath: filepath.Join(dir, ReserveFile), reserve: reserve, low: low}
	s.free = func() (uint64, error) { return freeBytes(dir) }
	return s
}

func freeBytes(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("store: free space of %s: %w", dir, err)
	}
	return st.Bavail * uint64(st.Frsize), nil // statfs counts blocks in fragment units
}

// Short reports whether the data's filesystem is short of space.
func (s *Space) Short() bool { return s.short.Load() }

// Free is the space free now, in bytes.
func (s *Space) Free() (uint64, error) { return s.free() }

// Check looks at the free space and moves between having room and being
// short; changed reports a move.
func (s *Space) Check() (short, changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	free, err := s.free()
	if err != nil {
		return s.short.Load(), false, err
	}
	was := s.short.Load()
	held, _ := s.held()
	switch {
	case free < s.low:
		s.short.Store(true)
		if held > 0 {
			err = os.Remove(s.reservePath)
		}
	case s.cannot:
		s.short.Store(false) // no reserve to take: room is room
	case was && free >= s.low+s.reserve || !was && held < s.reserve && free >= s.low+s.reserve-held:
		err = s.take()
		switch {
		case errors.Is(err, syscall.ENOSPC): // the space went while it was taken
			os.Remove(s.reservePath) // a reserve half made holds what the database needs
			s.short.Store(true)
		default:
			// Taken, or it cannot be (a read-only or refusing
			// filesystem, err says which, once: it is not tried again):
			// either way the space is there.
			s.cannot = err != nil
			s.short.Store(false)
		}
	}
	return s.short.Load(), s.short.Load() != was, err
}

// held is the size of the reserve file now.
func (s *Space) held() (uint64, error) {
	fi, err := os.Stat(s.reservePath)
	if err != nil {
		return 0, err
	}
	return uint64(fi.Size()), nil
}

// take makes the reserve file its size with its blocks allocated
// (fallocate; zeros written where the filesystem cannot: a sparse file
// would hold nothing back).
func (s *Space) take() error {
	f, err := os.OpenFile(s.reservePath, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, int64(s.reserve)); err == nil {
		return f.Close()
	} else if !errors.Is(err, syscall.EOPNOTSUPP) && !errors.Is(err, syscall.ENOSYS) {
		f.Close()
		return err
	}
	held, _ := f.Seek(0, 2)
	chunk := make([]byte, 1<<20)
	for n := uint64(held); n < s.reserve; {
		w, err := f.Write(chunk[:min(uint64(len(chunk)), s.reserve-n)])
		n += uint64(w)
		if err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ErrShort is what a recording refused for want of space says.
var ErrShort = errors.New("the data directory is short of space")
