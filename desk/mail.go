package desk

import (
	"time"

	"github.com/postdesk/postdesk/store"
)

// Inbound is one received mail as the desk sees it: parsed, classified and
// carrying its raw bytes so the desk can keep them in the same transaction
// that records its decision. mailin builds it; the desk never parses MIME.
type Inbound struct {
	// Raw is the message exactly as received.
	Raw []byte
	// RawSHA256 is the hex SHA-256 of Raw (store.Digest) when the caller
	// computed it, so the work is done where it runs in parallel (mailin
	// hashes on its parsing goroutines, the desk records one mail at a
	// time); "" means the store computes it.
	RawSHA256 string
	// Mailbox, UIDValidity and UID say where the message came from ("" and
	// 0 for a file).
	Mailbox     string
	UIDValidity uint32
	UID         uint32
	// Route is the case type a new case gets (technical, account-billing,
	// service-limit); "" means technical.
	Route string
	// Via names the [[mailbox]] whose rules apply (for IMAP the mailbox
	// itself, for `ingest` its -mailbox): a new case remembers it, and its
	// agents (Options.MailboxAgents) are told of the case. "" = every agent.
	Via string

	From       string   // addr-spec of the From header, lower-cased domain
	FromName   string   // decoded display name
	To         []string // addr-specs
	Cc         []string // addr-specs
	ReplyTo    []string // addr-specs, informative only: identity is From
	ReturnPath string   // "" when absent; "<>" for a null reverse path
	Subject    string   // decoded, unfolded, CR/LF removed
	Date       time.Time
	MessageID  string   // normalised, without angle brackets
	InReplyTo  []string // normalised, without angle brackets
	References []string // normalised, without angle brackets
	// ContentLanguage is the Content-Language header, if any.
	ContentLanguage string
	// AuthResults are the Authentication-Results header values (RFC 8601),
	// topmost first; the desk trusts only those of its own authserv-id.
	AuthResults []string

	Text string // plain text body (from HTML when there is no text part), valid UTF-8
	HTML string // sanitised HTML body, "" when none

	Attachments []Attachment
	// Machine is the reason this mail must never get an automatic answer,
	// MachineNone for mail written by a person.
	Machine Machine
	// Bounce holds what a delivery status notification reports, nil otherwise.
	Bounce *Bounce
}

// Attachment is one file of an inbound or outbound message.
type Attachment struct {
	Filename    string // sanitised base name, never empty
	ContentType string // media type without parameters
	ContentID   string // without angle brackets, for inline parts
	Inline      bool   // an inline image referenced by the HTML body
	Data        []byte
	// SHA256 is the hex SHA-256 of Data when the caller computed it (as
	// Inbound.RawSHA256); "" means the store computes it.
	SHA256 string
	// Size is the decoded size of the file; 0 means len(Data). When it is
	// larger than len(Data), the data was not kept (mailin drops the data
	// of a file over its keep limit), and the desk rejects the file as too
	// large: a file whose data was dropped is never kept.
	Size int64
}

// DecodedSize is the file's decoded size: Size when set, else len(Data).
func (a *Attachment) DecodedSize() int64 { return max(a.Size, int64(len(a.Data))) }

// Dropped reports whether the file's data was not kept (Size is larger
// than Data): such a file is never attached to a case.
func (a *Attachment) Dropped() bool { return a.Size > int64(len(a.Data)) }

// Digest is the key the store files raw mail and attachments under
// (store.Digest), for callers that compute it where they run in parallel
// (Inbound.RawSHA256, Attachment.SHA256).
func Digest(b []byte) string { return store.Digest(b) }

// Bounce is what a delivery status notification (RFC 3464) says about a
// message we sent.
type Bounce struct {
	// OriginalMessageID is the Message-ID of the returned message, if found.
	OriginalMessageID string
	// Recipients lists the final recipients whose delivery failed.
	Recipients []string
	// Status is the first DSN status code, e.g. "5.1.1".
	Status string
	// Diagnostic is the first Diagnostic-Code, if any.
	Diagnostic string
}

// Machine says why a mail was written by a program rather than a person.
type Machine string

// The machine mail classes, in the order mailin checks them.
const (
	MachineNone      Machine = ""
	MachineLoop      Machine = "loop"       // carries our own loop header
	MachineBounce    Machine = "bounce"     // a delivery status notification
	MachineFeedback  Machine = "feedback"   // an abuse/feedback report (ARF) or read receipt (MDN)
	MachineAutoReply Machine = "auto-reply" // Auto-Submitted, X-Autoreply, out-of-office
	MachineBulk      Machine = "bulk"       // Precedence bulk/junk/list, List-Id
	MachineSender    Machine = "sender"     // mailer-daemon, postmaster, no-reply
	MachineNullPath  Machine = "null-path"  // Return-Path: <>
)

// Outcome is what the desk did with one inbound mail. The values are the
// "outcome" strings of `postdesk ingest -json`.
type Outcome string

// The outcomes of Receive.
const (
	NewCase     Outcome = "new_case"
	Reply       Outcome = "reply"
	Held        Outcome = "held"
	Duplicate   Outcome = "duplicate"
	Bounced     Outcome = "bounce"
	AutoDropped Outcome = "auto_dropped"
	Refused     Outcome = "refused"
	Quarantined Outcome = "quarantined"
)

// Outcomes returns every outcome, in the order of DESIGN §5.
func Outcomes() []Outcome {
	return []Outcome{NewCase, Reply, Held, Duplicate, Bounced, AutoDropped, Refused, Quarantined}
}

// Result reports the decision for one inbound mail.
type Result struct {
	Outcome Outcome
	Case    int64  // the case number, 0 when none
	Reason  string // why, in a few words, for held/refused/dropped/quarantined
}
