package campaign

import (
	"errors"
	"strings"
	"testing"

	"jinyin/store"
)

// TestImportCSV: the header names the columns in any order (a BOM from a
// spreadsheet ignored); number and tz are read, the rest are variables;
// a bad row stops the import at its line with the rows before it kept,
// in batches.
func TestImportCSV(t *testing.T) {
	var got []store.Contact
	batches := 0
	add := func(cs []store.Contact) error { got = append(got, cs...); batches++; return nil }
	n, err := ImportCSV(strings.NewReader("\ufefforder, number ,tz,consent\nA1,13900000001,Asia/Shanghai, 2026-10-02 web form \nA2,+8613900000002,,\n"), add)
	if err != nil || n != 2 || len(got) != 2 || batches != 1 {
		t.Fatalf("import: %d, %v, %+v", n, err, got)
	}
	if c := got[0]; c.Number != "13900000001" || c.TZ != "Asia/Shanghai" || c.Vars["order"] != "A1" || len(c.Vars) != 1 || c.Consent != "2026-10-02 web form" {
		t.Errorf("first contact %+v", c)
	}
	if c := got[1]; c.Number != "+8613900000002" || c.TZ != "" || c.Consent != "" {
		t.Errorf("second contact %+v", c)
	}
	for _, c := range []struct{ in, why string }{
		{"", "header row"},
		{"phone\n139\n", `no "number" column`},
		{"number\n13900000001\n1390000000x\n", "line 3"},
		{"number\n12\n", "line 2"},
		{"number,tz\n13900000001,Mars/Olympus\n", "time zone"},
		{"number\n\"139\n", "contacts:"},
		{"number" + strings.Repeat(",v", 40) + "\n", "columns"},
	} {
		got = nil
		n, err := ImportCSV(strings.NewReader(c.in), add)
		if err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%q: %v, want an error about %s", c.in, err, c.why)
		}
		if n != len(got) {
			t.Errorf("%q: %d said added, %d added", c.in, n, len(got))
		}
	}
	// 1,200 rows: batches of 500, and a failing store stops the import.
	var b strings.Builder
	b.WriteString("number\n")
	for i := range 1200 {
		b.WriteString("139" + strings.Repeat("0", 4) + string(rune('0'+i/1000)) + string(rune('0'+i/100%10)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10)) + "\n")
	}
	got, batches = nil, 0
	if n, err := ImportCSV(strings.NewReader(b.String()), add); n != 1200 || err != nil || batches != 3 {
		t.Errorf("1,200 rows: %d in %d batches, %v", n, batches, err)
	}
	full := errors.New("disk full")
	calls := 0
	n, err = ImportCSV(strings.NewReader(b.String()), func([]store.Contact) error {
		if calls++; calls == 2 {
			return full
		}
		return nil
	})
	if !errors.Is(err, full) || n != 500 {
		t.Errorf("a store failing at the second batch: %d added, %v", n, err)
	}
}

// FuzzImportCSV: any input gives contacts that can be dialled, counted
// as added, or an error; never a panic.
func FuzzImportCSV(f *testing.F) {
	f.Add("number,order\n13900000001,A1\n")
	f.Add("tz,number\nAsia/Shanghai,+8613900000002\n")
	f.Add("number\n\"13900000001\"\"\n")
	f.Fuzz(func(t *testing.T, in string) {
		added := 0
		n, err := ImportCSV(strings.NewReader(in), func(cs []store.Contact) error {
			for _, c := range cs {
				if !dialable(c.Number) {
					t.Fatalf("imported %q", c.Number)
				}
			}
			added += len(cs)
			return nil
		})
		if n != added {
			t.Fatalf("said %d added, added %d (err %v)", n, added, err)
		}
	})
}
