package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"jinyin/internal/siptest"
	"jinyin/kpi"
	"jinyin/media"
	"jinyin/media/tone"
	"jinyin/store"
)

// callsSide is what the crash test's SIP side had from the box: calls it
// ended (the BYE's 200), voicemails it said were saved, sources it showed
// banned. Records written behind (CDRs, bans) are owed once writeBehind
// has passed; a voicemail is owed as soon as the caller is told it is
// saved.
type callsSide struct {
	mu sync.Mutex
	// Of the box's life that is about to end: a call's number and when
	// its BYE was answered, a source and when GET /security/bans first
	// showed it banned. A kill settles them: owed (and checked) when
	// older than writeBehind, else free to be lost.
	ended, banned map[string]time.Time
	saved         map[string]bool // voicemail caller numbers
	// Across the lives: calls and bans checked against the store, or let
	// go for being too young at their kill.
	checkedCDRs, checkedBans, youngCDRs, youngBans int
}

// writeBehind is how long after the fact a record written behind (CDRs
// commit every 50 ms, bans at once on a queue of their own) must be on
// disk: generous, for a loaded CI machine.
const writeBehind = 500 * time.Millisecond

func newCallsSide() *callsSide {
	return &callsSide{ended: map[string]time.Time{}, saved: map[string]bool{}, banned: map[string]time.Time{}}
}

// drive runs the SIP side against the box of one cycle until ctx ends:
// IVR calls one after another, voicemails one after another, and one
// password guesser from a source of the cycle's own.
func (s *callsSide) drive(ctx context.Context, cycle int, sipAddr, base string) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Go(func() { s.ivrCalls(ctx, cycle, sipAddr) })
	wg.Go(func() { s.voicemails(ctx, cycle, sipAddr, base) })
	wg.Go(func() { s.guess(ctx, cycle, sipAddr, base) })
	return &wg
}

// ivrCalls calls the IVR (100), holds each call 100 ms and hangs up.
func (s *callsSide) ivrCalls(ctx context.Context, cycle int, sipAddr string) {
	for i := 0; ctx.Err() == nil; i++ {
		n := fmt.Sprintf("137%03d%05d", cycle, i)
		call, err := siptest.InviteFrom(ctx, sipAddr, "100", n)
		if err != nil {
			return
		}
		if call.Answered(ctx) == nil && sleep(ctx, 100*time.Millisecond) && call.Dialog.Bye(ctx) == nil {
			s.mu.Lock()
			s.ended[n] = time.Now()
			s.mu.Unlock()
		}
		call.Close()
	}
}

// voicemails leaves messages: 4 in the main menu, a key to skip the
// introduction, 1.5 s of tone after the beep, then #. A message is saved
// once the flow reaches its "voicemail-saved" node, which it does only
// after the message and its index are on disk (ivr's record node).
func (s *callsSide) voicemails(ctx context.Context, cycle int, sipAddr, base string) {
	for i := 0; ctx.Err() == nil; i++ {
		n := fmt.Sprintf("136%03d%05d", cycle, i)
		call, err := siptest.InviteFrom(ctx, sipAddr, "100", n)
		if err != nil {
			return
		}
		func() {
			defer call.Close()
			if call.Answered(ctx) != nil || call.StartMedia() != nil {
				return
			}
			before := savedVisits(base)
			if before < 0 || !sleep(ctx, 300*time.Millisecond) {
				return
			}
			call.SendDigits("4")
			if !sleep(ctx, 600*time.Millisecond) {
				return
			}
			call.SendDigits("5") // skips the introduction
			if !sleep(ctx, 700*time.Millisecond) {
				return
			}
			call.Send(tone.Sine(400, -12, 3*media.RateHz/2))
			if !sleep(ctx, 1600*time.Millisecond) {
				return
			}
			call.SendDigits("#")
			for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline) && sleep(ctx, 50*time.Millisecond); {
				if savedVisits(base) > before {
					s.mu.Lock()
					s.saved[n] = true
					s.mu.Unlock()
					break
				}
			}
			call.Dialog.Bye(ctx)
		}()
	}
}

// savedVisits is how often the main flow has reached voicemail-saved, -1
// when the box does not say.
func savedVisits(base string) int {
	res, err := client.Get(base + "/ivr/stats")
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	var nodes []kpi.IVRNode
	if json.NewDecoder(res.Body).Decode(&nodes) != nil {
		return -1
	}
	for _, n := range nodes {
		if n.Flow == "main" && n.Node == "voicemail-saved" {
			return int(n.Visits)
		}
	}
	return 0
}

// guess guesses 1001's password from 127.0.2.x until banned, then
// watches GET /security/bans until the ban shows.
func (s *callsSide) guess(ctx context.Context, cycle int, sipAddr, base string) {
	src := fmt.Sprintf("127.0.2.%d", 1+cycle%250)
	if _, _, _, err := siptest.Guess(src, sipAddr, "1001", 100, 2*time.Second); err != nil {
		return
	}
	for ctx.Err() == nil {
		res, err := client.Get(base + "/security/bans")
		if err != nil {
			return
		}
		var bans []store.Ban
		err = json.NewDecoder(res.Body).Decode(&bans)
		res.Body.Close()
		for _, b := range bans {
			if err == nil && b.Addr == src {
				s.mu.Lock()
				s.banned[src] = time.Now()
				s.mu.Unlock()
				return
			}
		}
		sleep(ctx, 20*time.Millisecond)
	}
}

// check compares what the box had acknowledged before it was killed at
// kill with the database: each ended call's CDR (owed after writeBehind)
// and each saved voicemail there exactly once, no call or voicemail
// twice, and each ban owed there.
func (s *callsSide) check(path string, kill time.Time) error {
	db, err := store.Open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	cdrs, err := db.CDRs(0, 1_000_000)
	if err != nil {
		return err
	}
	vms, err := db.Voicemails("main")
	if err != nil {
		return err
	}
	bans, err := db.Bans()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	calls := map[string]int{}
	seqs := map[uint64]bool{}
	for _, c := range cdrs {
		if seqs[c.Seq] {
			return fmt.Errorf("CDR %d stored twice", c.Seq)
		}
		seqs[c.Seq] = true
		if c.Direction == "in" && c.To == "100" {
			calls[c.From]++
		}
	}
	for n, k := range calls {
		if k > 1 {
			return fmt.Errorf("the call from %s has %d CDRs", n, k)
		}
	}
	for n, at := range s.ended {
		if kill.Sub(at) < writeBehind {
			s.youngCDRs++
			continue
		}
		if calls[n] != 1 {
			return fmt.Errorf("the call from %s ended %v before the kill and has %d CDRs", n, kill.Sub(at).Round(time.Millisecond), calls[n])
		}
		s.checkedCDRs++
	}
	clear(s.ended)
	left := map[string]int{}
	for _, v := range vms {
		if left[v.Caller]++; left[v.Caller] > 1 {
			return fmt.Errorf("%s's voicemail is there %d times", v.Caller, left[v.Caller])
		}
	}
	for n := range s.saved {
		if left[n] != 1 {
			return fmt.Errorf("%s was told its voicemail was saved; it is there %d times", n, left[n])
		}
	}
	banned := map[string]bool{}
	for _, b := range bans {
		banned[b.Addr] = true
	}
	for src, at := range s.banned {
		if kill.Sub(at) < writeBehind {
			s.youngBans++
			continue
		}
		if !banned[src] {
			return fmt.Errorf("%s, banned %v before the kill, is not banned after it", src, kill.Sub(at).Round(time.Millisecond))
		}
		s.checkedBans++
	}
	clear(s.banned)
	return nil
}

// sleep waits d, or less when ctx ends first; it reports whether ctx is
// still going.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}
