package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// The kinds of outbound mail. Each has a template of the same name.
const (
	MailConfirmation = "confirmation" // a new case was opened
	MailReply        = "reply"        // an agent answered
	MailStatus       = "status"       // the case changed status
	MailClosed       = "closed"       // the case was closed (with the survey)
	MailRefusal      = "refusal"      // the mail could not open a case
	MailAlert        = "alert"        // something for the notify list
	MailContact      = "contact"      // the contacts named in Cc of a new case: who added them, the case number
	// Mail to agents (DESIGN §9), in the desk's default language.
	MailNotice     = "notice"     // something happened on a case an agent works
	MailTranscript = "transcript" // what became of an agent's mail and its commands
)

// The states of an outbox row.
const (
	OutboxQueued = "queued"
	OutboxSent   = "sent"
	OutboxFailed = "failed"
)

// Notice is everything a template needs to write one mail, fixed when the
// mail is enqueued so that a later change to the case does not change it.
type Notice struct {
	Case             int64     `json:"case,omitempty"`
	Tag              string    `json:"tag,omitempty"`     // "[Case #7]"
	Subject          string    `json:"subject,omitempty"` // the case subject
	Status           string    `json:"status,omitempty"`
	Severity         string    `json:"severity,omitempty"`
	Type             string    `json:"type,omitempty"`
	Service          string    `json:"service,omitempty"`
	Requester        string    `json:"requester,omitempty"`
	FirstResponseDue time.Time `json:"first_response_due,omitzero"`
	// ContactsAdded and ContactsRefused tell who now receives case mail.
	ContactsAdded   []string  `json:"contacts_added,omitempty"`
	ContactsRefused []Refusal `json:"contacts_refused,omitempty"`
	// InvalidAddresses counts the Cc entries that were no mailable address:
	// text that fails the address rule is never copied into a mail.
	InvalidAddresses int `json:"invalid_addresses,omitempty"`
	// Rejected lists files of the customer's mail that were not kept.
	Rejected []Rejected `json:"rejected,omitempty"`
	// Author is who wrote Body (an agent's address on replies).
	Author string `json:"author,omitempty"`
	// Body is text to include: an agent's reply, or in a notice to agents
	// the new text of the message it reports. Never a customer's text in
	// mail to anyone but agents.
	Body string `json:"body,omitempty"`
	// Attachments are files to attach, by digest (their data is in the store).
	Attachments []Attachment `json:"attachments,omitempty"`
	Resolution  string       `json:"resolution,omitempty"`
	// Reason explains a refusal, an alert or a status change, in English,
	// for agents; Code names the same event for templates to say in the
	// mail's language.
	Reason string `json:"reason,omitempty"`
	Code   string `json:"code,omitempty"`
	// Plan is the customer's support plan; SeverityAsked is the severity the
	// customer asked for when it differs from the one given.
	Plan          string `json:"plan,omitempty"`
	SeverityAsked string `json:"severity_asked,omitempty"`
	// SurveyLinks are the five rating links (1 to 5) of a closing mail or of
	// an agent's answer.
	SurveyLinks []string `json:"survey_links,omitempty"`

	// What only mail to agents carries (notices and transcripts), and the
	// agent's name on their answers.

	// FromName is the name before " via <desk name>" on the From line:
	// the sender of the reported message on a notice, the agent on an
	// answer; "" means the desk's own name alone.
	FromName string `json:"from_name,omitempty"`
	// ReplyTo is the Reply-To address; "" means the desk address.
	ReplyTo string `json:"reply_to,omitempty"`
	// RequesterName is the requester's display name; Contacts the case's
	// contacts and Assignee the agent it is assigned to ("" = nobody).
	RequesterName string   `json:"requester_name,omitempty"`
	Contacts      []string `json:"contacts,omitempty"`
	Assignee      string   `json:"assignee,omitempty"`
	// At is when the reported event happened: "due in" and "overdue by"
	// are counted from it.
	At time.Time `json:"at,omitzero"`
	// RelatedTag is the tag of the case a new case follows ("[Case #3]");
	// Rating a poor survey answer.
	RelatedTag string `json:"related_tag,omitempty"`
	Rating     int    `json:"rating,omitempty"`
	// Commands are the command lines of an agent's mail and what became of
	// each (transcripts).
	Commands []CommandResult `json:"commands,omitempty"`
}

// CommandResult is one command line of an agent's mail and its result.
type CommandResult struct {
	Line string `json:"line"`          // the command as written, e.g. "#severity high"
	Code string `json:"code"`          // Result* below
	Arg  string `json:"arg,omitempty"` // what the result names: a value, a limit, an address
}

// Results of a command (CommandResult.Code).
const (
	ResultDone       = "done"        // carried out
	ResultUnknown    = "unknown"     // no such command
	ResultNotAllowed = "not-allowed" // not allowed here (Arg says why in English)
	ResultBadValue   = "bad-value"   // the argument is not one the command takes (Arg: the choices)
	ResultTooMany    = "too-many"    // over the commands one mail may carry (Arg: the limit)
	ResultNotRun     = "not-run"     // not run: another line of the mail was refused
	ResultNoHeld     = "no-held"     // #release not in reply to a held-mail notice
	ResultLimit      = "limit"       // the case has its most contacts (Arg: the limit)
)

// Codes of Notice.Code: what happened, for the templates.
const (
	CodeSeverityCapped = "severity-capped" // the plan allows less than was asked
	CodeSeverityFixed  = "severity-fixed"  // a customer tried to change severity
	CodeNoTechnical    = "no-technical"    // the plan has no technical support
	CodeEscalated      = "escalated"       // the customer asked to escalate
	CodeOverdue        = "overdue"         // past the first-response target
	CodeUndeliverable  = "undeliverable"   // a mail could not be delivered
	CodeStatus         = "status"          // an agent changed the status
	CodeClosed         = "closed"          // the case was closed
	CodeAutoclosed     = "autoclosed"      // closed after waiting on the customer
	CodeReopened       = "reopened"        // a reply reopened the case
	CodeTooLarge       = "too-large"       // the mail was over the size limit

	CodeInvalidAddress  = "invalid-address"   // a Cc address that cannot be mailed
	CodeTooManyContacts = "too-many-contacts" // over the contact limit
	CodeNoContacts      = "no-contacts"       // the plan has no additional contacts
	CodeFileTooLarge    = "file-too-large"    // an attachment over the size limit
	CodeTooManyFiles    = "too-many-files"    // over the file count limit

	// What a notice reports (Notice.Code of MailNotice).
	CodeNewCase       = "new-case"       // a case was opened (RelatedTag: the case it follows)
	CodeCustomerReply = "customer-reply" // a participant wrote on the case
	CodeHeld          = "held"           // mail was held on the case (Reason: why)
	CodePoorRating    = "poor-rating"    // a survey answer of 1 or 2 (Rating)
	CodeNote          = "note"           // another agent wrote an internal note
	// CodeReopened, CodeEscalated, CodeOverdue and CodeUndeliverable
	// above are reported to agents too.

	// What became of an agent's mail (Notice.Code of MailTranscript).
	CodeAnswered     = "answered"      // the text went to the customer
	CodeNoted        = "noted"         // kept as an internal note, as asked
	CodeNoText       = "no-text"       // nothing new above the quoted mail: nothing sent
	CodeLeak         = "leak"          // the text held a line of our notice: kept as a note (Reason: which)
	CodeRefusedText  = "refused-text"  // a command was refused, so the text was kept as a note
	CodeCommandsOnly = "commands-only" // only commands, no text
	CodeForged       = "forged"        // a mail in the agent's name was held (to the real agent)
)

// Refusal is an address that was not added, and why.
type Refusal struct {
	Address string `json:"address"`
	Reason  string `json:"reason"`
	// Code and Limit say the same for templates: CodeInvalidAddress,
	// CodeTooManyContacts (Limit: the most contacts) or CodeNoContacts.
	Code  string `json:"code,omitempty"`
	Limit int64  `json:"limit,omitempty"`
}

// OutboxItem is one mail to send, and what became of it.
type OutboxItem struct {
	ID            int64
	Kind          string
	CaseID        int64
	Lang          string
	To            []string
	Cc            []string
	MessageID     string // ours, without angle brackets, fixed at enqueue
	InReplyTo     string
	References    []string
	Notice        Notice
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	SentAt        time.Time
	Raw           []byte // the bytes sent, once sent
	Bounce        string // what a bounce reported after sending, if any
	// ClaimedBy is the sender working on the row ("" = nobody) and
	// ClaimedUntil the end of its claim (see ClaimOutbox).
	ClaimedBy    string
	ClaimedUntil time.Time
}

// Enqueue adds a mail to the outbox, due at once, and sets it.ID.
func (tx *Tx) Enqueue(it *OutboxItem) error {
	notice, err := json.Marshal(it.Notice)
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", it.Kind, err)
	}
	var caseID sql.NullInt64
	if it.CaseID != 0 {
		caseID = sql.NullInt64{Int64: it.CaseID, Valid: true}
	}
	if it.NextAttemptAt.IsZero() {
		it.NextAttemptAt = it.CreatedAt
	}
	it.Status = OutboxQueued
	res, err := tx.tx.ExecContext(tx.ctx, `INSERT INTO outbox (kind, case_id, lang, to_addrs, cc_addrs,
		message_id, in_reply_to, refs, notice, status, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		it.Kind, caseID, it.Lang, jsonList(it.To), jsonList(it.Cc), it.MessageID, it.InReplyTo,
		jsonList(it.References), string(notice), it.Status, it.NextAttemptAt.UnixMilli(), it.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", it.Kind, err)
	}
	it.ID, err = res.LastInsertId()
	return err
}

const outboxColumns = `id, kind, case_id, lang, to_addrs, cc_addrs, message_id, in_reply_to, refs,
	notice, status, attempts, next_attempt_at, last_error, created_at, sent_at, raw, bounce,
	claimed_by, claimed_until`

func scanOutbox(s scanner) (*OutboxItem, error) {
	var it OutboxItem
	var caseID, next, created, sent, until sql.NullInt64
	var to, cc, refs, notice string
	err := s.Scan(&it.ID, &it.Kind, &caseID, &it.Lang, &to, &cc, &it.MessageID, &it.InReplyTo, &refs,
		&notice, &it.Status, &it.Attempts, &next, &it.LastError, &created, &sent, &it.Raw, &it.Bounce,
		&it.ClaimedBy, &until)
	if err != nil {
		return nil, err
	}
	it.CaseID = caseID.Int64
	it.To, it.Cc, it.References = parseList(to), parseList(cc), parseList(refs)
	it.NextAttemptAt, it.CreatedAt, it.SentAt = fromMS(next), fromMS(created), fromMS(sent)
	it.ClaimedUntil = fromMS(until)
	if err := json.Unmarshal([]byte(notice), &it.Notice); err != nil {
		return nil, fmt.Errorf("outbox row %d: bad notice: %w", it.ID, err)
	}
	return &it, nil
}

func (db *DB) outboxQuery(ctx context.Context, where string, args ...any) ([]*OutboxItem, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+outboxColumns+" FROM outbox "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	defer rows.Close()
	var out []*OutboxItem
	for rows.Next() {
		it, err := scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("read outbox: %w", err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// ClaimOutbox takes up to limit queued mails that are due at now and not
// claimed by another sender (or whose claim has lapsed), oldest first, and
// claims them for node until now+lease, in one transaction, so that another
// sender (the daemon and `outbox flush` at once, or several nodes) does not
// take them too. next_attempt_at is left as it was: a claimed mail is still
// due. The holder renews its claims while it works through them
// (RenewClaims), ends each with MarkSent, MarkRetry or MarkFailed, and gives
// back what it did not reach (ReleaseRows). A sender that dies holding
// claims leaves them to lapse, or to be taken back at once by its
// successor under the same node (ReleaseClaims): mail is sent at least once.
func (db *DB) ClaimOutbox(ctx context.Context, node string, now time.Time, lease time.Duration, limit int) ([]*OutboxItem, error) {
	var out []*OutboxItem
	err := db.Tx(ctx, func(tx *Tx) error {
		rows, err := tx.tx.QueryContext(ctx, `UPDATE outbox SET claimed_by = ?, claimed_until = ?
			WHERE id IN (SELECT id FROM outbox WHERE status = 'queued' AND next_attempt_at <= ?
				AND (claimed_until IS NULL OR claimed_until <= ?)
				ORDER BY next_attempt_at, id LIMIT ?)
			RETURNING `+outboxColumns, node, now.Add(lease).UnixMilli(), now.UnixMilli(), now.UnixMilli(), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			it, err := scanOutbox(rows)
			if err != nil {
				return err
			}
			out = append(out, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	slices.SortFunc(out, func(a, b *OutboxItem) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// RenewClaims moves the end of node's claims on the rows ids to until, for
// those still queued and claimed by node; it reports how many it renewed.
// A row whose claim lapsed and was taken by another sender is not renewed.
func (db *DB) RenewClaims(ctx context.Context, node string, ids []int64, until time.Time) (int, error) {
	res, err := db.exec(ctx, `UPDATE outbox SET claimed_until = ?
		WHERE claimed_by = ? AND status = 'queued' AND id IN (SELECT value FROM json_each(?))`,
		until.UnixMilli(), node, jsonIDs(ids))
	if err != nil {
		return 0, fmt.Errorf("renew outbox claims of %s: %w", node, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// ReleaseRows gives back node's claims on the rows ids that are still
// queued: they are due again as they were before the claim.
func (db *DB) ReleaseRows(ctx context.Context, node string, ids []int64) error {
	_, err := db.exec(ctx, `UPDATE outbox SET claimed_by = '', claimed_until = NULL
		WHERE claimed_by = ? AND status = 'queued' AND id IN (SELECT value FROM json_each(?))`, node, jsonIDs(ids))
	if err != nil {
		return fmt.Errorf("release outbox claims of %s: %w", node, err)
	}
	return nil
}

// ReleaseClaims gives back every claim node holds on queued rows and
// reports how many: a sender starting under the name of one that died or
// stopped takes its claims back at once instead of waiting for them to
// lapse. Only one running sender may use a node name.
func (db *DB) ReleaseClaims(ctx context.Context, node string) (int, error) {
	res, err := db.exec(ctx, `UPDATE outbox SET claimed_by = '', claimed_until = NULL
		WHERE claimed_by = ? AND status = 'queued'`, node)
	if err != nil {
		return 0, fmt.Errorf("release outbox claims of %s: %w", node, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// MakeAllDue makes every queued mail due at now, those waiting to be
// retried included (`postdesk outbox flush -all`), and reports how many it
// moved. Claims are left alone: a mail a sender is working on stays its.
func (db *DB) MakeAllDue(ctx context.Context, now time.Time) (int, error) {
	res, err := db.exec(ctx, `UPDATE outbox SET next_attempt_at = ?
		WHERE status = 'queued' AND next_attempt_at > ?`, now.UnixMilli(), now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("make outbox due: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func jsonIDs(ids []int64) string {
	if ids == nil {
		ids = []int64{}
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

// NextDue reports when the earliest queued mail can be claimed: when it is
// due, or when its claim ends if that is later; ok is false when nothing is
// queued.
func (db *DB) NextDue(ctx context.Context) (at time.Time, ok bool, err error) {
	var next sql.NullInt64
	err = db.sql.QueryRowContext(ctx, `SELECT MIN(MAX(next_attempt_at, COALESCE(claimed_until, 0)))
		FROM outbox WHERE status = 'queued'`).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read outbox: %w", err)
	}
	return fromMS(next), next.Valid, nil
}

// Outbox lists the outbox of one case (caseID > 0) or all of it, oldest first.
func (db *DB) Outbox(ctx context.Context, caseID int64) ([]*OutboxItem, error) {
	if caseID > 0 {
		return db.outboxQuery(ctx, "WHERE case_id = ? ORDER BY id", caseID)
	}
	return db.outboxQuery(ctx, "ORDER BY id")
}

// OutboxItem reads one outbox row.
func (db *DB) OutboxItem(ctx context.Context, id int64) (*OutboxItem, error) {
	it, err := scanOutbox(db.sql.QueryRowContext(ctx, "SELECT "+outboxColumns+" FROM outbox WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("outbox row %d: %w", id, ErrNotFound)
	}
	return it, err
}

// markSent is the statement of MarkSent.
const markSent = `UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, raw = ?,
	last_error = '', claimed_by = '', claimed_until = NULL WHERE id = ? AND status = 'queued'`

// MarkSent records that the SMTP server accepted the mail of row id,
// keeping the bytes that were sent. The sender calls it before it sends the
// next mail, so that a crash sends again at most the one mail in flight.
func (db *DB) MarkSent(ctx context.Context, id int64, raw []byte, at time.Time) error {
	if _, err := db.exec(ctx, markSent, at.UnixMilli(), raw, id); err != nil {
		return fmt.Errorf("mark outbox row %d sent: %w", id, err)
	}
	return nil
}

// MarkRetry records a temporary failure and when to try again, and ends
// the row's claim.
func (db *DB) MarkRetry(ctx context.Context, id int64, next time.Time, reason string) error {
	_, err := db.exec(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?,
		last_error = ?, claimed_by = '', claimed_until = NULL WHERE id = ? AND status = 'queued'`,
		next.UnixMilli(), reason, id)
	if err != nil {
		return fmt.Errorf("mark outbox row %d for retry: %w", id, err)
	}
	return nil
}

// MarkFailed records that the mail will not be sent and adds a "delivery
// failed" event to its case; then, when not nil, runs in the same
// transaction (the desk queues its alert and notices about the failure).
func (db *DB) MarkFailed(ctx context.Context, id int64, at time.Time, reason string, then func(*Tx) error) error {
	return db.Tx(ctx, func(tx *Tx) error {
		var caseID sql.NullInt64
		var kind, to string
		err := tx.tx.QueryRowContext(ctx, `UPDATE outbox SET status = 'failed', attempts = attempts + 1,
			last_error = ?, claimed_by = '', claimed_until = NULL WHERE id = ? AND status = 'queued'
			RETURNING case_id, kind, to_addrs`, reason, id).Scan(&caseID, &kind, &to)
		if err != nil {
			return fmt.Errorf("mark outbox row %d failed: %w", id, err)
		}
		if then != nil {
			if err := then(tx); err != nil {
				return err
			}
		}
		if !caseID.Valid {
			return nil
		}
		detail := fmt.Sprintf("%s to %s: %s", kind, to, reason)
		return tx.AddEvent(caseID.Int64, at, "delivery failed", detail)
	})
}
