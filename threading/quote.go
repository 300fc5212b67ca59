package threading

import (
	"strings"
	"unicode"
)

// StripQuoted returns the new text of a reply: the text before the quoted
// history and the signature.
//
// It cuts at the first of:
//   - a quote block (lines starting with ">" or "＞", blank lines between them
//     allowed) that runs to the end, or is followed only by attribution lines,
//     more quotes and the markers below; the attribution line just above it
//     ("… <alice@example.com> wrote:", or any line ending in a colon that
//     holds an address) is removed too;
//   - an attribution line: "On <...> wrote:", "Le <...> a écrit :",
//     "Am <...> schrieb <...>:", "<...>のメッセージ:", "<...> wrote:" and its
//     Spanish, Italian, Portuguese, Dutch, Nordic, Polish, Russian, Chinese
//     and Japanese forms, also when wrapped over two lines;
//   - an Outlook or Thunderbird separator such as "-----Original Message-----",
//     "-----Ursprüngliche Nachricht-----", "----- Message d'origine -----",
//     "-------- 元のメッセージ --------" or "---------- Forwarded message ---------";
//   - a line of 20 or more underscores followed by a "From:", "De :", "Von:",
//     "差出人:" (and so on) header-like line;
//   - a block of header-like lines "From: …" then, within three lines,
//     "Sent: …" or "Date: …" ("De : …"/"Envoyé : …", "Von: …"/"Gesendet: …",
//     "差出人: …"/"送信日時: …", …);
//   - "Begin forwarded message:" and its French, German and Japanese forms;
//   - the signature separator "-- " (dash dash space) alone on a line.
//
// Inline replies are kept: a quote block followed by more new text is part of
// the reply, and so is an attribution line that introduces one. A generic
// "<...> wrote:" line that is followed by unquoted text only cuts when it
// holds an address or a digit, so that "Here is what the installer wrote:"
// followed by a pasted log stays.
//
// CRLF and lone CR are treated as LF and the result uses LF. Trailing white
// space and blank lines are trimmed. If cutting would leave nothing (a mail
// that is all quote), the whole text is returned with trailing blanks trimmed.
// The result is never longer than text, and is valid UTF-8 when text is.
func StripQuoted(text string) string {
	text = toLF(text)
	lines := strings.Split(text, "\n")
	cut := findCut(lines)
	if out := trimRightSpace(text[:lineOffset(lines, cut)]); out != "" {
		return out
	}
	return trimRightSpace(text)
}

// toLF returns text with CRLF and lone CR turned into LF.
func toLF(text string) string {
	if strings.IndexByte(text, '\r') >= 0 {
		text = strings.ReplaceAll(text, "\r\n", "\n")
		text = strings.ReplaceAll(text, "\r", "\n")
	}
	return text
}

// lineOffset returns the byte offset of line n in the text that lines were
// split from at LF, or the length of that text when n is len(lines).
func lineOffset(lines []string, n int) int {
	offset := 0
	for _, l := range lines[:n] {
		offset += len(l) + 1
	}
	if n == len(lines) && n > 0 {
		offset-- // the last line has no LF after it
	}
	return offset
}

// trimRightSpace removes trailing white space, blank lines included.
func trimRightSpace(s string) string {
	return strings.TrimRightFunc(s, unicode.IsSpace)
}

// findCut returns the index of the first line of quoted history or signature
// in lines, or len(lines) when there is none.
func findCut(lines []string) int {
	hard := len(lines)
	for i := range lines {
		if isHardMarker(lines, i) {
			hard = i
			break
		}
	}
	hist := historyTail(lines, hard)
	for i := 0; i < hard; i++ {
		if isQuote(lines[i]) {
			if hist[i] {
				return attributionAbove(lines, i)
			}
			continue
		}
		if start, ok := attributionCut(lines, i, hard, hist); ok {
			return start
		}
	}
	return hard
}

// historyTail returns, for each line index i up to hard, whether lines[i:hard]
// holds only blank lines, quotes and attribution lines: material that is no
// new text.
func historyTail(lines []string, hard int) []bool {
	hist := make([]bool, hard+1)
	hist[hard] = true
	for i := hard - 1; i >= 0; i-- {
		l := lines[i]
		hist[i] = hist[i+1] && (isBlank(l) || isQuote(l) || attributionKind(l) != notAttribution)
	}
	return hist
}

// attributionCut reports whether an attribution line at lines[i] (possibly
// wrapped with its neighbour) starts the history, and the first line to cut.
func attributionCut(lines []string, i, hard int, hist []bool) (int, bool) {
	start, end, kind := attributionAt(lines, i, hard)
	if kind == notAttribution {
		return 0, false
	}
	next := end + 1
	for next < hard && isBlank(lines[next]) {
		next++
	}
	switch {
	case next >= hard:
		// Only blank lines, then the hard marker or the end.
		return start, true
	case isQuote(lines[next]):
		// An attribution introducing a quote: history if the quote runs to
		// the end, an inline reply otherwise.
		return start, hist[next]
	default:
		// Unquoted history after the attribution (HTML mail turned into
		// text) or a sentence that happens to end in "wrote:".
		return start, kind != weakAttribution
	}
}

// attributionAbove returns the first line to cut for a quote block that
// starts at line q: q itself, or the attribution line above it (blank lines
// between allowed) when there is one.
func attributionAbove(lines []string, q int) int {
	j := q - 1
	for j >= 0 && isBlank(lines[j]) {
		j--
	}
	if j < 0 {
		return q
	}
	t := strings.TrimSpace(lines[j])
	if endsWithColon(t) && strings.Contains(t, "@") {
		return j
	}
	return q
}

// isBlank reports whether l holds nothing but white space.
func isBlank(l string) bool {
	return strings.TrimFunc(l, unicode.IsSpace) == ""
}

// isQuote reports whether l is a quoted line: after optional spaces and tabs
// it starts with ">" or the full-width "＞" some Japanese writers use.
func isQuote(l string) bool {
	l = strings.TrimLeft(l, " \t")
	return strings.HasPrefix(l, ">") || strings.HasPrefix(l, "＞")
}
