package threading

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ReplyMarker starts the first line of every notice and transcript postdesk
// mails to agents, in every language: "##- Reply above this line to answer
// Alice Martin; start with #note for an internal note -##". CutAgentReply
// cuts at any line that holds it, so the templates must keep it on the first
// line, and nothing an agent should be able to answer may contain it.
const ReplyMarker = "##-"

// CutAgentReply returns the new text of an agent's reply to a notice: what
// stands above the quoted notice (DESIGN §9). Unlike StripQuoted it fails
// closed: when unsure it cuts more, and it returns "" when nothing is left.
//
// It cuts at the first of:
//   - a line holding ReplyMarker anywhere, quoted or not;
//   - the first quoted line (">" or the full-width "＞" after optional white
//     space): everything from it on is cut, inline replies included;
//   - an attribution line that carries a date or an address, such as
//     "On … wrote:", "Le … a écrit :", "Am … schrieb …:", "…のメッセージ:",
//     "2026年12月2日(水) 9:12 Example Support <support@example.com>:" and
//     the other forms StripQuoted knows, also when wrapped over two lines;
//   - Outlook's header block without quotes ("From: …" then, within three
//     lines, "Sent:", "Date:", "To:", "Cc:" or "Subject:", and their French,
//     German and Japanese forms), a line of underscores above it, separators
//     such as "-----Original Message-----", "-----Message d'origine-----",
//     "-----Ursprüngliche Nachricht-----", "-----元のメッセージ-----", and
//     "Begin forwarded message:";
//   - a signature separator: "--" alone on a line, with or without the
//     trailing space of "-- ".
//
// When the cut is at a quote or at the marker line, the line just above it
// (blank lines between allowed) is cut too if it ends with a colon: it is the
// attribution of the quote ("Example Support wrote:", "… さんは書きました:")
// or a sentence that introduced what was cut. A line ending in "wrote:" that
// carries neither a date nor an address, followed by unquoted text, is kept,
// so "Here is what the installer wrote:" and a pasted log stay.
//
// CRLF and lone CR become LF. The result has no leading blank lines and no
// trailing white space, is never longer than text, and is valid UTF-8 when
// text is. It never holds ReplyMarker or a line starting with '>'.
func CutAgentReply(text string) string {
	text = toLF(text)
	lines := strings.Split(text, "\n")
	cut := agentCut(lines)
	first := 0
	for first < cut && isBlank(lines[first]) {
		first++
	}
	return trimRightSpace(text[lineOffset(lines, first):lineOffset(lines, cut)])
}

// agentCut returns the index of the first line of lines that is not the
// agent's new text, or len(lines) when all of it is.
func agentCut(lines []string) int {
	for i, l := range lines {
		switch {
		case strings.Contains(l, ReplyMarker), isAgentQuote(l):
			return introAbove(lines, i)
		case isSignatureSeparator(l), isHardMarker(lines, i), isAgentHeaderBlock(lines, i):
			return i
		}
		if start, _, kind := attributionAt(lines, i, len(lines)); kind == sureAttribution {
			return start
		}
	}
	return len(lines)
}

// introAbove returns the first line to cut for a quote or marker line at c:
// the line above it (blank lines between allowed) when that ends with a
// colon, together with its first half when a client wrapped it; otherwise c.
func introAbove(lines []string, c int) int {
	j := c - 1
	for j >= 0 && isBlank(lines[j]) {
		j--
	}
	if j < 0 || !endsWithColon(strings.TrimSpace(lines[j])) {
		return c
	}
	start, _, kind := attributionAt(lines, j, c)
	switch {
	case kind == notAttribution:
		return j
	case start == j && j > 0 && isBareVerb(lines[j]) && isFirstHalf(lines[j-1]):
		// "On Wednesday, Example Support" + "wrote:", which attributionAt
		// does not join without a date or an address.
		return j - 1
	}
	return start
}

// maxBareVerb bounds, in runes, an attribution line that is little more than
// its verb ("wrote:", "a écrit :", "さんは書きました:").
const maxBareVerb = 12

// isBareVerb reports whether l is an attribution verb with little or nothing
// before it: the second half of a wrapped attribution line.
func isBareVerb(l string) bool {
	t := strings.TrimSpace(l)
	return utf8.RuneCountInString(t) <= maxBareVerb && attributionKind(t) != notAttribution
}

// isFirstHalf reports whether l can be the first half of a wrapped
// attribution line: text that ends no sentence and is no quote.
func isFirstHalf(l string) bool {
	t := strings.TrimSpace(l)
	return t != "" && !isAgentQuote(t) && !endsWithColon(t) &&
		!strings.ContainsAny(t[len(t)-1:], ".!?") && !strings.HasSuffix(t, "。")
}

// isAgentQuote reports whether l is a quoted line: after any white space it
// starts with '>' or the full-width '＞'.
func isAgentQuote(l string) bool { return isQuote(strings.TrimLeftFunc(l, unicode.IsSpace)) }

// isSignatureSeparator reports whether l is the signature separator "-- ",
// also with its trailing space lost or doubled.
func isSignatureSeparator(l string) bool {
	return strings.TrimSpace(l) == "--"
}

// headerKeys name the recipient and subject fields of the header block
// Outlook and others write above quoted mail, lower-cased. With dateKeys they
// tell the block from a sentence that starts with "From:".
var headerKeys = map[string]bool{
	"to": true, "cc": true, "subject": true,
	"à": true, "objet": true,
	"an": true, "betreff": true,
	"宛先": true, "件名": true,
}

// isAgentHeaderBlock reports whether lines[i] is "From: …" (in one of the
// languages of fromKeys) followed, within three header-like lines, by a date,
// recipient or subject field. It is wider than isHeaderBlock, which wants the
// date, so that a client that drops or renames the date field still cuts.
func isAgentHeaderBlock(lines []string, i int) bool {
	return headerBlock(lines, i, func(key string) bool { return dateKeys[key] || headerKeys[key] })
}
