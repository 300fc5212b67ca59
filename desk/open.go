package desk

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/postdesk/postdesk/desk/authres"
	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/threading"
)

// open makes a new case of an inbound mail, keeps the mail as its first
// message, adds its Cc addresses as contacts and enqueues the confirmation
// to the requester and a mail to the contacts saying who added them.
// related names the case this one follows (a reply long after closing).
// A mail that failed DMARC at our MTA opens its case held: no contact is
// added, nobody but the agents is told (DESIGN §14).
func (d *Desk) open(tx *store.Tx, in *Inbound, rawID int64, now time.Time, related int64) (Result, error) {
	fields := ParseFields(in.Text)
	terms := d.terms(in.From)
	if caseType(in.Route) == TypeTechnical && !terms.plan.Technical {
		return d.refuseTechnical(tx, in, terms, now)
	}
	c, err := d.newCase(tx, in, fields, terms, now, related)
	if err != nil {
		return Result{}, err
	}
	if authres.DMARC(in.AuthResults, d.o.AuthservID) == "fail" {
		res, _, err := d.holdMessage(tx, c, in, rawID, "its sender failed DMARC; the case was opened without contacts and nobody was mailed", now)
		return res, err
	}
	added, refused, err := d.addContacts(tx, c, in.Cc, d.contactLimit(c), now)
	if err != nil {
		return Result{}, err
	}
	m := d.inboundMessage(c.ID, rawID, MessageCustomer, in, now)
	if err := tx.InsertMessage(m); err != nil {
		return Result{}, err
	}
	notice := d.notice(c)
	notice.ContactsAdded, notice.Rejected = added, m.Rejected
	for _, r := range refused {
		// Text that fails the address rule is counted, never mailed back.
		if r.Code == store.CodeInvalidAddress {
			notice.InvalidAddresses++
			continue
		}
		notice.ContactsRefused = append(notice.ContactsRefused, r)
	}
	if fields.Severity != "" && string(fields.Severity) != c.Severity {
		notice.Code, notice.SeverityAsked = store.CodeSeverityCapped, string(fields.Severity)
		notice.Reason = fmt.Sprintf("the %s plan allows severities up to %s", terms.planName, terms.plan.MaxSeverity)
	}
	err = d.enqueue(tx, c, &store.OutboxItem{Kind: store.MailConfirmation, To: []string{c.Requester}, Notice: notice}, now)
	if err != nil {
		return Result{}, err
	}
	if len(added) > 0 {
		// Who added them (the address, not the display name: that is the
		// sender's text too) and the case number: not a word of the sender's.
		n := store.Notice{Case: c.ID, Tag: d.tag.Format(c.ID), Requester: c.Requester}
		if err := d.enqueue(tx, c, &store.OutboxItem{Kind: store.MailContact, To: added, Notice: n}, now); err != nil {
			return Result{}, err
		}
	}
	of := noticeOf{code: store.CodeNewCase, msg: m, fromName: in.FromName}
	if d.IsAgent(in.From) {
		of.actor = in.From
	}
	return Result{Outcome: NewCase, Case: c.ID}, d.tellAgents(tx, c, of, now)
}

// newCase stores the case a new mail opens, with its requester and the
// "created" event.
func (d *Desk) newCase(tx *store.Tx, in *Inbound, fields Fields, terms customerTerms, now time.Time, related int64) (*store.Case, error) {
	severity := terms.plan.grant(fields.Severity)
	if related == 0 {
		related = d.cited(tx, in)
	}
	c := &store.Case{
		Subject:     caseSubject(d.tag, in.Subject),
		Status:      string(StatusOpen),
		Severity:    string(severity),
		Type:        caseType(in.Route),
		Service:     fields.Service,
		Category:    fields.Category,
		Language:    d.language(fields, in, terms),
		Plan:        terms.planName,
		Requester:   in.From,
		CreatedAt:   now,
		UpdatedAt:   now,
		RelatedCase: related,
		// The name as the requester wrote it, on one line: agents read it.
		RequesterName: strings.Join(strings.Fields(in.FromName), " "),
		Mailbox:       in.Via,
	}
	c.FirstResponseDue = terms.hours.Due(now, d.target(terms.plan, severity))
	if err := tx.InsertCase(c); err != nil {
		return nil, err
	}
	if err := tx.AddParticipant(c.ID, addrKey(in.From), string(RoleRequester), now); err != nil {
		return nil, err
	}
	detail := fmt.Sprintf("by %s, plan %s, severity %s", in.From, terms.planName, severity)
	if fields.Severity != "" && fields.Severity != severity {
		detail += fmt.Sprintf(" (asked %s)", fields.Severity)
	}
	if related != 0 {
		detail += fmt.Sprintf(", follows case %d", related)
	}
	return c, addEvent(tx, c.ID, now, EventCreated, detail)
}

// caseSubject is the subject of a new case: the mail's subject without
// reply prefixes and without a tag of ours.
func caseSubject(tag threading.Tagger, subject string) string {
	s := threading.NormalizeSubject(subject)
	if n, ok := tag.Find(s); ok {
		s = strings.TrimSpace(strings.Replace(s, tag.Format(n), "", 1))
	}
	if s == "" {
		return "(no subject)"
	}
	return s
}

// citedCase matches "#123" or "case 123" in a new mail.
var citedCase = regexp.MustCompile(`(?i)(?:#|\bcase\s*#?\s*)(\d{1,18})\b`)

// cited returns the case a new mail cites ("as in case #41") when the
// sender takes part in it, so the new case links to it; 0 otherwise.
func (d *Desk) cited(tx *store.Tx, in *Inbound) int64 {
	for _, text := range []string{in.Subject, in.Text} {
		for _, m := range citedCase.FindAllStringSubmatch(text, 5) {
			n, err := strconv.ParseInt(m[1], 10, 64)
			if err != nil || n <= 0 {
				continue
			}
			if role, err := d.role(tx, n, in.From); err == nil && role != "" {
				return n
			}
		}
	}
	return 0
}

// refuseTechnical answers a technical mail from a plan without technical
// support: a polite refusal, no case. The mail is kept.
func (d *Desk) refuseTechnical(tx *store.Tx, in *Inbound, t customerTerms, now time.Time) (Result, error) {
	reason := fmt.Sprintf("the %s plan does not include technical support", t.planName)
	return Result{Outcome: Refused, Reason: reason}, d.refuse(tx, in, store.CodeNoTechnical, reason, now)
}

func caseType(route string) string {
	switch route {
	case TypeAccountBilling, TypeServiceLimit:
		return route
	}
	return TypeTechnical
}

// language picks the case language: a Language field line, the
// Content-Language header, Japanese script in the text, the customer's
// configured language, then the default.
func (d *Desk) language(f Fields, in *Inbound, t customerTerms) string {
	if f.Language != "" {
		return f.Language
	}
	if l := Language(in.ContentLanguage); l != "" {
		return l
	}
	if hasJapanese(in.Subject) || hasJapanese(in.Text) {
		return "ja"
	}
	if l := Language(t.language); l != "" {
		return l
	}
	return d.o.DefaultLanguage
}

// addContacts makes the Cc addresses of an opening mail contacts, up to the
// limit, and says who was not added and why. Our own addresses, agents and
// the requester are left out silently: they already get what they need.
func (d *Desk) addContacts(tx *store.Tx, c *store.Case, cc []string, limit int, now time.Time) (added []string, refused []store.Refusal, err error) {
	seen := map[string]bool{addrKey(c.Requester): true}
	for _, addr := range cc {
		a := addrKey(addr)
		if seen[a] || d.own[a] || d.agt[a] {
			continue
		}
		seen[a] = true
		switch {
		case !validAddress(a):
			refused = append(refused, store.Refusal{Address: addr, Reason: "not a valid address", Code: store.CodeInvalidAddress})
		case limit == 0:
			refused = append(refused, store.Refusal{Address: a, Code: store.CodeNoContacts,
				Reason: fmt.Sprintf("the %s plan has no additional contacts", c.Plan)})
		case len(added) >= limit:
			refused = append(refused, store.Refusal{Address: a, Code: store.CodeTooManyContacts, Limit: int64(limit),
				Reason: fmt.Sprintf("a case has at most %d additional contacts", limit)})
		default:
			if err := tx.AddParticipant(c.ID, a, string(RoleContact), now); err != nil {
				return nil, nil, err
			}
			added = append(added, a)
		}
	}
	for _, a := range added {
		if err := addEvent(tx, c.ID, now, EventContactAdded, a); err != nil {
			return nil, nil, err
		}
	}
	for _, r := range refused {
		if err := addEvent(tx, c.ID, now, EventContactRefused, r.Address+": "+r.Reason); err != nil {
			return nil, nil, err
		}
	}
	return added, refused, nil
}

// validAddress accepts the addresses postdesk can mail: plain ASCII
// addr-specs with a host name (threading.CheckAddress, the rule mailout
// applies on the wire), so nothing like `"a@x> NOTIFY=NEVER"@y` or
// root@localhost becomes a contact whose presence would fail every mail.
func validAddress(a string) bool { return threading.CheckAddress(a) == nil }

// inboundMessage builds the stored form of an inbound mail, keeping the
// attachments within the limits and recording the others as rejected.
func (d *Desk) inboundMessage(caseID, rawID int64, kind MessageKind, in *Inbound, now time.Time) *store.Message {
	m := &store.Message{
		CaseID: caseID, RawID: rawID, Direction: "in", Kind: string(kind),
		MessageID: in.MessageID, References: in.References,
		From: in.From, To: in.To, Cc: in.Cc, Subject: in.Subject, Date: in.Date,
		Text: in.Text, NewText: threading.StripQuoted(in.Text), HTML: in.HTML, CreatedAt: now,
	}
	if len(in.InReplyTo) > 0 {
		m.InReplyTo = in.InReplyTo[0]
	}
	m.Attachments, m.Rejected = d.limitAttachments(in.Attachments)
	return m
}

// limitAttachments keeps at most AttachmentsPerMessage files of at most
// AttachmentBytes each, in order. Inline images referenced by the HTML count
// against the size limit but not the file count. The size of a file is its
// Size (the decoded size, which mailin sets even when it did not keep the
// data), else len(Data); a file whose data was dropped is rejected as too
// large even if a misconfigured intake dropped it below AttachmentBytes.
func (d *Desk) limitAttachments(files []Attachment) (kept []store.Attachment, rejected []store.Rejected) {
	count := 0
	for _, f := range files {
		size := f.DecodedSize()
		switch {
		case size > d.o.AttachmentBytes || f.Dropped():
			reason := "larger than " + humanBytes(d.o.AttachmentBytes)
			if size <= d.o.AttachmentBytes {
				reason = "too large to keep"
			}
			rejected = append(rejected, store.Rejected{Filename: f.Filename, Size: size,
				Reason: reason, Code: store.CodeFileTooLarge, Limit: d.o.AttachmentBytes})
			continue
		case !f.Inline && count >= d.o.AttachmentsPerMessage:
			rejected = append(rejected, store.Rejected{Filename: f.Filename, Size: size, Code: store.CodeTooManyFiles,
				Limit: int64(d.o.AttachmentsPerMessage), Reason: fmt.Sprintf("more than %d files in one message", d.o.AttachmentsPerMessage)})
			continue
		}
		if !f.Inline {
			count++
		}
		kept = append(kept, store.Attachment{Filename: f.Filename, ContentType: f.ContentType,
			Size: size, Inline: f.Inline, ContentID: f.ContentID, Data: f.Data, SHA256: f.SHA256})
	}
	return kept, rejected
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
