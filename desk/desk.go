// Package desk holds the rules of the helpdesk: whether a mail opens a case,
// replies to one, is held or dropped; what fields, contacts and attachments a
// case keeps; what agents may do; and which notifications each change causes.
// Every decision and the mails it causes are written in one transaction.
package desk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/postdesk/postdesk/desk/calendar"
	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/threading"
)

// Case types, chosen by the mailbox a mail arrives on.
const (
	TypeTechnical      = "technical"
	TypeAccountBilling = "account-billing"
	TypeServiceLimit   = "service-limit"
)

// CaseTypes returns every case type.
func CaseTypes() []string { return []string{TypeTechnical, TypeAccountBilling, TypeServiceLimit} }

// Errors returned to agents, intake and the command line.
var (
	// ErrUnavailable wraps a failure of the database rather than of the
	// mail: intake should leave the mail where it is and try later, without
	// counting it against the mail.
	ErrUnavailable = errors.New("database unavailable")
	ErrNotAgent    = errors.New("not a configured agent address")
	ErrBadValue    = errors.New("bad value")
	ErrNoSuchKey   = errors.New("unknown setting")
	// ErrLimit: a limit was reached (a case's contacts, a survey link's
	// answers a minute).
	ErrLimit = errors.New("limit reached")
)

// defaultTargets are the first-response targets per severity (AWS Support).
func defaultTargets() map[Severity]time.Duration {
	return map[Severity]time.Duration{
		SeverityLow:      24 * time.Hour,
		SeverityNormal:   12 * time.Hour,
		SeverityHigh:     4 * time.Hour,
		SeverityUrgent:   time.Hour,
		SeverityCritical: 15 * time.Minute,
	}
}

// Never, as ReopenDays or AutocloseDays, turns the rule off: a closed case
// is never reopened, a pending one never closed. (0 means the default.)
const Never = -1

// Options configure a Desk. The zero value of each field means the default
// documented on it.
type Options struct {
	// Address is the support address: From and Reply-To of our mail.
	Address string
	// OwnAddresses are further addresses that reach the desk (mailbox
	// logins, aliases); they never become contacts.
	OwnAddresses []string
	// Tag is the word of the case tag, "Case" by default: "[Case #7]".
	Tag string
	// Agents may answer, note, close and change cases.
	Agents []string
	// Notify receives alerts (escalations, delivery failures).
	Notify []string
	// Name is the desk's display name: notices to agents come from
	// "<sender's name> via <Name>". "" = the address.
	Name string
	// CommentAddress receives agents' internal replies (DESIGN §9): a mail
	// with it among its recipients is a note. "" = Address with "+comment"
	// before the '@'.
	CommentAddress string
	// AgentSettings are the optional settings of agents ([[agent]]); an
	// agent without an entry has no name and NotifyAll.
	AgentSettings []Agent
	// MailboxAgents names, per [[mailbox]] (Inbound.Via), the agents whose
	// cases that mailbox's are; a mailbox not listed has every agent.
	MailboxAgents map[string][]string
	// DefaultLanguage of cases when nothing else tells: "en" by default.
	DefaultLanguage string
	// ReopenDays is how long after closing a participant's reply reopens a
	// case; later it opens a new related case. 7 by default; negative means
	// a reply never reopens a closed case (Never).
	ReopenDays int
	// Contacts is the most additional contacts a case may have: 5 by default.
	Contacts int
	// AttachmentsPerMessage (3) and AttachmentBytes (5 MiB) limit the files
	// kept from one message.
	AttachmentsPerMessage int
	AttachmentBytes       int64
	// Targets are the first-response targets by severity; nil = those of
	// DefaultOptions (AWS Support's).
	Targets map[Severity]time.Duration
	// Plans by name (nil = the five plans of DESIGN §4, as DefaultOptions
	// gives them); DefaultPlan ("business") applies
	// to senders no Customers entry matches.
	Plans       map[string]Plan
	DefaultPlan string
	Customers   []Customer
	// Hours are the business hours of plans that count in business hours,
	// in the desk's time zone (a Customer's Location replaces it).
	Hours calendar.Hours
	// AutocloseDays is how long a pending case waits on the customer
	// before it is closed: 10 by default; negative means never (Never).
	AutocloseDays int
	// SurveyURL is the base of survey links ("https://help.example/survey/");
	// "" leaves the links out (customers can still answer by mail).
	SurveyURL string
	// SurveyKey signs survey links; required with SurveyURL.
	SurveyKey []byte
	// AutorepliesPerHour (10) limits the automatic mails one recipient gets
	// in an hour; NewCasesPerHour (20) the cases one sender opens in an
	// hour, after which their new mail is held. Negative means no limit.
	AutorepliesPerHour int
	NewCasesPerHour    int
	// AuthservID is the authserv-id of Authentication-Results headers
	// added by our own MTA (RFC 8601); when set, a participant's or agent's
	// mail that failed DMARC is held. "" trusts no such header.
	AuthservID string
	// IDs makes and checks our Message-IDs; required.
	IDs *threading.IDs
	// Now is the clock; nil = time.Now.
	Now func() time.Time
	// Logger receives a debug line per decision (intake logs the line an
	// admin reads, with the move); nil = discard.
	Logger *slog.Logger
}

// DefaultOptions returns the documented default of every option that has
// one: what New uses for a zero field, and what the configuration file's
// defaults are built from. Each call returns fresh maps. It has no Address
// or IDs, so New refuses it as it is.
func DefaultOptions() Options {
	return Options{
		Tag:                   threading.NewTagger("").Word(),
		DefaultLanguage:       "en",
		ReopenDays:            7,
		Contacts:              5,
		AttachmentsPerMessage: 3,
		AttachmentBytes:       5 << 20,
		Targets:               defaultTargets(),
		Plans:                 defaultPlans(),
		DefaultPlan:           "business",
		AutocloseDays:         10,
		AutorepliesPerHour:    10,
		NewCasesPerHour:       20,
	}
}

// withDefaults returns o with each zero field that has a default set to it.
func (o Options) withDefaults() Options {
	def := DefaultOptions()
	orDefault(&o.Tag, def.Tag)
	orDefault(&o.DefaultLanguage, def.DefaultLanguage)
	orDefault(&o.ReopenDays, def.ReopenDays)
	orDefault(&o.Contacts, def.Contacts)
	orDefault(&o.AttachmentsPerMessage, def.AttachmentsPerMessage)
	orDefault(&o.AttachmentBytes, def.AttachmentBytes)
	orDefault(&o.DefaultPlan, def.DefaultPlan)
	orDefault(&o.AutocloseDays, def.AutocloseDays)
	orDefault(&o.AutorepliesPerHour, def.AutorepliesPerHour)
	orDefault(&o.NewCasesPerHour, def.NewCasesPerHour)
	if o.Targets == nil {
		o.Targets = def.Targets
	}
	if o.Plans == nil {
		o.Plans = def.Plans
	}
	return o
}

// orDefault sets *v to def when *v is the zero value.
func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Desk applies the rules to inbound mail and to agents' actions.
type Desk struct {
	db  *store.DB
	o   Options
	tag threading.Tagger
	own map[string]bool
	agt map[string]bool
	// settings of the agents by address key; comment is the comment address.
	settings map[string]Agent
	comment  string
	// customerKeys are the address keys of o.Customers' Match, in order.
	customerKeys []string
}

// New returns a Desk working on db.
func New(db *store.DB, o Options) (*Desk, error) {
	if o.IDs == nil {
		return nil, errors.New("desk: Options.IDs is required")
	}
	if o.Address == "" {
		return nil, errors.New("desk: Options.Address is required")
	}
	o = o.withDefaults()
	if _, ok := o.Plans[o.DefaultPlan]; !ok {
		return nil, fmt.Errorf("desk: default plan %q is not among the plans", o.DefaultPlan)
	}
	if o.SurveyURL != "" && len(o.SurveyKey) < 16 {
		return nil, errors.New("desk: SurveyURL needs a SurveyKey of at least 16 bytes")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.CommentAddress == "" {
		o.CommentAddress = DefaultCommentAddress(o.Address)
	}
	d := &Desk{db: db, o: o, tag: threading.NewTagger(o.Tag), own: set(o.Address, o.CommentAddress),
		agt: set(o.Agents...), settings: map[string]Agent{}, comment: o.CommentAddress}
	for _, a := range o.OwnAddresses {
		d.own[addrKey(a)] = true
	}
	for _, c := range o.Customers {
		d.customerKeys = append(d.customerKeys, addrKey(c.Match))
	}
	for _, a := range o.AgentSettings {
		if !d.agt[addrKey(a.Address)] {
			return nil, fmt.Errorf("desk: agent settings for %s, which is not among the agents", a.Address)
		}
		d.settings[addrKey(a.Address)] = a
	}
	return d, nil
}

// DefaultCommentAddress is the comment address of a desk at address when
// none is configured: "+comment" before its '@' (support+comment@example.com),
// which reaches the same mailbox on servers with plus-addressing; "" for an
// address without '@'.
func DefaultCommentAddress(address string) string {
	at := strings.LastIndexByte(address, '@')
	if at < 0 {
		return ""
	}
	return address[:at] + "+comment" + address[at:]
}

// set returns the address keys of addrs.
func set(addrs ...string) map[string]bool {
	m := make(map[string]bool, len(addrs))
	for _, a := range addrs {
		m[addrKey(a)] = true
	}
	return m
}

// addrKey is the identity of an address: two addresses are one person's
// when their keys are equal (threading.AddressKey, no Unicode folding).
func addrKey(a string) string { return threading.AddressKey(a) }

// IsAgent reports whether addr is a configured agent.
func (d *Desk) IsAgent(addr string) bool { return d.agt[addrKey(addr)] }

// agentName is the configured display name of agent, "" when none.
func (d *Desk) agentName(agent string) string { return d.settings[addrKey(agent)].Name }

func (d *Desk) now() time.Time { return d.o.Now().UTC().Truncate(time.Millisecond) }

// Receive decides what one inbound mail is and records it: the raw bytes,
// the decision, the case change and every notification it causes, in one
// transaction. An error means nothing was recorded and the mail should be
// tried again later.
func (d *Desk) Receive(ctx context.Context, in *Inbound) (Result, error) {
	return d.receive(ctx, in, d.db.Tx)
}

// Rehearse decides what Receive would do with in, and records nothing.
func (d *Desk) Rehearse(ctx context.Context, in *Inbound) (Result, error) {
	return d.receive(ctx, in, d.db.Rehearse)
}

func (d *Desk) receive(ctx context.Context, in *Inbound, run func(context.Context, func(*store.Tx) error) error) (Result, error) {
	var res Result
	err := run(ctx, func(tx *store.Tx) error {
		r, err := d.decide(tx, in)
		res = r
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("receive %s: %w", in.MessageID, d.classifyErr(ctx, err))
	}
	d.o.Logger.Debug("received", "mailbox", in.Mailbox, "uid", in.UID, "msgid", in.MessageID,
		"outcome", string(res.Outcome), "case", res.Case, "reason", res.Reason)
	return res, nil
}

// classifyErr marks err as ErrUnavailable when the database, not the mail,
// is at fault: a temporary condition, or a database that does not answer.
func (d *Desk) classifyErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return err
	}
	if store.Temporary(err) || d.db.Ping(ctx) != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// Quarantine keeps raw bytes that could not be read as a mail, with the
// reason, so nothing is lost and the mail can be looked at or re-processed.
func (d *Desk) Quarantine(ctx context.Context, raw []byte, mailbox string, uid uint32, reason string) (Result, error) {
	return d.keep(ctx, &store.Raw{Bytes: raw, Mailbox: mailbox, UID: uid}, reason, nil)
}

// keep stores raw as quarantined with reason, then runs then (when not
// nil) in the same transaction; the same bytes again are a duplicate and
// run nothing.
func (d *Desk) keep(ctx context.Context, raw *store.Raw, reason string, then func(*store.Tx, time.Time) error) (Result, error) {
	res := Result{Outcome: Quarantined, Reason: reason}
	err := d.db.Tx(ctx, func(tx *store.Tx) error {
		now := d.now()
		raw.ReceivedAt = now
		id, existed, err := tx.InsertRaw(raw)
		if err != nil || existed {
			if existed {
				res = Result{Outcome: Duplicate, Reason: "same bytes stored before"}
			}
			return err
		}
		if err := tx.SetRawOutcome(id, string(Quarantined), reason, 0); err != nil {
			return err
		}
		if then != nil {
			return then(tx, now)
		}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("quarantine: %w", d.classifyErr(ctx, err))
	}
	d.o.Logger.Debug("quarantined", "mailbox", raw.Mailbox, "uid", raw.UID, "reason", reason)
	return res, nil
}

// decide is the whole intake rule, run inside the transaction.
func (d *Desk) decide(tx *store.Tx, in *Inbound) (Result, error) {
	now := d.now()
	raw := &store.Raw{Bytes: in.Raw, SHA256: in.RawSHA256, ReceivedAt: now, Mailbox: in.Mailbox, UID: in.UID}
	rawID, existed, err := tx.InsertRaw(raw)
	if err != nil {
		return Result{}, err
	}
	if existed {
		_, caseID, err := tx.RawOutcome(rawID)
		return Result{Outcome: Duplicate, Case: caseID, Reason: "same bytes stored before"}, err
	}
	res, err := d.classify(tx, in, rawID, now)
	if err != nil {
		return Result{}, err
	}
	if err := d.recordProgress(tx, in); err != nil {
		return Result{}, err
	}
	return res, tx.SetRawOutcome(rawID, string(res.Outcome), res.Reason, res.Case)
}

// recordProgress keeps how far intake has read an IMAP mailbox
// (mailbox_state), in the transaction of the mail's decision.
func (d *Desk) recordProgress(tx *store.Tx, in *Inbound) error {
	if in.Mailbox == "" || in.UID == 0 {
		return nil
	}
	st, err := tx.MailboxState(in.Mailbox)
	if err != nil {
		return err
	}
	if st.UIDValidity != in.UIDValidity {
		st = store.MailboxState{UIDValidity: in.UIDValidity}
	}
	st.LastUID = max(st.LastUID, in.UID)
	return tx.SetMailboxState(in.Mailbox, st)
}

func (d *Desk) classify(tx *store.Tx, in *Inbound, rawID int64, now time.Time) (Result, error) {
	if id, ok, err := tx.CaseOfMessageIDFrom(in.MessageID, in.From); err != nil || ok {
		return Result{Outcome: Duplicate, Case: id, Reason: "Message-ID stored before"}, err
	}
	if d.o.IDs.Ours(in.MessageID) {
		return Result{Outcome: AutoDropped, Reason: "our own message came back"}, nil
	}
	switch in.Machine {
	case MachineLoop:
		return Result{Outcome: AutoDropped, Reason: "carries our loop header"}, nil
	case MachineBounce:
		return d.bounce(tx, in, now)
	}
	c, err := d.thread(tx, in)
	if err != nil {
		return Result{}, err
	}
	if !strings.Contains(in.From, "@") {
		return Result{Outcome: Quarantined, Case: caseID(c), Reason: "no usable From address"}, nil
	}
	if d.own[addrKey(in.From)] {
		return Result{Outcome: AutoDropped, Case: caseID(c), Reason: "sent from our own address"}, nil
	}
	if c == nil {
		if in.Machine != MachineNone {
			return Result{Outcome: AutoDropped, Reason: "machine mail (" + string(in.Machine) + ") opens no case"}, nil
		}
		if over, err := d.tooManyCases(tx, in, now); err != nil || over {
			return Result{Outcome: Held, Reason: fmt.Sprintf("more than %d new cases from %s this hour", d.o.NewCasesPerHour, in.From)}, err
		}
		return d.open(tx, in, rawID, now, 0)
	}
	return d.reply(tx, c, in, rawID, now)
}

func caseID(c *store.Case) int64 {
	if c == nil {
		return 0
	}
	return c.ID
}

// thread finds the case a mail belongs to (RFC 5322 §3.6.4): our Message-ID
// tokens in In-Reply-To and References first, then a stored inbound
// Message-ID they name (a contact answering the customer's own mail), then
// the case tag in the subject. A number that names no case is ignored.
func (d *Desk) thread(tx *store.Tx, in *Inbound) (*store.Case, error) {
	n, ok := d.o.IDs.FindCase(in.InReplyTo, in.References)
	if !ok {
		for _, id := range append(append([]string{}, in.InReplyTo...), in.References...) {
			if n, ok, _ = tx.CaseOfMessageID(id); ok {
				break
			}
		}
	}
	if !ok {
		n, ok = d.tag.Find(in.Subject)
	}
	if !ok {
		return nil, nil
	}
	c, err := tx.Case(n)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return c, err
}

// bounce records a delivery status notification (RFC 3464) on the case of
// the mail it reports on. It never opens a case and is never answered.
func (d *Desk) bounce(tx *store.Tx, in *Inbound, now time.Time) (Result, error) {
	res := Result{Outcome: Bounced, Reason: "delivery status notification"}
	if in.Bounce == nil {
		return res, nil
	}
	n, ok := d.o.IDs.Case(in.Bounce.OriginalMessageID)
	if !ok {
		return res, nil
	}
	c, err := tx.Case(n)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return res, nil
		}
		return Result{}, err
	}
	report := strings.TrimSpace(fmt.Sprintf("%s %s: %s", strings.Join(in.Bounce.Recipients, ", "), in.Bounce.Status, in.Bounce.Diagnostic))
	if _, err := tx.MarkBounced(in.Bounce.OriginalMessageID, report); err != nil {
		return Result{}, err
	}
	res.Case = n
	if err := addEvent(tx, n, now, EventDeliveryFailed, in.Bounce.OriginalMessageID+" to "+report); err != nil {
		return Result{}, err
	}
	return res, d.tellUndeliverable(tx, c, in.Bounce.Recipients, report, now)
}

// tellUndeliverable tells the agents of case c that mail to recipients
// failed, unless it was mail to agents only (a notice to an agent whose
// mailbox is gone must not breed more notices).
func (d *Desk) tellUndeliverable(tx *store.Tx, c *store.Case, recipients []string, report string, now time.Time) error {
	toAgents := len(recipients) > 0
	for _, r := range recipients {
		toAgents = toAgents && d.IsAgent(r)
	}
	if toAgents {
		return nil
	}
	return d.tellAgents(tx, c, noticeOf{code: store.CodeUndeliverable, internal: true, reason: report}, now)
}

// Tag formats the case tag of case n, e.g. "[Case #7]".
func (d *Desk) Tag(n int64) string { return d.tag.Format(n) }
