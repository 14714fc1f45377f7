package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"jinyin/internal/clock"
	"jinyin/security"
	"jinyin/store"
)

// The roles of a web account: a supervisor may act (pause or log out an
// agent, book or lift a callback, upload a prompt); a viewer only looks.
const (
	Supervisor = "supervisor"
	Viewer     = "viewer"
)

// Sessions expire after IdleTimeout without a request, and at the latest
// MaxAge after the login; at most maxSessions are held (the oldest go).
const (
	IdleTimeout = 30 * time.Minute
	MaxAge      = 12 * time.Hour
	maxSessions = 256
	cookieName  = "jinyin_session"
	minPassword = 8
)

// SetPassword makes or changes a web account. There is no default one:
// the first is set on the console (`web passwd`) or by `jinyin passwd`.
func SetPassword(db *store.DB, user, role, password string) error {
	if user == "" {
		return errors.New("a web account needs a name")
	}
	if role != Supervisor && role != Viewer {
		return fmt.Errorf("role %q: want %s or %s", role, Supervisor, Viewer)
	}
	if len(password) < minPassword {
		return fmt.Errorf("the password needs at least %d characters", minPassword)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	return db.SetWebUser(user, store.WebUser{Role: role, Hash: hash})
}

// Auth checks web logins and holds the sessions they open. Failed logins
// are security events: the guard bans a guesser as it bans a SIP one.
type Auth struct {
	db    *store.DB
	clk   clock.Clock
	guard *security.Guard

	mu       sync.Mutex
	sessions map[string]*session
}

type session struct {
	user, role      string
	start, lastSeen time.Time
}

// NewAuth checks logins against db's web accounts.
func NewAuth(db *store.DB, clk clock.Clock, guard *security.Guard) *Auth {
	return &Auth{db: db, clk: clk, guard: guard, sessions: map[string]*session{}}
}

// errLogin is every refused login's answer: a wrong name and a wrong
// password look the same.
var errLogin = errors.New("wrong name or password")

// check verifies a name and password, reporting the outcome to the guard.
func (a *Auth) check(src netip.AddrPort, user, password string) (string, error) {
	if a.guard != nil && a.guard.Banned(src.Addr()) {
		return "", errLogin
	}
	select { // bcrypt takes a core for tens of ms: a flood of logins must not take both
	case checking <- struct{}{}:
		defer func() { <-checking }()
	case <-time.After(2 * time.Second): // real time: how long a request may wait for its turn
		return "", errBusy
	}
	u, err := a.db.GetWebUser(user)
	hash := u.Hash
	if err != nil {
		hash = dummyHash // as long as a real check: no timing oracle for names
	}
	ok := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil && err == nil
	if a.guard != nil {
		event := security.SuccessfulAuth
		if !ok {
			event = security.InvalidPassword
			if err != nil {
				event = security.InvalidAccountID
			}
		}
		a.guard.Event(event, "HTTP", src, user, "login")
	}
	if !ok {
		return "", errLogin
	}
	return u.Role, nil
}

// checking bounds the password checks running at once.
var checking = make(chan struct{}, 1)

var errBusy = errors.New("too many logins at once; try again")

var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password of anyone"), bcrypt.DefaultCost)

// login opens a session, returning its token.
func (a *Auth) login(user, role string) string {
	b := make([]byte, 32)
	rand.Read(b)
	token := hex.EncodeToString(b)
	now := a.clk.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expire(now)
	if len(a.sessions) >= maxSessions {
		var oldest string
		for t, s := range a.sessions {
			if oldest == "" || s.start.Before(a.sessions[oldest].start) {
				oldest = t
			}
		}
		delete(a.sessions, oldest)
	}
	a.sessions[token] = &session{user: user, role: role, start: now, lastSeen: now}
	return token
}

func (a *Auth) expire(now time.Time) {
	for t, s := range a.sessions {
		if now.Sub(s.lastSeen) > IdleTimeout || now.Sub(s.start) > MaxAge {
			delete(a.sessions, t)
		}
	}
}

func (a *Auth) logout(token string) {
	a.mu.Lock()
	delete(a.sessions, token)
	a.mu.Unlock()
}

// alive reports whether a session is still open, keeping it so (a
// wallboard's stream is its use).
func (a *Auth) alive(token string) bool {
	now := a.clk.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sessions[token]
	if s == nil || now.Sub(s.lastSeen) > IdleTimeout || now.Sub(s.start) > MaxAge {
		delete(a.sessions, token)
		return false
	}
	s.lastSeen = now
	return true
}

// Revoke ends every session of user (its password or role changed).
func (a *Auth) Revoke(user string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for t, s := range a.sessions {
		if s.user == user {
			delete(a.sessions, t)
		}
	}
}

// Who is the account a request comes from: its session cookie, or HTTP
// Basic credentials (for scripts); ok is false for neither.
func (a *Auth) Who(r *http.Request) (user, role string, ok bool) {
	if c, err := r.Cookie(cookieName); err == nil {
		now := a.clk.Now()
		a.mu.Lock()
		defer a.mu.Unlock()
		for t, s := range a.sessions {
			if subtle.ConstantTimeCompare([]byte(t), []byte(c.Value)) == 1 {
				if now.Sub(s.lastSeen) > IdleTimeout || now.Sub(s.start) > MaxAge {
					delete(a.sessions, t)
					return "", "", false
				}
				s.lastSeen = now
				return s.user, s.role, true
			}
		}
		return "", "", false
	}
	if name, pw, basic := r.BasicAuth(); basic {
		role, err := a.check(source(r), name, pw)
		return name, role, err == nil
	}
	return "", "", false
}

// source is a request's remote address.
func source(r *http.Request) netip.AddrPort {
	ap, _ := netip.ParseAddrPort(r.RemoteAddr)
	return ap
}
