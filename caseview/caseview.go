// Package caseview is a case as `postdesk case show -json` prints it and the
// dashboard of DESIGN §12 will show it, read from the store: the case with
// its participants, messages, attachments, events and outbox rows, in the
// JSON shape of DESIGN §5 (field names and order are that contract). It
// only reads; the desk decides and writes.
package caseview

import (
	"context"
	"time"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/store"
)

// Store is what a view reads: *store.DB.
type Store interface {
	Case(ctx context.Context, id int64) (*store.Case, error)
	Cases(ctx context.Context, status string) ([]*store.Case, error)
	Participants(ctx context.Context, caseID int64) ([]store.Participant, error)
	CaseRating(ctx context.Context, caseID int64) (rating int, ok bool, err error)
	Messages(ctx context.Context, caseID int64) ([]*store.Message, error)
	Events(ctx context.Context, caseID int64) ([]store.Event, error)
	Outbox(ctx context.Context, caseID int64) ([]*store.OutboxItem, error)
}

var _ Store = (*store.DB)(nil)

// Case is a case as `case show -json` prints it (DESIGN §5). `case list
// -json` leaves out messages, events and outbox.
type Case struct {
	ID               int64         `json:"id"`
	Subject          string        `json:"subject"`
	Status           string        `json:"status"`
	Severity         string        `json:"severity"`
	Type             string        `json:"type"`
	Service          string        `json:"service"`
	Category         string        `json:"category"`
	Language         string        `json:"language"`
	Plan             string        `json:"plan"`
	Requester        string        `json:"requester"`
	Assignee         string        `json:"assignee"`
	CreatedAt        time.Time     `json:"created_at"`
	FirstResponseDue *time.Time    `json:"first_response_due"`
	FirstResponseAt  *time.Time    `json:"first_response_at"`
	ClosedAt         *time.Time    `json:"closed_at"`
	Rating           *int          `json:"rating"`
	RelatedCase      int64         `json:"related_case"`
	Participants     []Participant `json:"participants"`
	Messages         []Message     `json:"messages,omitempty"`
	Events           []Event       `json:"events,omitempty"`
	Outbox           []OutboxRow   `json:"outbox,omitempty"`
}

// Participant is a contact or agent of a case; the requester is not listed
// (Case.Requester names it).
type Participant struct {
	Address string `json:"address"`
	Role    string `json:"role"`
}

// Message is one mail or note of a case, in or out.
type Message struct {
	ID                  int64        `json:"id"`
	Direction           string       `json:"direction"`
	Kind                string       `json:"kind"`
	From                string       `json:"from"`
	To                  []string     `json:"to"`
	Cc                  []string     `json:"cc"`
	Subject             string       `json:"subject"`
	MessageID           string       `json:"message_id"`
	Date                *time.Time   `json:"date"`
	Text                string       `json:"text"`
	NewText             string       `json:"new_text"`
	Attachments         []Attachment `json:"attachments"`
	RejectedAttachments []Rejected   `json:"rejected_attachments"`
}

// Attachment is a file kept with a message.
type Attachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
}

// Rejected is a file of a message that was not kept, and why.
type Rejected struct {
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
	Reason   string `json:"reason"`
}

// Event is one line of a case's history.
type Event struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Detail string    `json:"detail"`
}

// OutboxRow is one row of `outbox list -json` and of a case's "outbox".
type OutboxRow struct {
	ID            int64      `json:"id"`
	Kind          string     `json:"kind"`
	Case          int64      `json:"case"`
	To            []string   `json:"to"`
	Cc            []string   `json:"cc"`
	MessageID     string     `json:"message_id"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	LastError     string     `json:"last_error"`
	Bounce        string     `json:"bounce,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	SentAt        *time.Time `json:"sent_at"`
}

// optTime is nil for the zero time (JSON null), else t.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// List reads the cases with status ("all", "open", "pending" or "closed"),
// as summaries: no messages, events or outbox. It is never nil.
func List(ctx context.Context, db Store, status string) ([]Case, error) {
	cases, err := db.Cases(ctx, status)
	if err != nil {
		return nil, err
	}
	out := make([]Case, 0, len(cases))
	for _, k := range cases {
		cj, err := Summary(ctx, db, k)
		if err != nil {
			return nil, err
		}
		out = append(out, cj)
	}
	return out, nil
}

// Summary is k with its participants and rating, without messages, events
// and outbox.
func Summary(ctx context.Context, db Store, k *store.Case) (Case, error) {
	ps, err := db.Participants(ctx, k.ID)
	if err != nil {
		return Case{}, err
	}
	cj := Case{
		ID: k.ID, Subject: k.Subject, Status: k.Status, Severity: k.Severity, Type: k.Type,
		Service: k.Service, Category: k.Category, Language: k.Language, Plan: k.Plan,
		Requester: k.Requester, Assignee: k.Assignee, CreatedAt: k.CreatedAt,
		FirstResponseDue: optTime(k.FirstResponseDue), FirstResponseAt: optTime(k.FirstResponseAt),
		ClosedAt: optTime(k.ClosedAt), RelatedCase: k.RelatedCase, Participants: []Participant{},
	}
	if r, ok, err := db.CaseRating(ctx, k.ID); err != nil {
		return Case{}, err
	} else if ok {
		cj.Rating = &r
	}
	for _, p := range ps {
		if p.Role != string(desk.RoleRequester) {
			cj.Participants = append(cj.Participants, Participant{Address: p.Address, Role: p.Role})
		}
	}
	return cj, nil
}

// Detail reads case n with its messages, events and outbox.
func Detail(ctx context.Context, db Store, n int64) (Case, error) {
	k, err := db.Case(ctx, n)
	if err != nil {
		return Case{}, err
	}
	cj, err := Summary(ctx, db, k)
	if err != nil {
		return Case{}, err
	}
	msgs, err := db.Messages(ctx, n)
	if err != nil {
		return Case{}, err
	}
	cj.Messages = make([]Message, 0, len(msgs))
	for _, m := range msgs {
		cj.Messages = append(cj.Messages, message(m))
	}
	events, err := db.Events(ctx, n)
	if err != nil {
		return Case{}, err
	}
	cj.Events = make([]Event, 0, len(events))
	for _, e := range events {
		cj.Events = append(cj.Events, Event(e))
	}
	if cj.Outbox, err = Outbox(ctx, db, n); err != nil {
		return Case{}, err
	}
	return cj, nil
}

// message is m as a case shows it: its Message-ID in angle brackets, its
// attachment lists never null.
func message(m *store.Message) Message {
	mj := Message{ID: m.ID, Direction: m.Direction, Kind: m.Kind, From: m.From, To: m.To, Cc: m.Cc,
		Subject: m.Subject, Date: optTime(m.Date), Text: m.Text, NewText: m.NewText,
		Attachments: []Attachment{}, RejectedAttachments: []Rejected{}}
	if m.MessageID != "" {
		mj.MessageID = "<" + m.MessageID + ">"
	}
	for _, at := range m.Attachments {
		mj.Attachments = append(mj.Attachments, Attachment{Filename: at.Filename,
			ContentType: at.ContentType, Size: at.Size, SHA256: at.SHA256})
	}
	for _, r := range m.Rejected {
		mj.RejectedAttachments = append(mj.RejectedAttachments, Rejected{Filename: r.Filename, Size: r.Size, Reason: r.Reason})
	}
	return mj
}

// Outbox reads the outbox rows of case n, of every case when n is 0. It is
// never nil.
func Outbox(ctx context.Context, db Store, n int64) ([]OutboxRow, error) {
	items, err := db.Outbox(ctx, n)
	if err != nil {
		return nil, err
	}
	rows := make([]OutboxRow, 0, len(items))
	for _, it := range items {
		rows = append(rows, outboxRow(it))
	}
	return rows, nil
}

// outboxRow is it as the outbox lists show it: the next attempt only while
// it is queued.
func outboxRow(it *store.OutboxItem) OutboxRow {
	r := OutboxRow{ID: it.ID, Kind: it.Kind, Case: it.CaseID, To: it.To, Cc: it.Cc,
		MessageID: "<" + it.MessageID + ">", Status: it.Status, Attempts: it.Attempts,
		LastError: it.LastError, Bounce: it.Bounce, CreatedAt: it.CreatedAt, SentAt: optTime(it.SentAt)}
	if it.Status == store.OutboxQueued {
		r.NextAttemptAt = optTime(it.NextAttemptAt)
	}
	return r
}
