package prescan

import (
	"bytes"
	"io"
	"unicode"
)

// gateBoundary is the boundary the gate writes for go-message; content
// lines that start with it are escaped.
const gateBoundary = "=_prescan_="

// gate sits between a multipart body and go-message's MultipartReader. It
// finds the boundary lines the way enmime does and rewrites them into
// lines go-message reads the same way, so that go-message splits the body
// where enmime will (or more often), and it never lets go-message read a
// part header:
//
//   - a line holding "--boundary" and a space byte (RFC 2046 §5.1.1 allows
//     only trailing white space; enmime takes any, and before the first
//     part anywhere in the line) becomes "--gateBoundary", then an empty
//     header section: the real one is read by entity with its limit;
//   - a line starting with "--boundary--", or holding it anywhere before
//     the first part, becomes the close delimiter, and ends the stream;
//   - a content line that go-message would take for a boundary line
//     ("--boundary-x", "--gateBoundary") gets a leading space;
//   - the preamble is dropped; at the end of the input, or on any read
//     error, a close delimiter is added, so NextPart always ends in io.EOF.
//
// Line breaks of the rewritten lines are LF, which go-message then expects
// (it takes CR LF as content with a trailing CR). The gate keeps at most a
// few KiB: the current read, and the start of a line until it knows what
// the line is.
type gate struct {
	src     io.Reader
	s       *scanner
	dash    []byte // "--" + the real boundary
	term    []byte // dash + "--"
	need    int    // bytes of a line's start needed to decide on escaping it
	in      []byte // the current read
	win     []byte // held + the segment being looked at
	held    []byte // bytes of the current line not yet written
	out     []byte // output not yet read, from off
	off     int
	atStart bool // held starts at the start of a line
	skip    bool // dropping the rest of the current line
	pre     bool // before the first delimiter
	done    bool // the close delimiter is written
}

var (
	gateDash      = []byte("--" + gateBoundary)
	gateDelimiter = []byte("--" + gateBoundary + "\n\n")
	gateClose     = []byte("\n--" + gateBoundary + "--")
)

func newGate(src io.Reader, boundary string, s *scanner) *gate {
	dash := []byte("--" + boundary + "--")
	return &gate{
		src: src, s: s, dash: dash[:len(dash)-2], term: dash, need: max(len(dash), len(gateDash)+1),
		in: make([]byte, 4096), atStart: true, pre: true,
	}
}

func (g *gate) Read(p []byte) (int, error) {
	for g.off == len(g.out) {
		if g.s.err != nil {
			return 0, g.s.err
		}
		if g.done {
			return 0, io.EOF
		}
		g.out, g.off = g.out[:0], 0
		n, err := g.src.Read(g.in)
		g.process(g.in[:n])
		if err != nil && !g.done {
			if !g.pre {
				g.out = append(g.out, g.held...)
			}
			g.close()
		}
	}
	n := copy(p, g.out[g.off:])
	g.off += n
	return n, nil
}

// process looks at b line by line. Whole lines up to the next occurrence
// of the boundary (or of gateBoundary) go through at once: only lines
// holding one can change.
func (g *gate) process(b []byte) {
	nextDash, nextGate := -2, -2 // where the next one is, from pos; -1: none; -2: not looked for
	for pos := 0; pos < len(b) && !g.done; {
		if !g.skip && len(g.held) == 0 {
			if nextDash != -1 && nextDash < pos {
				nextDash = indexFrom(b, g.dash, pos)
			}
			if nextGate != -1 && nextGate < pos {
				nextGate = indexFrom(b, gateDash, pos)
			}
			limit := len(b)
			for _, next := range []int{nextDash, nextGate} {
				if next >= 0 {
					limit = min(limit, next)
				}
			}
			if i := bytes.LastIndexByte(b[pos:limit], '\n'); i >= 0 {
				if !g.pre {
					g.out = append(g.out, b[pos:pos+i+1]...)
				}
				pos += i + 1
				g.atStart = true
				continue
			}
		}
		i := bytes.IndexByte(b[pos:], '\n')
		seg := b[pos:]
		if i >= 0 {
			seg = seg[:i+1]
		}
		pos += len(seg)
		if g.skip {
			if i >= 0 {
				g.skip, g.atStart = false, true
			}
			continue
		}
		g.segment(seg, i >= 0)
	}
}

// indexFrom is bytes.Index of sep in b[from:], as an index into b.
func indexFrom(b, sep []byte, from int) int {
	i := bytes.Index(b[from:], sep)
	if i < 0 {
		return -1
	}
	return from + i
}

// segment looks at the next piece of the current line; complete says that
// it ends the line.
func (g *gate) segment(seg []byte, complete bool) {
	g.win = append(append(g.win[:0], g.held...), seg...)
	w := g.win
	g.held = g.held[:0]
	if g.atStart && !complete && len(w) < g.need {
		g.held = append(g.held, w...)
		return
	}
	if (g.atStart && bytes.HasPrefix(w, g.term)) || (g.pre && bytes.Contains(w, g.term)) {
		g.close()
		return
	}
	k := g.delimiter(w)
	if g.atStart && k != 0 && !g.pre && (bytes.HasPrefix(w, g.term[:len(g.dash)+1]) || bytes.HasPrefix(w, gateDash)) {
		g.out = append(g.out, ' ') // content, not a boundary line
	}
	switch {
	case k >= 0:
		if !g.pre {
			g.out = append(g.out, w[:k]...)
			if k > 0 || !g.atStart {
				g.out = append(g.out, '\n')
			}
		}
		g.out = append(g.out, gateDelimiter...)
		g.pre, g.skip, g.atStart = false, !complete, complete
	case complete:
		if !g.pre {
			g.out = append(g.out, w...)
		}
		g.atStart = true
	default:
		// The last bytes may start a boundary: hold them.
		keep := min(len(w), len(g.dash)+1)
		if !g.pre {
			g.out = append(g.out, w[:len(w)-keep]...)
		}
		g.held = append(g.held, w[len(w)-keep:]...)
		g.atStart = false
	}
}

// delimiter returns where in w the dash boundary starts followed by a
// white space byte (enmime's test, unicode.IsSpace on the byte), or -1.
func (g *gate) delimiter(w []byte) int {
	for off := 0; ; {
		i := bytes.Index(w[off:], g.dash)
		if i < 0 {
			return -1
		}
		k := off + i
		if k+len(g.dash) < len(w) && unicode.IsSpace(rune(w[k+len(g.dash)])) {
			return k
		}
		off = k + 1
	}
}

// close writes the close delimiter; the stream ends there.
func (g *gate) close() {
	g.out = append(g.out, gateClose...)
	g.done = true
}
