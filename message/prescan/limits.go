package prescan

import (
	"errors"
	"fmt"
)

// Limits bound what the pre-scan accepts; zero values mean the defaults.
type Limits struct {
	// Depth is how deep multiparts and attached messages (message/rfc822,
	// message/global) may nest: 20. A multipart at the top is one level.
	Depth int
	// Parts is how many MIME body parts the message may hold in all, at
	// every level: 500.
	Parts int
	// HeaderBytes is the size of one header section, the top one or a
	// part's, with its closing blank line: 256 KiB, Exchange's limit.
	HeaderBytes int
	// LineBytes is the length of one line anywhere, line break not
	// counted: 1 MiB. RFC 5322 §2.1.1 says 998, but real mail breaks it
	// (HTML on one line, base64 without line breaks).
	LineBytes int
	// DecodedBytes bounds the size of all leaf bodies together once their
	// Content-Transfer-Encoding is undone: 100 MiB (mailin.Intake uses 4 × its
	// MaxBytes). Leaves are not decoded: their encoded size is counted, an
	// upper bound (base64 decodes to 3/4, quoted-printable to at most its
	// size, other encodings keep it), so leaves over the limit as sent are
	// refused even if they would decode below it. Leaves are no bigger than
	// the message, so this bites only when set below its size. Encoded
	// attached messages are decoded, to be scanned.
	DecodedBytes int64
	// DepthBytes bounds the deepest nesting times the size of the message,
	// in bytes: 128 MiB. enmime's work grows with both (about 10 ms per MiB
	// per level on this machine: a 25 MiB mail at depth 5 takes 1.3 s), so
	// a big mail may nest 5 levels, a small one up to Depth.
	DepthBytes int64
}

// The default limits. Real mail stays far below them: over the corpus in
// ../shared/corpus (1,040 messages) the most is 9 levels and 28 parts
// (rt/nested-mime-sample), 1.2 MB decoded, 28 KB in a line, and 133 KiB in
// a header section (mimekit stack-overflow.txt, a To field of thousands of
// encoded-words; the next largest is 45 KiB), while enmime takes
// milliseconds over mail at the limits of structure (500 parts, 20 levels).
const (
	DefaultDepth        = 20        // Limits.Depth
	DefaultParts        = 500       // Limits.Parts
	DefaultHeaderBytes  = 256 << 10 // Limits.HeaderBytes
	DefaultLineBytes    = 1 << 20   // Limits.LineBytes
	DefaultDecodedBytes = 100 << 20 // Limits.DecodedBytes
	DefaultDepthBytes   = 128 << 20 // Limits.DepthBytes
)

// withDefaults returns l with its zero fields set to the defaults.
func (l Limits) withDefaults() Limits {
	if l.Depth <= 0 {
		l.Depth = DefaultDepth
	}
	if l.Parts <= 0 {
		l.Parts = DefaultParts
	}
	if l.HeaderBytes <= 0 {
		l.HeaderBytes = DefaultHeaderBytes
	}
	if l.LineBytes <= 0 {
		l.LineBytes = DefaultLineBytes
	}
	if l.DecodedBytes <= 0 {
		l.DecodedBytes = DefaultDecodedBytes
	}
	if l.DepthBytes <= 0 {
		l.DepthBytes = DefaultDepthBytes
	}
	return l
}

// ErrTooComplex is wrapped by every refusal of the pre-scan: the message
// is over one of its Limits.
var ErrTooComplex = errors.New("message too complex")

// ErrPanic marks an error Check made from a recovered panic, wrapped with
// ErrTooComplex so that the message is refused: always a bug to fix. Tests
// look for it, and intake counts it (PanicWhere).
var ErrPanic = errors.New("panic")

// PanicWhere is where a panic recovered by Check happened, as the intake
// names it to its Observer (postdesk_panics_total{where}); like the other
// values it names the package and the step. Check does
// not report it itself: its caller does, on an error wrapping ErrPanic.
const PanicWhere = "prescan.check"

// LimitError says which limit a message is over and the value the pre-scan
// had seen when it stopped (the message may hold more: the scan stops at
// the first value over the limit).
type LimitError struct {
	Limit string // the Limits field: "Depth", "Parts", "HeaderBytes", "LineBytes", "DecodedBytes" or "DepthBytes"
	Seen  int64  // the value seen when the scan stopped, over Max
	Max   int64  // the limit in force
}

// Error says the limit and the value seen, in words, after ErrTooComplex.
func (e *LimitError) Error() string {
	what := map[string]string{
		"Depth":        "nesting depth %d",
		"Parts":        "%d parts",
		"HeaderBytes":  "a header section of %d+ bytes",
		"LineBytes":    "a line of %d bytes",
		"DecodedBytes": "leaf bodies of %d+ bytes (encoded, an upper bound of decoded)",
		"DepthBytes":   "nesting depth × size %d bytes",
	}[e.Limit]
	if what == "" {
		what = e.Limit + " %d"
	}
	return fmt.Sprintf("%v: "+what+", limit %d", ErrTooComplex, e.Seen, e.Max)
}

// Unwrap returns ErrTooComplex.
func (e *LimitError) Unwrap() error { return ErrTooComplex }
