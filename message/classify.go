package message

import (
	"bufio"
	"bytes"
	"net/textproto"
	"regexp"
	"strings"

	"github.com/jhillyerd/enmime/v2"
	"github.com/jhillyerd/enmime/v2/mediatype"

	"github.com/postdesk/postdesk/desk"
)

// LoopHeader is the header field postdesk puts on every mail it sends; mail
// carrying it is our own coming back.
const LoopHeader = "X-Postdesk-Loop"

// maxDiagnostic bounds the Diagnostic-Code kept from a bounce.
const maxDiagnostic = 1000

// Classify reports why a parsed mail is machine mail (desk.MachineNone for a
// person's mail) and, for a bounce, what it reports. env is the enmime
// envelope; it must never panic on any input.
//
// The checks run in the order of the desk.Machine constants and the first
// that matches wins: our loop header, a delivery status notification
// (RFC 3464) or a classic bounce, a feedback report (ARF, RFC 5965) or read
// receipt (MDN, RFC 8098), an auto-reply (RFC 3834), bulk or list mail, a
// robot sender (mailer-daemon, postmaster, no-reply) and last a null
// Return-Path.
func Classify(env *enmime.Envelope) (machine desk.Machine, bounce *desk.Bounce) {
	defer func() {
		if r := recover(); r != nil {
			machine, bounce = desk.MachineNone, nil
		}
	}()
	if env == nil || env.Root == nil {
		return desk.MachineNone, nil
	}
	h := env.Root.Header
	cs := messageCharset(env)
	from := ""
	if addrs, _ := parseAddressList(headerValue(h, "From"), cs); len(addrs) > 0 {
		from = addrs[0].Address
	}
	return classify(env, from, decodeSubject(headerValue(h, "Subject"), cs), returnPath(h))
}

// classify is Classify with the fields Parse has already decoded.
func classify(env *enmime.Envelope, from, subject, returnPath string) (desk.Machine, *desk.Bounce) {
	h := env.Root.Header
	local := localPart(from)
	if from == "" {
		// "From: MAILER-DAEMON <>" has no address; its text still tells.
		local = localPart(strings.TrimSpace(headerValue(h, "From")))
	}
	reportType := rootReportType(h)
	switch {
	case hasHeader(h, LoopHeader):
		return desk.MachineLoop, nil
	case isDSN(env, reportType) || isClassicBounce(local, subject, returnPath):
		return desk.MachineBounce, bounceReport(env)
	case isFeedback(env, reportType, subject):
		return desk.MachineFeedback, nil
	case isAutoReply(h, subject):
		return desk.MachineAutoReply, nil
	case isBulk(h):
		return desk.MachineBulk, nil
	case isRobotSender(local):
		return desk.MachineSender, nil
	case returnPath == "<>":
		return desk.MachineNullPath, nil
	}
	return desk.MachineNone, nil
}

// localPart returns the local part of an addr-spec, lower-cased, with the
// separators '.', '_' and ' ' written as '-' ("Mail.Delivery.System" and
// "post_master" become "mail-delivery-system" and "post-master").
func localPart(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		addr = addr[:i]
	}
	addr = strings.ToLower(strings.Trim(addr, `"`))
	return strings.NewReplacer(".", "-", "_", "-", " ", "-").Replace(addr)
}

// rootReportType returns the report-type parameter of a top-level
// multipart/report (RFC 6522), lower-cased, "" for any other message.
func rootReportType(h textproto.MIMEHeader) string {
	mt, params, _, err := mediatype.Parse(headerValue(h, "Content-Type"))
	if err != nil || !strings.EqualFold(mt, "multipart/report") {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(params["report-type"]))
}

// hasPart reports whether any part of the message (not of attached
// messages, which enmime does not descend into) has one of the types.
func hasPart(env *enmime.Envelope, types ...string) bool {
	return env.Root.DepthMatchFirst(func(p *enmime.Part) bool {
		for _, t := range types {
			if strings.EqualFold(p.ContentType, t) {
				return true
			}
		}
		return false
	}) != nil
}

// isDSN reports a delivery status notification (RFC 3464, RFC 6533): a
// multipart/report of report-type delivery-status, or a delivery-status
// part anywhere.
func isDSN(env *enmime.Envelope, reportType string) bool {
	if reportType == "delivery-status" || reportType == "global-delivery-status" {
		return true
	}
	return hasPart(env, "message/delivery-status", "message/global-delivery-status")
}

// bounceSenders are the local parts of the addresses MTAs send non-delivery
// reports from.
var bounceSenders = map[string]bool{
	"mailer-daemon": true, "mailerdaemon": true, "mail-daemon": true, "postmaster": true,
	"post-master": true, "mail-delivery-subsystem": true, "mail-delivery-system": true,
}

// bounceSubject matches the subjects of non-delivery reports that are not
// RFC 3464 DSNs (qmail, old Exim and Sendmail, Exchange, Lotus, Japanese
// mobile carriers); tuned on the sisimai corpus.
var bounceSubject = regexp.MustCompile(`(?i)` + strings.Join([]string{
	`undeliver`, `undelivered`, `not delivered`, `non[- ]?deliver`, `delivery (status|failure|failed|problem|notification|has failed|report)`,
	`mail delivery`, `returned mail`, `returned to sender`, `return(ed)? message`, `failure notice`, `delivery failure`,
	`could not (be )?(send|sent|deliver)`, `mail system error`, `delivery (delayed|warning)`, `delayed mail`,
	`warning: message`, `message (delayed|not delivered|could not be delivered)`, `error sending`, `nondeliverable`,
	`unzustellbar`, `nicht zugestellt`, `non remis`, `échec de (la )?(remise|distribution)`, `non distribuable`,
	`配信不能`, `配送エラー`, `配信エラー`, `不達`, `エラーメール`, `送信エラー`, `配送失敗`, `返送`, `宛先不明`,
	`エラー通知`, `配信できません`, `送信できません`,
	`mail could not`, `permanent error`, `user unknown`, `rejected`, `bounce`,
}, "|"))

// isClassicBounce reports a non-DSN bounce: sent by mailer-daemon or
// postmaster (or with a null reverse path) with a non-delivery subject. A
// mailer-daemon sends nothing else, so its mail is a bounce whatever the
// subject.
func isClassicBounce(local, subject, returnPath string) bool {
	if strings.Contains(local, "mailer-daemon") {
		return true
	}
	if !bounceSenders[local] && !strings.HasPrefix(local, "postmaster") && returnPath != "<>" {
		return false
	}
	return bounceSubject.MatchString(subject)
}

// isFeedback reports an abuse or feedback report (ARF, RFC 5965) or a read
// receipt (MDN, RFC 8098), and Microsoft's pre-ARF complaint format (JMRP:
// "complaint about message from <ip>" with the message attached).
func isFeedback(env *enmime.Envelope, reportType, subject string) bool {
	switch reportType {
	case "feedback-report", "disposition-notification", "global-disposition-notification":
		return true
	}
	if hasPart(env, "message/feedback-report", "message/disposition-notification",
		"message/global-disposition-notification") {
		return true
	}
	return strings.HasPrefix(strings.ToLower(subject), "complaint about message from") &&
		hasPart(env, "message/rfc822")
}

// autoReplyHeaders are set by vacation programs and ticket systems on
// automatic answers; any of them alone is enough. X-Auto-Response-Suppress
// is not among them: Outlook sets it on ordinary mail too.
var autoReplyHeaders = []string{"X-Autoreply", "X-Autorespond", "X-AutoReply-From", "X-Mail-Autoreply"}

// autoReplySubjects start the subjects of out-of-office and other
// automatic answers, compared case-insensitively.
var autoReplySubjects = []string{
	"auto:", "automatic reply:", "autoreply:", "auto-reply:", "auto reply:", "auto response:",
	"autosvar:", "automatische antwort:", "out of office", "out of the office",
	"réponse automatique", "reponse automatique", "abwesenheitsnotiz", "abwesend:",
	"risposta automatica", "respuesta automática", "resposta automática",
	"自動応答", "自動返信", "自動回覆", "自动回复", "不在",
}

// isAutoReply reports an automatic answer (RFC 3834 §5): Auto-Submitted
// other than "no", an auto-reply header, Precedence auto_reply, or an
// out-of-office subject.
func isAutoReply(h textproto.MIMEHeader, subject string) bool {
	if hasHeader(h, "Auto-Submitted") {
		v, _, _ := strings.Cut(headerValue(h, "Auto-Submitted"), ";")
		if !strings.EqualFold(strings.TrimSpace(v), "no") {
			return true
		}
	}
	for _, name := range autoReplyHeaders {
		if hasHeader(h, name) && !strings.EqualFold(strings.TrimSpace(headerValue(h, name)), "no") {
			return true
		}
	}
	if strings.EqualFold(precedence(h), "auto_reply") {
		return true
	}
	s := strings.ToLower(subject)
	for _, prefix := range autoReplySubjects {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// precedence returns the first word of the Precedence field, lower-cased.
func precedence(h textproto.MIMEHeader) string {
	f := strings.Fields(strings.ToLower(headerValue(h, "Precedence")))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// listHeaders mark mail sent by a list manager: List-Id (RFC 2919), the
// List-* fields of RFC 2369, ezmlm's Mailing-List and fml's X-ML-* fields.
var listHeaders = []string{"List-Id", "List-Unsubscribe", "List-Subscribe", "List-Help", "List-Post",
	"List-Owner", "List-Archive", "Mailing-List", "X-Mailing-List", "X-ML-Name", "X-MLServer"}

// isBulk reports bulk or list mail: Precedence bulk, junk or list
// (RFC 3834 §3.1.8), or a list manager's field.
func isBulk(h textproto.MIMEHeader) bool {
	switch precedence(h) {
	case "bulk", "junk", "list":
		return true
	}
	for _, name := range listHeaders {
		if hasHeader(h, name) {
			return true
		}
	}
	return false
}

// robotSenders are local parts that only programs send from.
var robotSenders = map[string]bool{
	"mailer-daemon": true, "mailerdaemon": true, "postmaster": true, "post-master": true,
	"no-reply": true, "noreply": true, "do-not-reply": true, "donotreply": true,
	"bounce": true, "bounces": true, "mail-delivery-system": true, "mail-delivery-subsystem": true,
}

// isRobotSender reports a From local part (as localPart writes it) that
// only programs use.
func isRobotSender(local string) bool {
	return robotSenders[local] || strings.HasPrefix(local, "no-reply") || strings.HasPrefix(local, "noreply") ||
		strings.Contains(local, "mailer-daemon")
}

// bounceReport extracts what a bounce says: the Message-ID of the returned
// message and, from the delivery-status part, the failed recipients, the
// first status code and diagnostic.
func bounceReport(env *enmime.Envelope) *desk.Bounce {
	b := &desk.Bounce{OriginalMessageID: returnedMessageID(env)}
	ds := env.Root.DepthMatchFirst(func(p *enmime.Part) bool {
		return strings.EqualFold(p.ContentType, "message/delivery-status") ||
			strings.EqualFold(p.ContentType, "message/global-delivery-status")
	})
	if ds != nil {
		fillDSN(b, ds.Content)
	}
	return b
}

// returnedHeaderTypes are the part types that carry the returned message
// or its header (RFC 3462, RFC 6533).
var returnedHeaderTypes = []string{"message/rfc822", "message/global", "text/rfc822-headers",
	"message/rfc822-headers", "message/global-headers"}

// messageIDLine finds a Message-ID field quoted in a bounce's text.
var messageIDLine = regexp.MustCompile(`(?im)^[ \t>]*Message-ID:[ \t]*(<[^>\r\n]+>)`)

// returnedMessageID returns the normalised Message-ID of the message a
// bounce returns: from the attached message or header part, else from a
// Message-ID line in the text (classic bounces quote the header).
func returnedMessageID(env *enmime.Envelope) string {
	var id string
	env.Root.DepthMatchFirst(func(p *enmime.Part) bool {
		for _, t := range returnedHeaderTypes {
			if strings.EqualFold(p.ContentType, t) {
				id = headerMessageID(p.Content)
				return id != ""
			}
		}
		return false
	})
	if id != "" {
		return id
	}
	if m := messageIDLine.FindStringSubmatch(env.Text); m != nil {
		if ids := parseMsgIDs(m[1]); len(ids) > 0 {
			return ids[0]
		}
	}
	return ""
}

// headerMessageID reads the Message-ID of a returned message or header.
func headerMessageID(raw []byte) string {
	if ids := parseMsgIDs(headerValue(readHeaderBlock(raw), "Message-Id")); len(ids) > 0 {
		return ids[0]
	}
	return ""
}

// fillDSN reads the per-recipient fields of a message/delivery-status body
// (RFC 3464 §2.3). Recipients lists those whose Action is failed (or
// missing); Status and Diagnostic come from the first such recipient, or
// from the first recipient when none failed (a delay report).
func fillDSN(b *desk.Bounce, body []byte) {
	var first, firstFailed map[string]string
	for _, f := range dsnFields(body) {
		rcpt := dsnAddress(f["final-recipient"])
		if rcpt == "" {
			rcpt = dsnAddress(f["original-recipient"])
		}
		if rcpt == "" && f["status"] == "" && f["action"] == "" {
			continue // the per-message block
		}
		if first == nil {
			first = f
		}
		action := strings.ToLower(strings.TrimSpace(f["action"]))
		if action != "" && action != "failed" {
			continue
		}
		if firstFailed == nil {
			firstFailed = f
		}
		if rcpt != "" {
			b.Recipients = append(b.Recipients, rcpt)
		}
	}
	if firstFailed != nil {
		first = firstFailed
	}
	if first == nil {
		return
	}
	status, _, _ := strings.Cut(strings.TrimSpace(first["status"]), " ")
	b.Status = cleanLine(status)
	diag := first["diagnostic-code"]
	if _, text, ok := strings.Cut(diag, ";"); ok {
		diag = text
	}
	b.Diagnostic = cleanLine(cutRunes(cleanLine(diag), maxDiagnostic))
}

// dsnAddress reads an address-type;address field value ("rfc822;
// user@example.com"), lower-cased.
func dsnAddress(v string) string {
	if _, addr, ok := strings.Cut(v, ";"); ok {
		v = addr
	}
	return strings.ToLower(normalizeAddress(v))
}

// dsnFields splits a delivery-status body into its blocks of fields
// (separated by blank lines), each a map from lower-cased field name to its
// unfolded value; only the first value of a name is kept.
func dsnFields(body []byte) []map[string]string {
	var blocks []map[string]string
	cur := map[string]string{}
	last := ""
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.TrimSpace(line) == "":
			if len(cur) > 0 {
				blocks = append(blocks, cur)
				cur, last = map[string]string{}, ""
			}
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				cur[last] += " " + strings.TrimSpace(line)
			}
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.ToLower(strings.TrimSpace(name))
			if _, dup := cur[last]; dup {
				last = "" // keep the first value; ignore the duplicate's continuation
				continue
			}
			cur[last] = strings.TrimSpace(value)
		}
	}
	if len(cur) > 0 {
		blocks = append(blocks, cur)
	}
	return blocks
}
