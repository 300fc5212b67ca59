package message

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/jhillyerd/enmime/v2"
	"github.com/jhillyerd/enmime/v2/mediatype"
	"github.com/microcosm-cc/bluemonday"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/message/prescan"
	"github.com/postdesk/postdesk/threading"
)

// ErrNoMessage is returned by Parse when the input holds nothing that can be
// read as a mail: no header field and no body.
var ErrNoMessage = errors.New("no message")

// ErrPanic marks an error Parse made from a recovered panic: always a bug
// to fix. Tests look for it, and intake counts it. (The pre-scan has its
// own, prescan.ErrPanic.)
var ErrPanic = errors.New("panic")

// Message is one parsed inbound mail.
type Message struct {
	desk.Inbound
	// Defects lists what the parser had to repair (enmime errors/warnings), for logs.
	Defects []string
}

// parser is enmime configured to keep going on every defect it can repair
// (prescan.EnmimeOptions, which the pre-scan is tested against); bodies
// converts the text it keeps. It is never modified after init.
var parser = enmime.NewParser(prescan.EnmimeOptions()...)

// htmlPolicy is bluemonday's policy for user generated content, plus cid:
// URLs so that inline images stay linked to their parts (a cid: URL names a
// part of the same message and cannot fetch anything). Policies are safe
// for concurrent use once built.
var htmlPolicy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("cid")
	return p
}()

// Parse parses raw bytes with enmime (github.com/jhillyerd/enmime/v2) into a
// Message. It returns an error only when nothing usable can be read (then
// the caller quarantines the raw bytes). Raw is kept in m.Raw (the same
// slice, not copied).
//
// A leading UTF-8 byte order mark and a leading mbox "From " line are
// skipped. When enmime cannot read the MIME structure at all, the header is
// read on its own and the rest is kept as plain text, with a defect saying
// so. Parse never panics: a panic is turned into an error.
//
// Big base64 attachments are decoded outside enmime (see elide.go); the
// result is the same. The text and HTML bodies are cut at
// DefaultTextBytes (textcap.go), References and In-Reply-To to their
// first and last ids (parse_refs.go); the raw bytes keep everything.
func Parse(raw []byte) (*Message, error) {
	m, _, err := parse(raw, parseOptions{})
	return m, err
}

// parse is Parse with options; st says what elision did.
func parse(raw []byte, o parseOptions) (m *Message, st elideStats, err error) {
	defer func() {
		if r := recover(); r != nil {
			o.panic(PanicParse)
			m, err = nil, fmt.Errorf("parse message: %w: %v", ErrPanic, r)
		}
	}()
	body, junk := prescan.SkipPrefix(raw)
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, st, fmt.Errorf("parse message: %w", ErrNoMessage)
	}
	var defects []string
	if junk > 0 {
		defects = append(defects, fmt.Sprintf("skipped %d leading lines that are not header fields", junk))
	}
	env, dropped, st, readErr := readElided(body, o)
	if readErr != nil {
		env, err = headerOnlyEnvelope(body)
		if err != nil {
			return nil, st, fmt.Errorf("parse message: %v; %w", readErr, err)
		}
		defects = append(defects, strings.ToValidUTF8("MIME structure unreadable, body kept as text: "+readErr.Error(), "\uFFFD"))
	}
	for _, e := range env.Errors {
		defects = append(defects, strings.ToValidUTF8(e.Error(), "\uFFFD"))
	}
	m = &Message{Defects: defects}
	m.Raw = raw
	cs := messageCharset(env)
	fillHeader(&m.Inbound, env.Root.Header, cs, &m.Defects)
	var defect string
	if m.Text, m.HTML, defect = bodies(env, cs, o.textLimit(), st.cut); defect != "" {
		m.Defects = append(m.Defects, defect)
	}
	m.Attachments = attachments(env, cs, fileSizes{dropped: dropped, keep: o.keep})
	m.Machine, m.Bounce = classify(env, m.From, m.Subject, m.ReturnPath)
	return m, st, nil
}

// untypedText returns the text of the leaf parts that have no Content-Type
// and are not attachments: text/plain by default (RFC 2045 §5.2), but
// enmime leaves them out of the body.
func untypedText(env *enmime.Envelope, cs string) string {
	if env.Root.FirstChild == nil {
		return ""
	}
	var text string
	for _, p := range env.Root.DepthMatchAll(isUntypedText) {
		text = joinText(text, decode8bit(string(p.Content), cs))
	}
	return text
}

// isUntypedText matches a leaf part without Content-Type that is body text.
func isUntypedText(p *enmime.Part) bool {
	return p.ContentType == "" && p.FirstChild == nil && p.FileName == "" && p.Disposition != "attachment"
}

// joinText appends b to a with a line break.
func joinText(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return strings.TrimRight(a, "\r\n") + "\n\n" + b
}

// readEnvelope runs enmime, turning a panic inside it into an error so that
// the header-only fallback still gets a chance.
func readEnvelope(body []byte) (env *enmime.Envelope, err error) {
	defer func() {
		if r := recover(); r != nil {
			env, err = nil, fmt.Errorf("enmime: %w: %v", ErrPanic, r)
		}
	}()
	return parser.ReadEnvelope(bytes.NewReader(body))
}

// defectList collects header defects reported by enmime.ReadHeader.
type defectList []string

func (d *defectList) AddError(name, format string, args ...any) {
	*d = append(*d, "[E] "+name+": "+fmt.Sprintf(format, args...))
}

func (d *defectList) AddWarning(name, format string, args ...any) {
	*d = append(*d, "[W] "+name+": "+fmt.Sprintf(format, args...))
}

// headerOnlyEnvelope reads the header block and keeps everything after it
// as the text body. It fails only when there is no header field at all.
func headerOnlyEnvelope(body []byte) (*enmime.Envelope, error) {
	var defects defectList
	br := bufio.NewReader(bytes.NewReader(body))
	h, err := enmime.ReadHeader(br, &defects)
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	if len(h) == 0 {
		return nil, fmt.Errorf("read header: %w", ErrNoMessage)
	}
	var rest bytes.Buffer
	_, _ = rest.ReadFrom(br) // reading from a bytes.Reader cannot fail
	root := &enmime.Part{PartID: "0", Header: h, ContentType: "text/plain"}
	return &enmime.Envelope{Root: root, Text: rest.String()}, nil
}

// fillHeader sets the header fields of in from the top-level header h;
// cs is the charset declared for the text.
func fillHeader(in *desk.Inbound, h textproto.MIMEHeader, cs string, defects *[]string) {
	from, fromOK := fromAddress(h, cs)
	in.From, in.FromName = from.Address, from.Name
	to, toOK := parseAddressList(headerValue(h, "To"), cs)
	cc, ccOK := parseAddressList(headerValue(h, "Cc"), cs)
	replyTo, rtOK := parseAddressList(headerValue(h, "Reply-To"), cs)
	for i, ok := range []bool{fromOK, toOK, ccOK, rtOK} { // in a fixed order, so that defects compare
		if !ok {
			*defects = append(*defects, []string{"From", "To", "Cc", "Reply-To"}[i]+" header unparsable, addresses extracted tolerantly")
		}
	}
	in.To, in.Cc, in.ReplyTo = addrSpecs(to), addrSpecs(cc), addrSpecs(replyTo)
	in.ReturnPath = returnPath(h)
	in.Subject = decodeSubject(headerValue(h, "Subject"), cs)
	in.Date = parseDate(headerValue(h, "Date"))
	if ids := parseMsgIDs(headerValue(h, "Message-Id")); len(ids) > 0 {
		in.MessageID = ids[0]
	}
	in.InReplyTo = capIDs(parseMsgIDs(headerValue(h, "In-Reply-To")), 1, 0, "In-Reply-To", defects)
	in.References = capIDs(parseMsgIDs(headerValue(h, "References")), 1, lastReferences, "References", defects)
	in.ContentLanguage = cleanLine(decode8bit(headerValue(h, "Content-Language"), cs))
	for _, v := range headerValues(h, "Authentication-Results") {
		in.AuthResults = append(in.AuthResults, cleanLine(v))
	}
}

// fromAddress returns the first mailbox of the first From field that holds
// one (some mailers write a broken From field before a good one). There is
// no fallback to Sender or Reply-To: the desk identifies people by From.
func fromAddress(h textproto.MIMEHeader, cs string) (address, bool) {
	allOK := true
	for _, v := range headerValues(h, "From") {
		addrs, ok := parseAddressList(v, cs)
		allOK = allOK && ok
		if len(addrs) > 0 {
			return addrs[0], allOK
		}
	}
	return address{}, allOK
}

// headerValues returns every value of the named field, matching the name
// case-insensitively.
func headerValues(h textproto.MIMEHeader, name string) []string {
	if v := h.Values(name); len(v) > 0 {
		return v
	}
	for k, v := range h {
		if len(v) > 0 && strings.EqualFold(strings.TrimSpace(k), name) {
			return v
		}
	}
	return nil
}

// headerValue returns the first value of the named field. Field names are
// matched case-insensitively even when enmime could not canonicalise them.
func headerValue(h textproto.MIMEHeader, name string) string {
	if v := headerValues(h, name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// hasHeader reports whether the named field is present, even if empty.
func hasHeader(h textproto.MIMEHeader, name string) bool {
	return len(headerValues(h, name)) > 0
}

// messageCharset is the charset the sender declared for the text: the top
// level Content-Type's, else the first text part's. It is the best guess for
// raw 8-bit bytes in header fields, which RFC 5322 does not allow but
// old mailers send.
func messageCharset(env *enmime.Envelope) string {
	if cs := charsetParam(headerValue(env.Root.Header, "Content-Type")); cs != "" {
		return cs
	}
	p := env.Root.DepthMatchFirst(func(p *enmime.Part) bool {
		return strings.HasPrefix(p.ContentType, "text/") && charsetParam(headerValue(p.Header, "Content-Type")) != ""
	})
	if p == nil {
		return ""
	}
	return charsetParam(headerValue(p.Header, "Content-Type"))
}

// charsetParam extracts the charset parameter of a Content-Type value.
func charsetParam(ct string) string {
	_, params, _, err := mediatype.Parse(ct)
	if err != nil {
		return ""
	}
	return strings.Trim(strings.TrimSpace(params["charset"]), `"'`)
}

// decodeSubject decodes, unfolds and cleans a Subject field.
func decodeSubject(raw, cs string) string {
	return cleanLine(decodeWords(decode8bit(raw, cs)))
}

// cleanLine makes s one line of valid UTF-8: every control character
// (CR, LF, TAB, other C0, DEL, C1) becomes a space, the ends are trimmed.
func cleanLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// cleanText turns a decoded body into valid UTF-8 with LF line ends and no
// NUL bytes.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.ReplaceAll(s, "\x00", "")
	return strings.ToValidUTF8(s, "\uFFFD")
}

// returnPath reads the Return-Path field (RFC 5321 §4.4): "<>" for a null
// reverse path ("<>" or "< >"), else the addr-spec, "" when absent.
func returnPath(h textproto.MIMEHeader) string {
	if !hasHeader(h, "Return-Path") {
		return ""
	}
	v := strings.TrimSpace(headerValue(h, "Return-Path"))
	inner := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">"))
	if inner == "" {
		return "<>"
	}
	if addrs, _ := parseAddressList(v, ""); len(addrs) > 0 {
		return addrs[0].Address
	}
	return cleanLine(inner)
}

// dateLayouts are tried after net/mail's own parser, for the forms mailers
// get wrong.
var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04 -0700", "Mon, 2 Jan 2006 15:04:05", "2 Jan 2006 15:04:05",
	"Mon, 2 January 2006 15:04:05 -0700", "Mon Jan 2 15:04:05 2006", "Mon Jan 2 15:04:05 MST 2006",
	"2006-01-02T15:04:05Z07:00", "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05",
}

// parseDate reads a Date field tolerantly; it returns the zero time when no
// date can be read. Comments are dropped and trailing words that are not
// part of a date (a glued Received field, a zone name) are cut off.
func parseDate(s string) time.Time {
	fields := strings.Fields(strings.ReplaceAll(stripComments(strings.ToValidUTF8(s, "")), ",", ", "))
	if len(fields) > 12 {
		fields = fields[:12]
	}
	for n := len(fields); n >= 1; n-- {
		v := strings.ReplaceAll(strings.Join(fields[:n], " "), " ,", ",")
		if t, err := mail.ParseDate(v); err == nil {
			return t
		}
		for _, layout := range dateLayouts {
			if t, err := time.Parse(layout, v); err == nil {
				return t
			}
		}
	}
	return time.Time{}
}

// parseMsgIDs extracts the message identifiers of a Message-ID,
// In-Reply-To or References field (RFC 5322 §3.6.4), normalised as the
// desk compares them.
func parseMsgIDs(s string) []string { return threading.ParseMessageIDs(s) }

// attachments collects the files of the message: enmime's attachments and
// inlines, the other leaf parts it did not take as body (unnamed inline
// images of multipart/related, attached messages, parts without a
// Content-Type), and HTML parts after the HTML body (Apple Mail splits
// HTML around inline images). Body text parts and the machinery of
// reports (delivery-status, disposition and feedback fields) are not files.
func attachments(env *enmime.Envelope, cs string, fs fileSizes) []desk.Attachment {
	seen := map[*enmime.Part]bool{}
	var out []desk.Attachment
	add := func(p *enmime.Part) {
		if p == nil || seen[p] || !isFilePart(p) {
			return
		}
		seen[p] = true
		out = append(out, fs.attachment(p, env.HTML, cs))
	}
	for _, p := range env.Attachments {
		add(p)
	}
	for _, p := range env.Inlines {
		add(p)
	}
	for _, p := range env.OtherParts {
		add(p)
	}
	if env.Root.FirstChild != nil {
		body := env.Root.DepthMatchFirst(isHTMLBody)
		for _, p := range env.Root.DepthMatchAll(isHTMLBody) {
			if p != body && p.FirstChild == nil && !seen[p] {
				seen[p] = true
				out = append(out, fs.attachment(p, env.HTML, cs))
			}
		}
	}
	return out
}

// isHTMLBody matches the parts enmime considers for the HTML body.
func isHTMLBody(p *enmime.Part) bool {
	return p.ContentType == "text/html" && p.Disposition != "attachment"
}

// reportParts are the machine-readable parts of reports; classify reads
// them, they are not files for a case.
var reportParts = map[string]bool{
	"message/delivery-status": true, "message/global-delivery-status": true,
	"message/disposition-notification": true, "message/global-disposition-notification": true,
	"message/feedback-report": true,
}

// isFilePart reports whether p is a file rather than a body, a container or
// report machinery.
func isFilePart(p *enmime.Part) bool {
	ct := strings.ToLower(p.ContentType)
	switch {
	case strings.HasPrefix(ct, "multipart/"):
		return false
	case reportParts[ct] && p.FileName == "":
		return false
	case isUntypedText(p):
		return false
	case (ct == "text/plain" || ct == "text/html") && p.FileName == "" && !strings.EqualFold(p.Disposition, "attachment"):
		return false // a body part that enmime also listed as inline
	}
	return true
}

// attachment converts one part. A part without a file name is named after
// its attached message's Subject ("<Subject>.eml"), else after its
// Content-ID when that looks like a file name (Outlook's
// "image001.jpg@01CDB132.D8A510F0" gives "image001.jpg"), else after its
// type (SafeFilename). Raw 8-bit bytes in a
// file name are decoded like those of header fields. A file over the keep
// limit of fs has its Size and no Data.
func (fs fileSizes) attachment(p *enmime.Part, html, cs string) desk.Attachment {
	declared := strings.ToLower(strings.TrimSpace(p.ContentType))
	cid := contentID(headerValue(p.Header, "Content-Id"))
	name := decodeWords(decode8bit(p.FileName, cs))
	if name == "" && prescan.IsMessagePart(declared) {
		if subj := innerSubject(p.Content); subj != "" {
			name = strings.NewReplacer("/", "_", `\`, "_").Replace(subj) + ".eml"
		}
	}
	if local, _, _ := strings.Cut(cid, "@"); name == "" && cidFilename.MatchString(local) {
		name = local
	}
	a := desk.Attachment{
		Filename:    SafeFilename(name, declared),
		ContentType: contentType(declared, p.Content),
		ContentID:   cid,
	}
	a.Data, a.Size = fs.data(p)
	a.Inline = cid != "" && !strings.EqualFold(p.Disposition, "attachment") && cidReferenced(html, cid)
	return a
}

// contentType is the media type of an attachment: the declared one, but
// sniffed from the bytes (http.DetectContentType, the WHATWG rules) when
// nothing useful was declared, and when the bytes are active content (HTML,
// XML) under another label, so a script sent as "image/png" is stored as
// text/html. Other disagreements keep the sender's name: sniffing cannot
// tell an Office file from a zip or a CSV from text.
func contentType(declared string, data []byte) string {
	sniffed, _, _ := strings.Cut(http.DetectContentType(data), ";")
	switch {
	case declared == "" || declared == "application/octet-stream":
		return sniffed
	case (sniffed == "text/html" || sniffed == "text/xml") && declared != sniffed && declared != "application/xhtml+xml":
		return sniffed
	}
	return declared
}

// cidFilename matches the local part of a Content-ID that is a file name
// with an extension.
var cidFilename = regexp.MustCompile(`^[^/\\]+\.[A-Za-z][A-Za-z0-9]{1,4}$`)

// contentID returns a Content-ID without angle brackets and white space.
func contentID(v string) string {
	v = strings.TrimSpace(strings.ToValidUTF8(v, ""))
	v = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">"))
	return cleanLine(v)
}

// cidReferenced reports whether html links to the part with Content-ID id
// through a cid: URL (RFC 2392), written plainly or URL-encoded.
func cidReferenced(html, id string) bool {
	lower := strings.ToLower(html)
	for _, form := range []string{id, url.PathEscape(id), url.QueryEscape(id)} {
		if strings.Contains(lower, "cid:"+strings.ToLower(form)) {
			return true
		}
	}
	return false
}

// innerSubject returns the decoded Subject of an attached message.
func innerSubject(raw []byte) string {
	h := readHeaderBlock(raw)
	return decodeSubject(headerValue(h, "Subject"), charsetParam(headerValue(h, "Content-Type")))
}

// readHeaderBlock reads the header of an attached message or header part;
// nil when there is none.
func readHeaderBlock(raw []byte) textproto.MIMEHeader {
	var defects defectList
	h, err := enmime.ReadHeader(bufio.NewReader(bytes.NewReader(raw)), &defects)
	if err != nil {
		return nil
	}
	return h
}
