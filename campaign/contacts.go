package campaign

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"jinyin/store"
)

// importBatch is how many contacts an import commits at once.
const importBatch = 500

// maxVars bounds a contact's variables (the columns after number and tz).
const maxVars = 32

// ImportCSV reads a contact list, streamed: a header row naming the
// columns, one of them "number" (digits, with an optional leading +),
// optionally "tz" (an IANA zone, "Asia/Shanghai") and "consent" (the
// evidence that the person agreed to be called, kept with the contact);
// every other column is a variable the flow may read back. Rows go to add in batches. A bad
// row stops the import with its line; the batches before it stay added,
// and the count says how many.
func ImportCSV(r io.Reader, add func([]store.Contact) error) (int, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return 0, fmt.Errorf("contacts: the header row: %w", err)
	}
	head = append([]string(nil), head...)
	number, tz, consent := -1, -1, -1
	for i, h := range head {
		head[i] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) // a BOM from a spreadsheet
		switch head[i] {
		case "number":
			number = i
		case "tz":
			tz = i
		case "consent":
			consent = i
		}
	}
	if number < 0 {
		return 0, errors.New(`contacts: the header row has no "number" column`)
	}
	if len(head) > maxVars+3 {
		return 0, fmt.Errorf("contacts: %d columns, at most %d", len(head), maxVars+3)
	}
	added := 0
	batch := make([]store.Contact, 0, importBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := add(batch); err != nil {
			return err
		}
		added += len(batch)
		batch = batch[:0]
		return nil
	}
	for {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil { // a csv.ParseError names its line
			return added, errors.Join(fmt.Errorf("contacts: %w", err), flush())
		}
		line, _ := cr.FieldPos(0)
		c := store.Contact{Number: strings.TrimSpace(row[number])}
		if !dialable(c.Number) {
			return added, errors.Join(fmt.Errorf("contacts: line %d: %q is not a number to dial", line, c.Number), flush())
		}
		for i, v := range row {
			switch i {
			case number:
			case consent:
				c.Consent = strings.TrimSpace(v)
			case tz:
				c.TZ = strings.TrimSpace(v)
				if _, err := time.LoadLocation(c.TZ); err != nil {
					return added, errors.Join(fmt.Errorf("contacts: line %d: time zone %q: %v", line, c.TZ, err), flush())
				}
			default:
				if c.Vars == nil {
					c.Vars = make(map[string]string, len(row))
				}
				c.Vars[head[i]] = v
			}
		}
		if batch = append(batch, c); len(batch) == importBatch {
			if err := flush(); err != nil {
				return added, err
			}
		}
	}
	return added, flush()
}

// dialable is a number the box may dial: 3 to 20 digits, an optional +.
func dialable(n string) bool {
	d := strings.TrimPrefix(n, "+")
	if len(d) < 3 || len(d) > 20 {
		return false
	}
	return strings.Trim(d, "0123456789") == ""
}
