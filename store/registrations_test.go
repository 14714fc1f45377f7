package store

import (
	"reflect"
	"testing"
	"time"
)

func TestBindingsRoundTripAndDelete(t *testing.T) {
	db, path := openTest(t)
	if got, err := db.Bindings(); err != nil || len(got) != 0 {
		t.Fatalf("empty: %v %v", got, err)
	}
	desk := Binding{Contact: "sip:1001@192.168.1.20:5060", Source: "192.168.1.20:5060", Transport: "udp",
		CallID: "a84b4c76e66710", CSeq: 314159, Expires: t0.Add(time.Hour), Since: t0}
	soft := Binding{Contact: "sip:1001@10.0.0.5:5062;transport=tcp", Source: "10.0.0.5:50000", Transport: "tcp", CallID: "x", CSeq: 1, Expires: t0, Since: t0}
	if err := db.SetBindings("1001", []Binding{desk, soft}); err != nil {
		t.Fatal(err)
	}
	db.SetBindings("1002", []Binding{{Contact: "sip:1002@192.168.1.21"}})
	db.SetBindings("1002", []Binding{{Contact: "sip:1002@192.168.1.22", CSeq: 2}}) // replaced, not added to
	db.Close()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Bindings()
	want := map[string][]Binding{"1001": {desk, soft}, "1002": {{Contact: "sip:1002@192.168.1.22", CSeq: 2}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after restart %+v %v", got, err)
	}
	if err := db.SetBindings("1001", nil); err != nil {
		t.Fatal(err)
	}
	if err := db.SetBindings("1003", []Binding{}); err != nil {
		t.Errorf("no bindings for an extension never stored: %v", err)
	}
	if got, _ := db.Bindings(); len(got) != 1 || got["1002"] == nil {
		t.Errorf("after unregistering 1001: %+v", got)
	}
}
