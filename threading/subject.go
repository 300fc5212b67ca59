package threading

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// replyPrefixes are the words mail clients put before "Re:"-style colons, in
// many languages: English, German (AW, WG), French (Réf, Rép, TR, RV), Spanish
// (RV), Nordic (Sv, Vs), Dutch (Antw), Polish (Odp), Chinese (回复, 回覆, 答复,
// 转发, 轉寄) and Japanese (返信, 転送). Longer words that share a start with
// a shorter one come first ("Fwd" before "Fw").
var replyPrefixes = []string{
	"re", "aw", "fwd", "fw", "wg", "tr", "réf", "rép", "rv", "sv", "vs",
	"antw", "odp", "回复", "回覆", "答复", "转发", "轉寄", "返信", "転送",
}

// NormalizeSubject removes reply and forward prefixes (repeatedly, any case):
// Re, RE, Aw, AW, Fwd, FWD, Fw, WG, Tr, TR, Réf, Rép, RV, Sv, Vs, Antw, Odp,
// 回复, 回覆, 答复, 转发, 轉寄, 返信, 転送, also numbered forms "Re[2]:",
// "Re(2):", "Re^2:", a space before the colon (French "RE :") and the
// full-width colon "："; then collapses runs of white space to one space and
// trims. Full-width letters ("Ｒｅ：") count as their ASCII forms. Case tags
// and anything else that is not such a prefix are kept.
func NormalizeSubject(s string) string {
	s = collapseSpace(s)
	for {
		rest, ok := cutReplyPrefix(s)
		if !ok {
			return s
		}
		s = strings.TrimLeft(rest, " ")
	}
}

// cutReplyPrefix removes one reply or forward prefix from the start of s,
// which has no leading white space, and reports whether there was one.
func cutReplyPrefix(s string) (string, bool) {
	for _, p := range replyPrefixes {
		n, ok := matchFold(s, p)
		if !ok {
			continue
		}
		if rest, ok := cutPrefixTail(s[n:]); ok {
			return rest, true
		}
	}
	return "", false
}

// cutPrefixTail accepts what follows a prefix word: an optional counter
// ("[2]", "(2)", "^2"), an optional space, then a colon. It returns what
// follows the colon.
func cutPrefixTail(s string) (string, bool) {
	s = cutCounter(s)
	s = strings.TrimPrefix(s, " ")
	r, size := utf8.DecodeRuneInString(s)
	if fold(r) != ':' {
		return "", false
	}
	return s[size:], true
}

// cutCounter removes a reply counter such as "[2]", "(2)" or "^2" from the
// start of s; s is returned unchanged when it does not start with one.
func cutCounter(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	var closer rune
	switch fold(r) {
	case '[':
		closer = ']'
	case '(':
		closer = ')'
	case '^':
	default:
		return s
	}
	rest := s[size:]
	_, digits := scanDigits(rest)
	if digits == 0 {
		return s
	}
	rest = rest[digits:]
	if closer == 0 {
		return rest
	}
	r, size = utf8.DecodeRuneInString(rest)
	if fold(r) != closer {
		return s
	}
	return rest[size:]
}

// scanDigits reads ASCII or full-width decimal digits at the start of s. It
// returns their value, saturated at 1<<63 (one past the int64 range) so that
// callers can detect overflow, and how many bytes they took.
func scanDigits(s string) (value uint64, n int) {
	const limit = 1 << 63
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		r = fold(r)
		if r < '0' || r > '9' {
			break
		}
		if value < limit {
			value = value*10 + uint64(r-'0')
			if value > limit {
				value = limit
			}
		}
		n += size
	}
	return value, n
}

// collapseSpace replaces every run of white space in s by one space and trims
// both ends. Invalid UTF-8 bytes are kept as they are.
func collapseSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		if isSpace(r) {
			space = b.Len() > 0
		} else {
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isSpace reports whether r is white space, including the ideographic space
// U+3000 that Japanese and Chinese input methods type.
func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'
	}
	return unicode.IsSpace(r)
}

// fold maps the full-width forms of ASCII characters (U+FF01 to U+FF5E, typed
// by Japanese, Chinese and Korean input methods) and the ideographic space to
// their ASCII forms; other runes are returned unchanged.
func fold(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFF01 + '!'
	case r == 0x3000:
		return ' '
	}
	return r
}

// equalFold reports whether a and b are the same letter ignoring case and
// full-width forms.
func equalFold(a, b rune) bool {
	a, b = fold(a), fold(b)
	if a == b {
		return true
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		return lowerASCII(a) == lowerASCII(b)
	}
	// Walk the Unicode case orbit of a, as strings.EqualFold does.
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

// lowerASCII lower-cases an ASCII letter.
func lowerASCII(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}

// matchFold reports whether s starts with word, ignoring case and full-width
// forms, and how many bytes of s the match took. A space in word matches a
// run of one or more white space characters in s.
func matchFold(s, word string) (int, bool) {
	i := 0
	for _, w := range word {
		if w == ' ' {
			n := skipSpace(s[i:])
			if n == 0 {
				return 0, false
			}
			i += n
			continue
		}
		if i >= len(s) {
			return 0, false
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !equalFold(r, w) {
			return 0, false
		}
		i += size
	}
	return i, true
}

// skipSpace returns the length in bytes of the white space at the start of s.
func skipSpace(s string) int {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isSpace(r) {
			break
		}
		i += size
	}
	return i
}
