package mailout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	netmail "net/mail"
	"strings"
	"unicode"

	"github.com/wneessen/go-mail"

	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/templates"
	"github.com/postdesk/postdesk/threading"
)

// Our own header fields.
const (
	// headerLoop marks mail we sent; mailin drops inbound mail carrying it.
	headerLoop mail.Header = "X-Postdesk-Loop"
	// headerAutoSubmitted is RFC 3834 §5.
	headerAutoSubmitted mail.Header = "Auto-Submitted"
)

// permanentError is a row that can never be sent as it is: a bad address, a
// template that does not render, a missing attachment.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(format string, args ...any) error {
	return &permanentError{fmt.Errorf(format, args...)}
}

// message is one built mail: its envelope and its exact bytes.
type message struct {
	rcpts []string
	raw   []byte
}

// Build renders one outbox row into the exact bytes that would be sent
// (deterministic for a fixed clock and Boundary).
func (s *Sender) Build(ctx context.Context, it *store.OutboxItem) ([]byte, error) {
	m, err := s.build(ctx, it)
	if err != nil {
		return nil, err
	}
	return m.raw, nil
}

func (s *Sender) build(ctx context.Context, it *store.OutboxItem) (*message, error) {
	now := s.o.Now()
	rcpts, to, cc, err := recipients(it.To, it.Cc)
	if err != nil {
		return nil, &permanentError{err}
	}
	if !validID(it.MessageID) {
		return nil, permanent("bad Message-ID %q", it.MessageID)
	}
	lang := s.o.Templates.Resolve(it.Lang, it.Kind)
	view := s.view(it.Notice)
	names := recipientNames(it.Notice)
	if len(to) == 1 {
		view.ToName = names[threading.AddressKey(to[0])]
	}
	subject, body, err := s.o.Templates.Render(lang, it.Kind, view)
	if err != nil {
		return nil, &permanentError{err}
	}

	opts := []mail.MsgOption{mail.WithNoDefaultUserAgent()}
	if s.o.Boundary != "" {
		opts = append(opts, mail.WithBoundary(s.o.Boundary))
	}
	m := mail.NewMsg(opts...)
	// The display name goes in as a parsed name, never through a string
	// parser: quotes or "<x@y>" in it cannot add an address.
	m.FromMailAddress(&netmail.Address{Name: s.fromName(it.Notice.FromName), Address: s.o.From})
	replyTo := s.o.From
	if r := it.Notice.ReplyTo; r != "" {
		if err := checkAddress(r); err != nil {
			return nil, permanent("reply-to %w", err)
		}
		replyTo = r
	}
	if err := m.ReplyTo(replyTo); err != nil {
		return nil, permanent("reply-to: %w", err)
	}
	// Parsed names, as for From: nothing in a name can add an address.
	if len(to) > 0 {
		m.ToMailAddress(named(to, names)...)
	}
	if len(cc) > 0 {
		m.CcMailAddress(named(cc, names)...)
	}
	setSubject(m, oneLine(subject)) // the template cleaned it; a header is too important to trust that
	m.SetDateWithValue(now)
	m.SetMessageIDWithValue(it.MessageID) // adds the angle brackets
	if id := threadID(it.InReplyTo); id != "" {
		m.SetGenHeader(mail.HeaderInReplyTo, id)
	}
	if refs := threadIDs(it.References); refs != "" {
		m.SetGenHeader(mail.HeaderReferences, refs)
	}
	m.SetGenHeader(mail.HeaderContentLang, lang)
	m.SetGenHeader(headerLoop, s.o.From)
	m.SetGenHeader(mail.HeaderXAutoResponseSuppress, "All")
	if v := autoSubmitted(it.Kind); v != "" {
		m.SetGenHeader(headerAutoSubmitted, v)
	}
	m.SetBodyString(mail.TypeTextPlain, body)
	if err := s.attach(ctx, m, it.Notice.Attachments); err != nil {
		return nil, err
	}

	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		return nil, permanent("write message: %w", err)
	}
	return &message{rcpts: rcpts, raw: b.Bytes()}, nil
}

// maxNameRunes bounds a display name written into a header or greeting.
const maxNameRunes = 64

// recipientNames are the display names the row knows, by address key: the
// requester's own (the name in their From). Contacts are written without a
// name: theirs would be whatever the requester typed in Cc.
func recipientNames(n store.Notice) map[string]string {
	name := squash(n.RequesterName)
	if r := []rune(name); len(r) > maxNameRunes {
		name = string(r[:maxNameRunes])
	}
	if name == "" || n.Requester == "" || name == n.Requester {
		return nil
	}
	return map[string]string{threading.AddressKey(n.Requester): name}
}

// named pairs checked addresses with their display names.
func named(addrs []string, names map[string]string) []*netmail.Address {
	out := make([]*netmail.Address, len(addrs))
	for i, a := range addrs {
		out[i] = &netmail.Address{Name: names[threading.AddressKey(a)], Address: a}
	}
	return out
}

// setSubject writes the subject so that its ASCII words, the case tag
// "[Case #7]" among them, stay plain ASCII and only runs of other words
// become RFC 2047 encoded words: mail filters and people searching raw
// headers find the tag in every language (DESIGN §10). An all-ASCII
// subject is left to go-mail.
func setSubject(m *mail.Msg, subject string) {
	if isASCII(subject) {
		m.Subject(subject)
		return
	}
	var parts, run []string
	flush := func() {
		if len(run) > 0 {
			// One encoding of the run keeps its inner spaces; a long run
			// comes back as several encoded words, each a place to fold.
			parts = append(parts, strings.Fields(encodeWords(strings.Join(run, " ")))...)
			run = nil
		}
	}
	for _, w := range strings.Fields(subject) {
		if isASCII(w) && !strings.Contains(w, "=?") {
			flush()
			parts = append(parts, w)
			continue
		}
		run = append(run, w)
	}
	flush()
	m.SetGenHeaderPreformatted(mail.HeaderSubject, fold(len("Subject: "), parts))
}

// fold joins header words with spaces, starting a continuation line (RFC
// 5322 §2.2.3) before a word that would take the line past 78 characters.
// used is what the line already holds.
func fold(used int, words []string) string {
	var b strings.Builder
	for i, w := range words {
		switch {
		case i == 0:
		case used+1+len(w) > 78:
			b.WriteString("\r\n")
			used = 0
			fallthrough
		default:
			b.WriteByte(' ')
			used++
		}
		b.WriteString(w)
		used += len(w)
	}
	return b.String()
}

// encodeWords writes s as RFC 2047 "Q" encoded words, even when s is
// ASCII (text that looks like an encoded word must not be read as one).
func encodeWords(s string) string {
	if !isASCII(s) {
		return mime.QEncoding.Encode("UTF-8", s)
	}
	var b strings.Builder
	b.WriteString("=?UTF-8?q?")
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ':
			b.WriteByte('_')
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	b.WriteString("?=")
	return b.String()
}

// isASCII reports whether s holds printable ASCII only.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// autoSubmitted is the Auto-Submitted value for a kind of mail (RFC 3834
// §5): the desk's automatic answers to a customer's mail (confirmation,
// refusal, and the contact mail to those its Cc named) are "auto-replied";
// notices the desk writes on its own (status, closing, alerts, and notices
// and transcripts to agents) are "auto-generated"; an agent's reply,
// written by a person, carries none.
func autoSubmitted(kind string) string {
	switch kind {
	case store.MailReply:
		return ""
	case store.MailConfirmation, store.MailRefusal, store.MailContact:
		return "auto-replied"
	default: // status, closed, alert, notice, transcript
		return "auto-generated"
	}
}

// fromName is the From display name of a row (DESIGN §9): the desk's name,
// or "<name> via <desk name>" when the row names who wrote it (the sender of
// a reported message, the answering agent); without a configured name the
// desk name is its address.
func (s *Sender) fromName(name string) string {
	name = squash(name)
	if name == "" {
		return s.o.Name
	}
	return name + " via " + s.deskName()
}

// deskName is the desk's configured name, else its address.
func (s *Sender) deskName() string {
	if s.o.Name == "" {
		return s.o.From
	}
	return s.o.Name
}

// squash keeps a display name on one line: runs of white space and control
// characters become one space, and the ends are trimmed.
func squash(name string) string {
	return strings.Join(strings.FieldsFunc(name, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
}

// view is what the templates see of a row.
func (s *Sender) view(n store.Notice) templates.View {
	v := templates.View{
		Case: n.Case, Tag: n.Tag, Subject: n.Subject, Status: n.Status, Severity: n.Severity,
		Type: n.Type, Service: n.Service, Requester: n.Requester, FirstResponseDue: n.FirstResponseDue,
		ContactsAdded: n.ContactsAdded, InvalidAddresses: n.InvalidAddresses,
		Author: n.Author, Resolution: n.Resolution, Reason: n.Reason,
		Code: n.Code, Plan: n.Plan, SeverityAsked: n.SeverityAsked, SurveyLinks: n.SurveyLinks,
		// The agent's text, without blank lines or spaces around it.
		Body:        strings.TrimLeft(strings.TrimRightFunc(n.Body, unicode.IsSpace), "\r\n"),
		DeskName:    s.deskName(),
		DeskAddress: s.o.From,
		// Names come from mail headers; the notice's marker and fact lines
		// must stay single lines.
		FromName: squash(n.FromName), ReplyTo: n.ReplyTo, RequesterName: squash(n.RequesterName),
		Contacts: n.Contacts, Assignee: n.Assignee, At: n.At, RelatedTag: n.RelatedTag, Rating: n.Rating,
	}
	for _, r := range n.ContactsRefused {
		v.ContactsRefused = append(v.ContactsRefused, templates.Refusal{Address: r.Address, Reason: r.Reason, Code: r.Code, Limit: r.Limit})
	}
	for _, r := range n.Rejected {
		v.Rejected = append(v.Rejected, templates.File{Filename: r.Filename, Size: r.Size, Reason: r.Reason, Code: r.Code, Limit: r.Limit})
	}
	for _, a := range n.Attachments {
		v.Attachments = append(v.Attachments, templates.File{Filename: a.Filename, ContentType: a.ContentType, Size: a.Size})
	}
	for _, c := range n.Commands {
		v.Commands = append(v.Commands, templates.Command{Line: oneLine(c.Line), Code: c.Code, Arg: oneLine(c.Arg)})
	}
	return v
}

// attach adds the files of a reply or a notice, read from the store by digest. A file
// the store does not have fails the row; any other read error is the
// database's and fails the flush.
func (s *Sender) attach(ctx context.Context, m *mail.Msg, files []store.Attachment) error {
	for _, a := range files {
		data, err := s.db.AttachmentData(ctx, a.SHA256)
		if errors.Is(err, store.ErrNotFound) {
			return permanent("attachment %q: %w", a.Filename, err)
		}
		if err != nil {
			return fmt.Errorf("attachment %q: %w", a.Filename, err)
		}
		name := oneLine(a.Filename)
		if name == "" {
			name = "attachment"
		}
		err = m.AttachReader(name, bytes.NewReader(data), mail.WithFileContentType(mail.ContentType(contentType(a.ContentType))))
		if err != nil {
			return permanent("attachment %q: %w", a.Filename, err)
		}
	}
	return nil
}

// contentType re-serialises a media type so that nothing but a media type
// reaches the header; anything unparsable becomes application/octet-stream.
func contentType(ct string) string {
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil {
		if s := mime.FormatMediaType(mt, params); s != "" {
			return s
		}
	}
	return "application/octet-stream"
}

// oneLine turns control characters (CR and LF among them) into spaces and
// trims the ends.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}

// validID accepts a Message-ID as stored: id-left@id-right of visible ASCII,
// without angle brackets (RFC 5322 §3.6.4).
func validID(id string) bool {
	left, right, ok := strings.Cut(id, "@")
	if !ok || left == "" || right == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' || c == '<' || c == '>' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// threadID writes a stored Message-ID (with or without its angle brackets)
// as <id>; an id that is not a plain msg-id, which may come from a
// customer's mail, is left out rather than written into a header.
func threadID(id string) string {
	id = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
	if !validID(id) {
		return ""
	}
	return "<" + id + ">"
}

// threadIDs writes References: the valid ids, in order, separated by spaces.
func threadIDs(ids []string) string {
	var out []string
	for _, id := range ids {
		if w := threadID(id); w != "" {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}
