package threading

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// defaultWord is the tag word used when none is configured.
const defaultWord = "Case"

// Tagger formats and finds the case tag shown in subjects, e.g. "[Case #1042]".
// The zero value uses the word "Case". A Tagger is a small value, safe for
// concurrent use.
type Tagger struct {
	word string
}

// NewTagger returns a Tagger for word, the text before the number in the tag.
// Surrounding white space is trimmed and inner runs of white space become one
// space; "" means "Case".
func NewTagger(word string) Tagger {
	return Tagger{word: strings.Join(strings.Fields(word), " ")}
}

// Word returns the tag word, e.g. "Case".
func (t Tagger) Word() string {
	if t.word == "" {
		return defaultWord
	}
	return t.word
}

// Format returns the tag for case n, e.g. "[Case #1042]". Case numbers are
// positive; Find does not accept a tag made from n <= 0.
func (t Tagger) Format(n int64) string {
	return "[" + t.Word() + " #" + strconv.FormatInt(n, 10) + "]"
}

// Find returns the case number of the first tag with our word in subject.
//
// It is tolerant of what mail clients and people do: the word is compared
// without regard to case, white space may surround the word, the number sign
// and the number ("[ case # 12 ]", "[Case#12]"), full-width brackets, number
// sign, digits and letters count as their ASCII forms ("［Case ＃12］", as
// Japanese input methods type them), lenticular brackets are accepted
// ("【Case #12】"), and the tag may be anywhere in the subject (after
// Re:/AW:/回复: prefixes, or at the end). Only positive numbers that fit an
// int64 make a tag: "[Case #0]", "[Case #-3]" and "[Case #99999999999999999999]"
// are not tags, and neither is a tag with another word ("[Ticket #12]").
func (t Tagger) Find(subject string) (int64, bool) {
	n, _, _, ok := t.next(subject, 0)
	return n, ok
}

// Subject returns the subject for an outbound mail on case n: our tag, a
// space, then subject with reply and forward prefixes removed and every tag of
// ours removed (whatever its number), e.g.
// Subject(7, "Re: AW: [Case #7] ELB down") == "[Case #7] ELB down". An empty
// subject, or one that is nothing but prefixes and tags, gives just the tag.
func (t Tagger) Subject(n int64, subject string) string {
	rest := NormalizeSubject(t.removeTags(subject))
	if rest == "" {
		return t.Format(n)
	}
	return t.Format(n) + " " + rest
}

// removeTags replaces every tag of ours in s by a space.
func (t Tagger) removeTags(s string) string {
	var b strings.Builder
	from := 0
	for {
		_, start, end, ok := t.next(s, from)
		if !ok {
			break
		}
		b.WriteString(s[from:start])
		b.WriteByte(' ')
		from = end
	}
	if from == 0 {
		return s
	}
	b.WriteString(s[from:])
	return b.String()
}

// next finds the first tag of ours in s at or after byte offset from. It
// returns the case number and the byte offsets of the tag.
func (t Tagger) next(s string, from int) (n int64, start, end int, ok bool) {
	word := t.Word()
	for i := from; i < len(s); {
		j := strings.IndexAny(s[i:], "[［【")
		if j < 0 {
			break
		}
		i += j
		_, size := utf8.DecodeRuneInString(s[i:])
		if n, end, ok := parseTag(s, i+size, word); ok {
			return n, i, end, true
		}
		i += size
	}
	return 0, 0, 0, false
}

// parseTag parses the rest of a tag that starts at byte offset i of s, just
// after the opening bracket: word, "#", number, closing bracket, with optional
// white space between them. It returns the number and the offset after the
// closing bracket.
func parseTag(s string, i int, word string) (int64, int, bool) {
	i += skipSpace(s[i:])
	n, ok := matchFold(s[i:], word)
	if !ok {
		return 0, 0, false
	}
	i += n
	i += skipSpace(s[i:])
	r, size := utf8.DecodeRuneInString(s[i:])
	if fold(r) != '#' {
		return 0, 0, false
	}
	i += size
	i += skipSpace(s[i:])
	value, digits := scanDigits(s[i:])
	if digits == 0 || value == 0 || value > 1<<63-1 {
		return 0, 0, false
	}
	i += digits
	i += skipSpace(s[i:])
	r, size = utf8.DecodeRuneInString(s[i:])
	if r := fold(r); r != ']' && r != '】' {
		return 0, 0, false
	}
	return int64(value), i + size, true
}
