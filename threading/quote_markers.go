package threading

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The ways a line can introduce quoted history.
type attribution int

const (
	notAttribution attribution = iota
	// weakAttribution ends like an attribution ("… wrote:") but holds no
	// address, digit or known opening: it only counts before a quote block.
	weakAttribution
	// sureAttribution is an attribution wherever it stands.
	sureAttribution
)

// maxAttributionLen bounds, in bytes, an attribution line (or two wrapped
// lines): longer lines are prose.
const maxAttributionLen = 400

// attributionVerbs end attribution lines, before the colon. Verbs that start
// with a Latin letter must follow a non-letter ("rewrote:" is no attribution).
var attributionVerbs = []string{
	"wrote", "a écrit", "schrieb", "escribió", "ha scritto", "escreveu",
	"schreef", "skrev", "kirjoitti", "napisał", "napisała", "napisał(a)",
	"написал", "написала", "написал(а)", "yazdı",
	"写道", "寫道", "のメッセージ", "書きました", "작성",
}

// attributionOpenings start the attribution lines of the common clients in
// English, French, German, Spanish, Italian, Portuguese and Dutch. They tell
// the first half of a wrapped attribution.
var attributionOpenings = []string{"On ", "Le ", "Am ", "El ", "Il ", "Em ", "Op "}

// attributionKind classifies one line on its own. Real attribution lines
// carry the date or the address of the quoted writer, so a verb ending
// without a digit or an '@' is only weak.
func attributionKind(l string) attribution {
	t := strings.TrimSpace(l)
	if len(t) > maxAttributionLen || !endsWithColon(t) {
		return notAttribution
	}
	body := strings.TrimRightFunc(strings.TrimSuffix(strings.TrimSuffix(t, ":"), "："), unicode.IsSpace)
	switch {
	case strings.HasSuffix(body, "のメッセージ"):
		// Apple Mail in Japanese: "2025/02/03 10:12、Alice <alice@example.com>のメッセージ:"
		return sureAttribution
	case strings.HasSuffix(body, ">") && strings.Contains(body, "@"):
		// Gmail in Japanese, Dutch, German and others: "… Alice <alice@example.com>:"
		return sureAttribution
	case hasPrefixFold(t, "Am ") && containsFold(t, " schrieb ") && hasEvidence(t):
		// Thunderbird in German: "Am 03.02.25 um 10:12 schrieb Alice:"
		return sureAttribution
	case endsWithVerb(body):
		if hasEvidence(t) {
			return sureAttribution
		}
		return weakAttribution
	}
	return notAttribution
}

// attributionAt reports whether an attribution starts at or just before line
// i (it may be wrapped over two lines), and returns its first and last line.
func attributionAt(lines []string, i, hard int) (start, end int, kind attribution) {
	t := strings.TrimSpace(lines[i])
	if kind = attributionKind(t); kind != notAttribution {
		if i > 0 && wrappedBefore(strings.TrimSpace(lines[i-1]), t) {
			return i - 1, i, kind
		}
		return i, i, kind
	}
	if i+1 >= hard || !hasOpening(t) || !hasEvidence(t) || endsWithColon(t) || strings.ContainsAny(t[len(t)-1:], ".!?") {
		return i, i, notAttribution
	}
	// "On Mon, 3 Feb 2025 at 10:12, Alice Example <" + "alice@example.com> wrote:"
	next := strings.TrimSpace(lines[i+1])
	if len(t)+len(next) > maxAttributionLen || isQuote(next) || !endsWithColon(next) {
		return i, i, notAttribution
	}
	if kind = attributionKind(t + " " + next); kind != notAttribution {
		return i, i + 1, kind
	}
	return i, i, notAttribution
}

// wrappedBefore reports whether prev is the first half of an attribution
// line cur that a client wrapped: cur starts with the address, or prev ends
// just before it, or prev starts like an attribution and is no sentence, or
// cur is little more than the verb.
func wrappedBefore(prev, cur string) bool {
	if prev == "" || isQuote(prev) || endsWithColon(prev) || len(prev)+len(cur) > maxAttributionLen {
		return false
	}
	switch {
	case strings.HasPrefix(cur, "<"), strings.HasPrefix(cur, "(<"), strings.HasSuffix(prev, "<"):
		return true
	case strings.ContainsAny(prev[len(prev)-1:], ".!?"), strings.HasSuffix(prev, "。"):
		return false
	case hasOpening(prev):
		// "On Mon, 3 Feb 2025 at 10:12, Alice Example" + "<alice@example.com> wrote:"
		return hasEvidence(prev)
	}
	// "Alice <alice@example.com> 於 2025年2月3日 週一 上午10:12" + "寫道："
	return utf8.RuneCountInString(cur) <= 8 && hasEvidence(prev)
}

// hasOpening reports whether t starts with one of attributionOpenings.
func hasOpening(t string) bool {
	for _, o := range attributionOpenings {
		if hasPrefixFold(t, o) {
			return true
		}
	}
	return false
}

// endsWithVerb reports whether body ends with one of attributionVerbs.
func endsWithVerb(body string) bool {
	for _, v := range attributionVerbs {
		if len(body) < len(v) || !strings.EqualFold(body[len(body)-len(v):], v) {
			continue
		}
		if v[0] < utf8.RuneSelf {
			prev, _ := utf8.DecodeLastRuneInString(body[:len(body)-len(v)])
			if unicode.IsLetter(prev) {
				continue
			}
		}
		return true
	}
	return false
}

// hasEvidence reports whether t holds an address or a digit, as attribution
// lines carrying a date or the quoted writer's address do.
func hasEvidence(t string) bool {
	return strings.ContainsAny(t, "@0123456789０１２３４５６７８９")
}

// endsWithColon reports whether t ends with ':' or the full-width '：'.
func endsWithColon(t string) bool {
	return strings.HasSuffix(t, ":") || strings.HasSuffix(t, "：")
}

// hasPrefixFold reports whether s starts with prefix, ignoring case.
func hasPrefixFold(s, prefix string) bool {
	_, ok := matchFold(s, prefix)
	return ok
}

// containsFold reports whether s contains sub, ignoring the case of ASCII
// letters in sub.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), sub)
}

// separatorPhrases are the words between the dashes of the separators mail
// clients put above quoted or forwarded mail, lower-cased.
var separatorPhrases = map[string]bool{
	"original message": true, "ursprüngliche nachricht": true, "original-nachricht": true,
	"message d'origine": true, "message original": true, "message transféré": true,
	"元のメッセージ": true, "転送メッセージ": true, "転送されたメッセージ": true,
	"forwarded message": true, "weitergeleitete nachricht": true,
	"mensaje original": true, "mensaje reenviado": true,
	"messaggio originale": true, "messaggio inoltrato": true,
	"mensagem original": true, "mensagem encaminhada": true,
	"oorspronkelijk bericht": true, "doorgestuurd bericht": true,
	"ursprungligt meddelande": true, "opprinnelig melding": true,
	"oryginalna wiadomość": true, "wiadomość oryginalna": true,
	"原始邮件": true, "原始郵件": true, "转发邮件": true,
}

// forwardMarkers introduce a forwarded message (Apple Mail and others),
// lower-cased, without the colon.
var forwardMarkers = map[string]bool{
	"begin forwarded message": true, "début du message réexpédié": true,
	"début du message transféré": true, "anfang der weitergeleiteten nachricht": true,
	"転送されたメッセージ": true, "inicio del mensaje reenviado": true,
}

// fromKeys name the sender in the header block Outlook and others write
// above quoted mail, lower-cased.
var fromKeys = map[string]bool{
	"from": true, "de": true, "von": true, "差出人": true, "van": true, "da": true,
	"od": true, "från": true, "fra": true, "lähettäjä": true, "发件人": true,
	"寄件者": true, "寄件人": true, "보낸 사람": true, "от": true, "kimden": true,
}

// dateKeys name the date in that header block, lower-cased.
var dateKeys = map[string]bool{
	"sent": true, "date": true, "envoyé": true, "gesendet": true, "datum": true,
	"送信日時": true, "日付": true, "enviado": true, "enviada em": true, "enviado el": true,
	"inviato": true, "data": true, "verzonden": true, "wysłano": true, "wysłane": true,
	"skickat": true, "sendt": true, "lähetetty": true, "发送时间": true, "發送時間": true,
	"日期": true, "寄件日期": true, "날짜": true, "보낸 날짜": true, "отправлено": true,
	"дата": true, "tarih": true,
}

// isHardMarker reports whether lines[i] starts quoted history or the
// signature whatever follows: everything from it on is not new text.
func isHardMarker(lines []string, i int) bool {
	l := lines[i]
	if l == "-- " {
		return true
	}
	t := strings.TrimSpace(l)
	switch {
	case t == "", t[0] == '>':
		return false
	case strings.HasPrefix(t, "--"):
		return isSeparator(t)
	case strings.HasPrefix(t, "____________________"):
		return strings.Trim(t, "_") == "" && headerFollows(lines, i)
	case endsWithColon(t):
		if forwardMarkers[strings.ToLower(strings.TrimRightFunc(strings.TrimRight(t, ":："), unicode.IsSpace))] {
			return true
		}
	}
	return isHeaderBlock(lines, i)
}

// isSeparator reports whether t is a line like "-----Original Message-----":
// a known phrase between runs of at least two dashes.
func isSeparator(t string) bool {
	if !strings.HasSuffix(t, "--") {
		return false
	}
	inner := strings.TrimFunc(t, func(r rune) bool { return r == '-' || unicode.IsSpace(r) })
	inner = strings.ReplaceAll(strings.ToLower(inner), "’", "'")
	return separatorPhrases[inner]
}

// headerFollows reports whether a "From:" header-like line follows line i,
// with at most two blank lines between.
func headerFollows(lines []string, i int) bool {
	for j := i + 1; j < len(lines) && j <= i+3; j++ {
		if isBlank(lines[j]) {
			continue
		}
		key, value, ok := headerLine(lines[j])
		return ok && fromKeys[key] && value != ""
	}
	return false
}

// isHeaderBlock reports whether lines[i] is "From: …" followed, within three
// header-like lines, by "Sent: …" or "Date: …" (in any of several languages).
func isHeaderBlock(lines []string, i int) bool {
	return headerBlock(lines, i, func(key string) bool { return dateKeys[key] })
}

// headerBlock reports whether lines[i] is "From: …" (in one of the languages
// of fromKeys) followed, within three header-like lines, by a field whose key
// ends reports.
func headerBlock(lines []string, i int, ends func(key string) bool) bool {
	key, value, ok := headerLine(lines[i])
	if !ok || !fromKeys[key] || value == "" {
		return false
	}
	for j := i + 1; j < len(lines) && j <= i+3; j++ {
		key, value, ok := headerLine(lines[j])
		if !ok {
			return false
		}
		if ends(key) && value != "" {
			return true
		}
	}
	return false
}

// maxKeyLen bounds, in bytes, the key of a header-like line.
const maxKeyLen = 40

// headerLine splits a header-like line "Key: value" into its lower-cased key
// and its value. It accepts a space before the colon ("De : …"), the
// full-width colon and the bold asterisks of mail turned from HTML into text
// ("*From:* …").
func headerLine(l string) (key, value string, ok bool) {
	t := strings.TrimLeft(strings.TrimSpace(l), "*")
	head := t
	if len(head) > maxKeyLen+4 {
		head = head[:maxKeyLen+4]
	}
	k := strings.IndexAny(head, ":：")
	if k <= 0 || k > maxKeyLen {
		return "", "", false
	}
	key = strings.TrimRightFunc(strings.TrimRight(t[:k], "*"), unicode.IsSpace)
	_, size := utf8.DecodeRuneInString(t[k:])
	value = strings.TrimFunc(t[k+size:], func(r rune) bool { return r == '*' || unicode.IsSpace(r) })
	return strings.ToLower(key), value, key != ""
}
