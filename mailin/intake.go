package mailin

import (
	"context"
	"errors"
	"fmt"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/message"
	"github.com/postdesk/postdesk/message/prescan"
)

// Receiver is where intake hands each mail: the desk.
type Receiver interface {
	// Receive records the decision for one parsed mail in one transaction.
	Receive(ctx context.Context, in *desk.Inbound) (desk.Result, error)
	// Rehearse decides like Receive and records nothing.
	Rehearse(ctx context.Context, in *desk.Inbound) (desk.Result, error)
	// Quarantine keeps raw bytes that could not be read as mail.
	Quarantine(ctx context.Context, raw []byte, mailbox string, uid uint32, reason string) (desk.Result, error)
	// TooLarge records a mail over the size limit from its header alone
	// and tells its sender once.
	TooLarge(ctx context.Context, in *desk.Inbound, size, limit int64) (desk.Result, error)
}

var _ Receiver = (*desk.Desk)(nil)

// Intake turns raw messages into desk decisions: the size gate, parsing,
// classification, then the desk. It is shared by IMAP intake and `ingest`.
type Intake struct {
	// Desk receives every message.
	Desk Receiver
	// Route is the case type of new cases from this source ("" = technical).
	Route string
	// Via names the [[mailbox]] whose rules apply (desk.Inbound.Via): its
	// agents are told of the cases it brings.
	Via string
	// MaxBytes is the largest message accepted; 0 = 25 MiB. A larger one is
	// quarantined, not parsed.
	MaxBytes int64
	// Limits bound the MIME structure of a message (prescan.Check); zero fields
	// mean the defaults, and DecodedBytes 4 × MaxBytes. A message over
	// them is quarantined, not parsed.
	Limits prescan.Limits
	// AttachmentBytes is the largest file whose data a parsed message
	// holds; 0 = no limit. A larger file keeps only its decoded size
	// (desk.Attachment.Size, with nil Data), which is all the desk needs to
	// reject it, so set it to the desk's Options.AttachmentBytes. A big
	// base64 file over it is counted while it is decoded, never held whole.
	AttachmentBytes int64
	// TextBytes caps the decoded text and HTML bodies kept per message; 0 =
	// 1 MiB (message.DefaultTextBytes), values under 1 KiB count as 1 KiB. A longer
	// body is cut at a character boundary and ends with a line saying so;
	// the raw mail, which the desk stores, keeps everything. The HTML is
	// cut before it is sanitised and converted to text, so the work per
	// mail stays bounded too (limits.text_bytes, DESIGN §14).
	TextBytes int64
	// DryRun decides without recording anything.
	DryRun bool
}

// Source says where a message was read: an IMAP mailbox and UID, or a
// file (the zero Source).
type Source struct {
	Mailbox     string
	UIDValidity uint32
	UID         uint32
}

// Process takes one raw message from src through the pipeline: Prepare,
// then Record. An error means nothing was recorded: the message must stay
// where it is and be tried again. Unreadable mail is not an error: it is
// quarantined with its raw bytes.
func (it *Intake) Process(ctx context.Context, raw []byte, src Source) (desk.Result, error) {
	return it.Record(ctx, it.Prepare(raw, src))
}

// Prepared is a message gated and parsed, or judged unreadable, ready for
// Record.
type Prepared struct {
	raw        []byte
	src        Source
	msg        *message.Message
	quarantine string   // why the message is quarantined instead; "" when msg is set
	panics     []string // where panics were recovered while preparing it (PanicXxx)
}

// Prepare does the work of intake that needs no database: the size gate,
// the pre-scan and parsing. It is safe to call from several goroutines at
// once (the poller parses a fetched group on every core), and never panics:
// a parser panic quarantines the message.
func (it *Intake) Prepare(raw []byte, src Source) (p *Prepared) {
	p = &Prepared{raw: raw, src: src}
	defer func() {
		if v := recover(); v != nil {
			p.panics = append(p.panics, PanicIntake)
			p.msg, p.quarantine = nil, fmt.Sprintf("the parser failed on it: %v", v)
		}
	}()
	if limit := it.maxBytes(); int64(len(raw)) > limit {
		p.quarantine = fmt.Sprintf("larger than %d bytes", limit)
		return p
	}
	if err := prescan.Check(raw, it.limits()); errors.Is(err, prescan.ErrTooComplex) {
		if errors.Is(err, prescan.ErrPanic) {
			p.panics = append(p.panics, prescan.PanicWhere)
		}
		p.quarantine = err.Error()
		return p
	}
	m, err := message.ParseWith(raw, message.ParseOptions{AttachmentBytes: it.AttachmentBytes, TextBytes: it.TextBytes,
		Panicked: func(where string) { p.panics = append(p.panics, where) }})
	if err != nil {
		p.quarantine = "unreadable: " + err.Error()
		return p
	}
	it.stamp(&m.Inbound, src)
	digests(&m.Inbound)
	p.msg = m
	return p
}

// digests hashes the raw message and the files whose data is kept, as the
// store keys them, so that this work runs on the parsing goroutines rather
// than in the one-at-a-time transaction.
func digests(in *desk.Inbound) {
	in.RawSHA256 = desk.Digest(in.Raw)
	for i := range in.Attachments {
		if a := &in.Attachments[i]; !a.Dropped() {
			a.SHA256 = desk.Digest(a.Data)
		}
	}
}

// Record hands a prepared message to the desk, which records its decision
// in one transaction. An error means nothing was recorded.
func (it *Intake) Record(ctx context.Context, p *Prepared) (desk.Result, error) {
	if p.msg == nil {
		return it.quarantine(ctx, p.raw, p.src, p.quarantine)
	}
	if it.DryRun {
		return it.Desk.Rehearse(ctx, &p.msg.Inbound)
	}
	return it.Desk.Receive(ctx, &p.msg.Inbound)
}

// MessageID is the prepared message's Message-ID, "" when unknown.
func (p *Prepared) MessageID() string {
	if p.msg == nil {
		return ""
	}
	return p.msg.MessageID
}

// stamp says on in where it came from and how it is routed.
func (it *Intake) stamp(in *desk.Inbound, src Source) {
	in.Mailbox, in.UIDValidity, in.UID, in.Route, in.Via = src.Mailbox, src.UIDValidity, src.UID, it.Route, it.Via
}

// TooLarge records a message that was not downloaded because it is over
// the limit, from its header (at most a few KiB): who sent it is enough to
// tell them. An error means nothing was recorded. panicked, if not nil, is
// told of each panic the parser recovered (as Prepare reports them).
func (it *Intake) TooLarge(ctx context.Context, header []byte, size int64, src Source, panicked func(where string)) (desk.Result, error) {
	reason := fmt.Sprintf("%d bytes, larger than %d", size, it.maxBytes())
	if it.DryRun {
		return desk.Result{Outcome: desk.Quarantined, Reason: reason}, nil
	}
	m, err := message.ParseWith(header, message.ParseOptions{Panicked: panicked})
	if err != nil {
		return it.Desk.Quarantine(ctx, header, src.Mailbox, src.UID, reason+"; header unreadable: "+err.Error())
	}
	it.stamp(&m.Inbound, src)
	return it.Desk.TooLarge(ctx, &m.Inbound, size, it.maxBytes())
}

// Limit is the largest message Process accepts.
func (it *Intake) Limit() int64 { return it.maxBytes() }

func (it *Intake) maxBytes() int64 {
	if it.MaxBytes > 0 {
		return it.MaxBytes
	}
	return 25 << 20
}

// limits are the pre-scan's limits: decoded bodies may take 4 × the raw
// size bound.
func (it *Intake) limits() prescan.Limits {
	l := it.Limits
	if l.DecodedBytes <= 0 {
		l.DecodedBytes = 4 * it.maxBytes()
	}
	return l
}

func (it *Intake) quarantine(ctx context.Context, raw []byte, src Source, reason string) (desk.Result, error) {
	if it.DryRun {
		return desk.Result{Outcome: desk.Quarantined, Reason: reason}, nil
	}
	return it.Desk.Quarantine(ctx, raw, src.Mailbox, src.UID, reason)
}
