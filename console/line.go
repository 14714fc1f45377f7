package console

import "strings"

// editor is the line being typed at the console: a VT100 line editor fed
// one byte at a time. It handles printable characters, Backspace, Ctrl-U
// (erase the line), Ctrl-C (abandon it), left and right arrows, up and
// down through the history, Tab (complete) and ? (help), and echoes what
// a terminal must show. Hidden lines (passwords) echo nothing.
type editor struct {
	buf     []rune
	pos     int
	hidden  bool
	history []string
	hpos    int
	esc     []byte // an escape sequence being read
	out     strings.Builder
}

// What a key did to the line.
type keyResult int

const (
	keyNone     keyResult = iota
	keyEnter              // the line is complete
	keyCancel             // Ctrl-C: the line is abandoned
	keyComplete           // Tab
	keyHelp               // ?
	keyEOF                // Ctrl-D on an empty line
)

// key feeds one byte; what to send back to the terminal accumulates in
// e.out.
func (e *editor) key(b byte) keyResult {
	if len(e.esc) > 0 || b == 0x1b {
		e.esc = append(e.esc, b)
		if len(e.esc) == 3 {
			seq := string(e.esc[1:])
			e.esc = e.esc[:0]
			switch seq {
			case "[A":
				e.recall(-1)
			case "[B":
				e.recall(1)
			case "[C":
				if e.pos < len(e.buf) {
					e.echo(string(e.buf[e.pos]))
					e.pos++
				}
			case "[D":
				if e.pos > 0 {
					e.pos--
					e.echo("\b")
				}
			}
		} else if len(e.esc) == 2 && b != '[' {
			e.esc = e.esc[:0]
		}
		return keyNone
	}
	switch b {
	case '\r', '\n':
		return keyEnter
	case 0x03:
		return keyCancel
	case 0x04:
		if len(e.buf) == 0 {
			return keyEOF
		}
	case 0x15: // Ctrl-U
		e.set("")
	case 0x7f, 0x08:
		if e.pos > 0 {
			e.buf = append(e.buf[:e.pos-1], e.buf[e.pos:]...)
			e.pos--
			e.echo("\b")
			e.redrawTail(1)
		}
	case '\t':
		if !e.hidden {
			return keyComplete
		}
	case '?':
		if !e.hidden {
			return keyHelp
		}
		e.insert('?')
	default:
		if b >= 0x20 && b < 0x7f {
			e.insert(rune(b))
		}
	}
	return keyNone
}

func (e *editor) echo(s string) {
	if !e.hidden {
		e.out.WriteString(s)
	}
}

func (e *editor) insert(r rune) {
	e.buf = append(e.buf[:e.pos], append([]rune{r}, e.buf[e.pos:]...)...)
	e.pos++
	e.echo(string(r))
	e.redrawTail(0)
}

// redrawTail rewrites the text after the cursor, blanks extra cells, and
// moves the cursor back.
func (e *editor) redrawTail(extra int) {
	tail := string(e.buf[e.pos:])
	e.echo(tail + strings.Repeat(" ", extra) + strings.Repeat("\b", len([]rune(tail))+extra))
}

// set replaces the whole line.
func (e *editor) set(s string) {
	e.echo(strings.Repeat("\b", e.pos) + strings.Repeat(" ", len(e.buf)) + strings.Repeat("\b", len(e.buf)))
	e.buf, e.pos = []rune(s), len([]rune(s))
	e.echo(s)
}

func (e *editor) recall(dir int) {
	if e.hidden || len(e.history) == 0 {
		return
	}
	e.hpos = min(max(e.hpos+dir, 0), len(e.history))
	if e.hpos == len(e.history) {
		e.set("")
		return
	}
	e.set(e.history[e.hpos])
}

// take returns the line and starts a new one, remembering it.
func (e *editor) take() string {
	s := string(e.buf)
	e.buf, e.pos = e.buf[:0], 0
	if !e.hidden && strings.TrimSpace(s) != "" && (len(e.history) == 0 || e.history[len(e.history)-1] != s) {
		e.history = append(e.history, s)
		if len(e.history) > 100 {
			e.history = e.history[1:]
		}
	}
	e.hpos = len(e.history)
	return s
}

func (e *editor) line() string { return string(e.buf) }

func (e *editor) flush() string {
	s := e.out.String()
	e.out.Reset()
	return s
}
