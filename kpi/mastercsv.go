package kpi

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"

	"jinyin/store"
)

// MasterCSV writes CDRs as Asterisk's cdr_csv writes Master.csv, so that
// billing and reporting tools that read Asterisk's file read the box's:
// one line per call, the columns accountcode, src, dst, dcontext, clid,
// channel, dstchannel, lastapp, lastdata, start, answer, end, duration,
// billsec, disposition, amaflags, uniqueid, userfield. Text columns are in
// double quotes with quotes doubled; a time is "YYYY-MM-DD HH:MM:SS" in
// the box's zone, and empty (no quotes) when it never happened; duration
// and billsec are whole seconds, unquoted. It holds one line at a time.
type MasterCSV struct {
	w   *bufio.Writer
	loc *time.Location
	b   []byte
}

// NewMasterCSV writes to w, with times in loc.
func NewMasterCSV(w io.Writer, loc *time.Location) *MasterCSV {
	return &MasterCSV{w: bufio.NewWriter(w), loc: loc}
}

// Write adds one record. The box's CDR has no accountcode, context or
// application, so those are empty; the channel is the trunk, span or port
// the call used ("" for phone-to-phone); the caller ID is Asterisk's
// `"NAME" <NUMBER>` with the number as both.
func (m *MasterCSV) Write(c store.CDR) error {
	b := m.b[:0]
	str := func(s string) {
		b = append(b, '"')
		b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
		b = append(b, '"', ',')
	}
	date := func(t time.Time) {
		if !t.IsZero() {
			str(t.In(m.loc).Format(time.DateTime))
			return
		}
		b = append(b, ',')
	}
	clid := ""
	if c.From != "" {
		clid = `"` + c.From + `" <` + c.From + `>`
	}
	str("")     // accountcode
	str(c.From) // src
	str(c.To)   // dst
	str("")     // dcontext
	str(clid)
	str(c.Trunk) // channel
	str("")      // dstchannel
	str("")      // lastapp
	str("")      // lastdata
	date(c.Start)
	date(c.Answer)
	date(c.End)
	b = strconv.AppendInt(b, int64(c.End.Sub(c.Start)/time.Second), 10)
	b = append(b, ',')
	var bill int64
	if !c.Answer.IsZero() {
		bill = int64(c.End.Sub(c.Answer) / time.Second)
	}
	b = strconv.AppendInt(b, bill, 10)
	b = append(b, ',')
	str(disposition(c.Disposition))
	str("DOCUMENTATION") // amaflags: Asterisk's default
	str(c.Call)          // uniqueid
	str("")              // userfield
	b[len(b)-1] = '\n'   // the last comma
	m.b = b
	_, err := m.w.Write(b)
	return err
}

// Flush writes out what is buffered.
func (m *MasterCSV) Flush() error { return m.w.Flush() }

// disposition maps the box's dispositions to Asterisk's: a call nobody
// answered (the caller gave up) is NO ANSWER, one the box or the far end
// refused (busy, unknown number, no channel) BUSY, one that failed FAILED.
func disposition(d string) string {
	switch d {
	case "answered":
		return "ANSWERED"
	case "cancelled":
		return "NO ANSWER"
	case "refused":
		return "BUSY"
	}
	return "FAILED"
}
