package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Case is one support case. Zero times mean "not yet".
type Case struct {
	ID               int64
	Subject          string
	Status           string // open, pending, closed
	Severity         string
	Type             string
	Service          string
	Category         string
	Language         string
	Plan             string
	Requester        string
	Assignee         string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	FirstResponseDue time.Time
	FirstResponseAt  time.Time
	EscalatedAt      time.Time
	PendingAt        time.Time
	ClosedAt         time.Time
	RelatedCase      int64
	// RequesterName is the display name of the requester's first mail.
	RequesterName string
	// Mailbox names the [[mailbox]] the case came in on ("" when none).
	Mailbox string
}

// Participant is an address taking part in a case.
type Participant struct {
	Address string
	Role    string // requester, contact, agent
}

// Event is one line of a case's audit trail.
type Event struct {
	At     time.Time
	Kind   string
	Detail string
}

// querier is what both *sql.DB and *sql.Tx offer, so each read is written once.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

const caseColumns = `id, subject, status, severity, type, service, category, language, plan,
	requester, assignee, created_at, updated_at, first_response_due, first_response_at,
	escalated_at, pending_at, closed_at, related_case, requester_name, mailbox`

type scanner interface{ Scan(dest ...any) error }

func scanCase(s scanner) (*Case, error) {
	var c Case
	var created, updated, due, first, esc, pending, closed, related sql.NullInt64
	err := s.Scan(&c.ID, &c.Subject, &c.Status, &c.Severity, &c.Type, &c.Service, &c.Category,
		&c.Language, &c.Plan, &c.Requester, &c.Assignee, &created, &updated, &due, &first,
		&esc, &pending, &closed, &related, &c.RequesterName, &c.Mailbox)
	if err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	c.FirstResponseDue, c.FirstResponseAt = fromMS(due), fromMS(first)
	c.EscalatedAt, c.PendingAt, c.ClosedAt = fromMS(esc), fromMS(pending), fromMS(closed)
	c.RelatedCase = related.Int64
	return &c, nil
}

func getCase(ctx context.Context, q querier, id int64) (*Case, error) {
	c, err := scanCase(q.QueryRowContext(ctx, "SELECT "+caseColumns+" FROM cases WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("case %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read case %d: %w", id, err)
	}
	return c, nil
}

// Case reads case id; ErrNotFound when there is none.
func (db *DB) Case(ctx context.Context, id int64) (*Case, error) { return getCase(ctx, db.sql, id) }

// Case reads case id inside the transaction.
func (tx *Tx) Case(id int64) (*Case, error) { return getCase(tx.ctx, tx.tx, id) }

// Cases lists cases with the given status ("" or "all" for every case),
// newest first.
func (db *DB) Cases(ctx context.Context, status string) ([]*Case, error) {
	query := "SELECT " + caseColumns + " FROM cases"
	var args []any
	if status != "" && status != "all" {
		query += " WHERE status = ?"
		args = append(args, status)
	}
	rows, err := db.sql.QueryContext(ctx, query+" ORDER BY id DESC", args...)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	defer rows.Close()
	var out []*Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, fmt.Errorf("list cases: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// InsertCase stores a new case and sets c.ID to its number.
func (tx *Tx) InsertCase(c *Case) error {
	var related sql.NullInt64
	if c.RelatedCase != 0 {
		related = sql.NullInt64{Int64: c.RelatedCase, Valid: true}
	}
	res, err := tx.tx.ExecContext(tx.ctx, `INSERT INTO cases (subject, status, severity, type,
		service, category, language, plan, requester, assignee, created_at, updated_at,
		first_response_due, first_response_at, escalated_at, pending_at, closed_at, related_case,
		requester_name, mailbox)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Subject, c.Status, c.Severity, c.Type, c.Service, c.Category, c.Language, c.Plan,
		c.Requester, c.Assignee, ms(c.CreatedAt), ms(c.UpdatedAt), ms(c.FirstResponseDue),
		ms(c.FirstResponseAt), ms(c.EscalatedAt), ms(c.PendingAt), ms(c.ClosedAt), related,
		c.RequesterName, c.Mailbox)
	if err != nil {
		return fmt.Errorf("insert case: %w", err)
	}
	c.ID, err = res.LastInsertId()
	return err
}

// UpdateCase writes every field of c back to its row.
func (tx *Tx) UpdateCase(c *Case) error {
	var related sql.NullInt64
	if c.RelatedCase != 0 {
		related = sql.NullInt64{Int64: c.RelatedCase, Valid: true}
	}
	_, err := tx.tx.ExecContext(tx.ctx, `UPDATE cases SET subject = ?, status = ?, severity = ?,
		type = ?, service = ?, category = ?, language = ?, plan = ?, requester = ?, assignee = ?,
		updated_at = ?, first_response_due = ?, first_response_at = ?, escalated_at = ?,
		pending_at = ?, closed_at = ?, related_case = ? WHERE id = ?`,
		c.Subject, c.Status, c.Severity, c.Type, c.Service, c.Category, c.Language, c.Plan,
		c.Requester, c.Assignee, ms(c.UpdatedAt), ms(c.FirstResponseDue), ms(c.FirstResponseAt),
		ms(c.EscalatedAt), ms(c.PendingAt), ms(c.ClosedAt), related, c.ID)
	if err != nil {
		return fmt.Errorf("update case %d: %w", c.ID, err)
	}
	return nil
}

func participants(ctx context.Context, q querier, caseID int64) ([]Participant, error) {
	rows, err := q.QueryContext(ctx, `SELECT address, role FROM participants WHERE case_id = ?
		ORDER BY CASE role WHEN 'requester' THEN 0 WHEN 'contact' THEN 1 ELSE 2 END, added_at, address`, caseID)
	if err != nil {
		return nil, fmt.Errorf("read participants of case %d: %w", caseID, err)
	}
	defer rows.Close()
	var out []Participant
	for rows.Next() {
		var p Participant
		if err := rows.Scan(&p.Address, &p.Role); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Participants lists the participants of a case, requester first.
func (db *DB) Participants(ctx context.Context, caseID int64) ([]Participant, error) {
	return participants(ctx, db.sql, caseID)
}

// Participants lists the participants of a case inside the transaction.
func (tx *Tx) Participants(caseID int64) ([]Participant, error) {
	return participants(tx.ctx, tx.tx, caseID)
}

// AddParticipant adds address to the case with role; an address already
// taking part keeps its first role. The address is stored as given: the
// desk passes its identity key (threading.AddressKey), the one rule; the
// store folds nothing itself.
func (tx *Tx) AddParticipant(caseID int64, address, role string, at time.Time) error {
	_, err := tx.tx.ExecContext(tx.ctx, `INSERT INTO participants (case_id, address, role, added_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (case_id, address) DO NOTHING`,
		caseID, address, role, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("add participant to case %d: %w", caseID, err)
	}
	return nil
}

// AddEvent appends an event to the case's audit trail.
func (tx *Tx) AddEvent(caseID int64, at time.Time, kind, detail string) error {
	_, err := tx.tx.ExecContext(tx.ctx, "INSERT INTO events (case_id, at, kind, detail) VALUES (?, ?, ?, ?)",
		caseID, at.UnixMilli(), kind, detail)
	if err != nil {
		return fmt.Errorf("add event to case %d: %w", caseID, err)
	}
	return nil
}

// Events lists the audit trail of a case, oldest first.
func (db *DB) Events(ctx context.Context, caseID int64) ([]Event, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT at, kind, detail FROM events WHERE case_id = ? ORDER BY id", caseID)
	if err != nil {
		return nil, fmt.Errorf("read events of case %d: %w", caseID, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at sql.NullInt64
		if err := rows.Scan(&at, &e.Kind, &e.Detail); err != nil {
			return nil, err
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

func jsonList(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func parseList(s string) []string {
	var v []string
	if json.Unmarshal([]byte(s), &v) != nil || v == nil {
		return []string{}
	}
	return v
}

// The queries behind the desk's periodic checks.

// OverdueCases lists open or pending cases without a first response whose
// target passed before now and that were not escalated yet.
func (db *DB) OverdueCases(ctx context.Context, now time.Time) ([]int64, error) {
	return db.caseIDs(ctx, qOverdueCases, now.UnixMilli())
}

// qOverdueCases uses the partial index cases_unanswered.
const qOverdueCases = `SELECT id FROM cases WHERE first_response_at IS NULL AND escalated_at IS NULL
	AND first_response_due <= ? AND status != 'closed' ORDER BY id`

// StalePendingCases lists cases pending since before cutoff.
func (db *DB) StalePendingCases(ctx context.Context, cutoff time.Time) ([]int64, error) {
	return db.caseIDs(ctx, `SELECT id FROM cases WHERE status = 'pending' AND pending_at IS NOT NULL
		AND pending_at <= ? ORDER BY id`, cutoff.UnixMilli())
}

func (db *DB) caseIDs(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := db.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
