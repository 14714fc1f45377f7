package kpi

import (
	"bytes"
	"testing"
	"time"

	"jinyin/store"
)

// TestMasterCSV: the golden lines are written by hand from cdr_csv's rules
// (every text field quoted, quotes doubled, an unset time an empty field
// without quotes, duration and billsec bare integers, no trailing comma;
// the caller ID built as Asterisk merges it, quotes in the name left as
// they are, then quoted like every field).
func TestMasterCSV(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	t0 := time.Date(2026, 11, 30, 1, 59, 58, 0, time.UTC) // 09:59:58 in Beijing
	recs := []store.CDR{
		{Call: "a1", Direction: "in", From: "13800138000", To: "100", Trunk: "span1", Start: t0, Answer: t0.Add(2 * time.Second), End: t0.Add(65*time.Second + 900*time.Millisecond), Disposition: "answered"},
		{Call: "b2", Direction: "in", From: `x"y`, To: "1002", Start: t0, End: t0.Add(7 * time.Second), Disposition: "cancelled"},
		{Call: "c3", Direction: "out", From: "1001", To: "4008", Trunk: "carrier", Start: t0, End: t0, Disposition: "refused"},
		{Call: "d4", Direction: "in", To: "100", Start: t0, End: t0.Add(time.Second), Disposition: "failed"},
	}
	want := `"","13800138000","100","","""13800138000"" <13800138000>","span1","","","","2026-11-30 09:59:58","2026-11-30 10:00:00","2026-11-30 10:01:03",65,63,"ANSWERED","DOCUMENTATION","a1",""
"","x""y","1002","","""x""y"" <x""y>","","","","","2026-11-30 09:59:58",,"2026-11-30 10:00:05",7,0,"NO ANSWER","DOCUMENTATION","b2",""
"","1001","4008","","""1001"" <1001>","carrier","","","","2026-11-30 09:59:58",,"2026-11-30 09:59:58",0,0,"BUSY","DOCUMENTATION","c3",""
"","","100","","","","","","","2026-11-30 09:59:58",,"2026-11-30 09:59:59",1,0,"FAILED","DOCUMENTATION","d4",""
`
	var b bytes.Buffer
	m := NewMasterCSV(&b, cst)
	for _, r := range recs {
		if err := m.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Flush(); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
