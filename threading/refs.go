package threading

import (
	"strings"
	"unicode/utf8"
)

// NormalizeMessageID returns msg-id s in the form postdesk stores and
// compares: white space trimmed, one leading '<' and one trailing '>'
// removed (also when only one of them is there, as in a truncated header),
// and the domain part (after the last '@') lower-cased. The local part is
// kept as is: it is case-sensitive. "" stays "".
func NormalizeMessageID(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "<")
	s = strings.TrimSuffix(s, ">")
	s = strings.TrimSpace(s)
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s
	}
	domain := strings.ToLower(s[at+1:])
	if domain == s[at+1:] {
		return s
	}
	return s[:at+1] + domain
}

// ParseMessageIDs extracts the msg-ids of an In-Reply-To or References header
// value (RFC 5322 §3.6.4), normalised with NormalizeMessageID, in order, with
// duplicates removed. It is tolerant of what real mail contains, like mox's
// message/referencedids.go: comments in parentheses and quoted phrases (the
// obsolete "Alice's message of …" form, RFC 5322 §4.5.4) are skipped; white space
// inside angle brackets (from headers folded in the middle of an id) is
// removed; an id whose '>' is missing is read up to the next white space or
// '<'; ids without angle brackets are accepted when they contain an '@' and
// are separated by white space or commas. An empty or garbage header gives
// nil. The result never contains '<', '>' or white space. It never panics.
func ParseMessageIDs(header string) []string {
	var p idParser
	s := header
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '(':
			i = skipComment(s, i)
		case '"':
			i = skipQuoted(s, i)
		case '<':
			i = p.bracketed(s, i+1)
		case '>', ',':
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if isSpace(r) {
				i += size
				continue
			}
			end := i + bareLen(s[i:])
			p.bare(s[i:end])
			i = end
		}
	}
	return p.ids
}

// idParser collects the msg-ids ParseMessageIDs finds.
type idParser struct {
	ids  []string
	seen map[string]bool
}

// bracketed reads the msg-id that starts at offset i of s, just after a '<',
// and returns the offset where parsing continues.
func (p *idParser) bracketed(s string, i int) int {
	j := strings.IndexAny(s[i:], "<>")
	if j < 0 || s[i+j] == '<' {
		// No closing bracket before the next id or the end: a truncated or
		// sloppy id. Read it as bare words.
		end := i + bareLen(s[i:])
		p.bare(s[i:end])
		return end
	}
	p.add(removeSpace(dropComments(s[i : i+j])))
	return i + j + 1
}

// dropComments removes parenthesised comments from inside a msg-id, which
// the obsolete syntax allows (RFC 5322 §4.5.4, example in Appendix A.6.3).
func dropComments(id string) string {
	if !strings.Contains(id, "(") {
		return id
	}
	var b strings.Builder
	for i := 0; i < len(id); {
		if id[i] == '(' {
			i = skipComment(id, i)
			continue
		}
		b.WriteByte(id[i])
		i++
	}
	return b.String()
}

// bare adds word, a msg-id without angle brackets, if it has an '@' with
// something on both sides.
func (p *idParser) bare(word string) {
	at := strings.LastIndexByte(word, '@')
	if at > 0 && at < len(word)-1 {
		p.add(word)
	}
}

// add appends id, normalised, unless it is empty or already there.
func (p *idParser) add(id string) {
	id = NormalizeMessageID(id)
	if id == "" || p.seen[id] {
		return
	}
	if p.seen == nil {
		p.seen = make(map[string]bool)
	}
	p.seen[id] = true
	p.ids = append(p.ids, id)
}

// bareLen returns the length of the word at the start of s: everything up to
// white space, a comma, an angle bracket or an opening parenthesis.
func bareLen(s string) int {
	i := 0
	for i < len(s) {
		switch s[i] {
		case ',', '<', '>', '(':
			return i
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if isSpace(r) {
			return i
		}
		i += size
	}
	return i
}

// removeSpace returns s without any white space. Invalid UTF-8 bytes become
// U+FFFD, so that removing a space between two of them cannot join them into
// a new white space character ("\xc2 \xa0" would become U+00A0).
func removeSpace(s string) string {
	if !strings.ContainsFunc(s, isSpace) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case isSpace(r):
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// skipQuoted returns the offset just after the quoted string that starts with
// the '"' at offset i of s (RFC 5322 §3.2.4). An unclosed quote runs to the end.
func skipQuoted(s string, i int) int {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(s)
}

// skipComment returns the offset just after the comment that starts with the
// '(' at offset i of s (RFC 5322 §3.2.2: comments nest, and a backslash quotes
// the next character). An unclosed comment runs to the end.
func skipComment(s string, i int) int {
	depth := 0
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(s)
}
