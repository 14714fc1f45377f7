package store

import (
	"slices"
	"testing"
	"time"
)

func TestTiersAndSubscriptions(t *testing.T) {
	db, _ := openTest(t)
	if err := db.SetTier("13800000001", "key-account"); err != nil {
		t.Fatal(err)
	}
	if tier, _ := db.Tier("13800000001"); tier != "key-account" {
		t.Errorf("tier %q", tier)
	}
	if tier, _ := db.Tier("13800000002"); tier != "" {
		t.Errorf("unknown caller has tier %q", tier)
	}
	now := time.Now()
	for _, n := range []string{"2", "1", "3"} {
		db.Subscribe("notices", n, true, now)
	}
	db.Subscribe("other", "9", true, now)
	db.Subscribe("notices", "3", false, now)
	if got, _ := db.Subscribers("notices"); !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("subscribers %v", got)
	}
	if err := db.Subscribe("notices", "", true, now); err == nil {
		t.Error("empty number accepted")
	}
}

func TestVoicemailAndCounts(t *testing.T) {
	db, _ := openTest(t)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for i, id := range []string{"b", "a"} {
		if err := db.AddVoicemail(Voicemail{Mailbox: "main", ID: id, Caller: "1380", Time: at.Add(time.Duration(i) * time.Minute), File: "voicemail/main/" + id + ".wav"}); err != nil {
			t.Fatal(err)
		}
	}
	db.AddVoicemail(Voicemail{Mailbox: "mainx", ID: "z"})
	if err := db.MarkHeard("main", "b"); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkHeard("main", "nope"); err != ErrNotFound {
		t.Errorf("marking a missing message: %v", err)
	}
	vms, _ := db.Voicemails("main")
	if len(vms) != 2 || vms[0].ID != "a" || vms[0].Heard || !vms[1].Heard || vms[1].Caller != "1380" {
		t.Errorf("voicemails %+v", vms)
	}
	db.AddIVRCounts([]IVRCount{{"main", "menu", "visit", 3}, {"main", "menu", "key:2", 1}})
	db.AddIVRCounts([]IVRCount{{"main", "menu", "visit", 2}})
	got, _ := db.IVRCounts()
	if len(got) != 2 || got[0] != (IVRCount{"main", "menu", "visit", 5}) || got[1].N != 1 {
		t.Errorf("counts %+v", got)
	}
}

func TestGetOne(t *testing.T) {
	db, _ := openTest(t)
	db.AddVoicemail(Voicemail{Mailbox: "main", ID: "x", Caller: "1"})
	db.AddRecording(Recording{ID: "r", Agent: "1001"})
	if v, err := db.Voicemail("main", "x"); err != nil || v.Caller != "1" {
		t.Errorf("voicemail %+v %v", v, err)
	}
	if _, err := db.Voicemail("other", "x"); err != ErrNotFound {
		t.Errorf("voicemail of another mailbox: %v", err)
	}
	if r, err := db.Recording("r"); err != nil || r.Agent != "1001" {
		t.Errorf("recording %+v %v", r, err)
	}
}
