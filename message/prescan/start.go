package prescan

import "bytes"

// maxJunkLines is how many leading lines that are not header fields
// SkipPrefix drops to reach the header.
const maxJunkLines = 3

// SkipPrefix skips a UTF-8 byte order mark, an mbox "From " separator line
// (RFC 4155) and up to 3 other lines that are not header fields (a "----
// Original email message ----" banner), none of which are part of the
// message; skipped counts the junk lines. Check and message.Parse both
// read the message from where it returns, so that they see the same one.
func SkipPrefix(raw []byte) (body []byte, skipped int) {
	b := bytes.TrimPrefix(raw, []byte("\xEF\xBB\xBF"))
	if isMboxFromLine(b) {
		b = skipLine(b)
	}
	rest := b
	for n := 0; n < maxJunkLines && len(rest) > 0; n++ {
		if isFieldLine(rest) {
			return rest, n
		}
		if rest[0] == '\r' || rest[0] == '\n' {
			break // the header ends before any field: keep what there is
		}
		rest = skipLine(rest)
	}
	return b, 0
}

// isMboxFromLine reports whether b starts with an mbox separator "From
// sender date", not with a From field written "From : sender" (obsolete
// syntax allows white space before the colon).
func isMboxFromLine(b []byte) bool {
	if !bytes.HasPrefix(b, []byte("From ")) {
		return false
	}
	rest := bytes.TrimLeft(b[len("From "):], " \t")
	return len(rest) > 0 && rest[0] != ':'
}

// skipLine returns b after its first line.
func skipLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return nil
}

// isFieldLine reports whether b starts with a header field: a name of
// printable ASCII other than ':', optional white space (RFC 5322 §4.5.3
// obsolete syntax), then ':'.
func isFieldLine(b []byte) bool {
	name := true
	for i, c := range b {
		switch {
		case c == ':':
			return i > 0
		case c == ' ' || c == '\t':
			if i == 0 {
				return false
			}
			name = false
		case c < ' ' || c >= 0x7F || !name:
			return false
		}
	}
	return false
}
