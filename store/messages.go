package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Raw is one message exactly as received, with where it came from.
type Raw struct {
	ID         int64
	SHA256     string
	Bytes      []byte
	ReceivedAt time.Time
	Mailbox    string
	UID        uint32
}

// Message is one mail on a case, inbound or outbound, or an internal note.
type Message struct {
	ID         int64
	CaseID     int64
	RawID      int64 // 0 for messages written by postdesk
	Direction  string
	Kind       string
	MessageID  string
	InReplyTo  string
	References []string
	From       string
	To         []string
	Cc         []string
	Subject    string
	Date       time.Time
	Text       string
	NewText    string
	HTML       string
	CreatedAt  time.Time

	Attachments []Attachment
	Rejected    []Rejected
}

// Attachment describes one file kept with a message; Data is only filled
// when it is being stored.
type Attachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	Inline      bool   `json:"inline,omitempty"`
	ContentID   string `json:"content_id,omitempty"`
	Data        []byte `json:"-"`
}

// Rejected is a file that was not kept, and why.
type Rejected struct {
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
	Reason   string `json:"reason"`
	// Code and Limit say the same for templates (CodeFileTooLarge with the
	// size limit, CodeTooManyFiles with the count); not stored.
	Code  string `json:"code,omitempty"`
	Limit int64  `json:"limit,omitempty"`
}

// Digest is the hex SHA-256 of b, the key of raw messages and attachments.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// InsertRaw keeps r verbatim unless the same bytes were stored before; it
// reports the row id and whether it already existed. r.SHA256 is computed
// when empty; a caller that has the digest already may set it.
func (tx *Tx) InsertRaw(r *Raw) (id int64, existed bool, err error) {
	if r.SHA256 == "" {
		r.SHA256 = Digest(r.Bytes)
	}
	err = tx.tx.QueryRowContext(tx.ctx, "SELECT id FROM raw_messages WHERE sha256 = ?", r.SHA256).Scan(&id)
	if err == nil {
		r.ID = id
		return id, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("look up raw message: %w", err)
	}
	res, err := tx.tx.ExecContext(tx.ctx, `INSERT INTO raw_messages (sha256, size, bytes, received_at, mailbox, uid)
		VALUES (?, ?, ?, ?, ?, ?)`, r.SHA256, len(r.Bytes), inline(r.Bytes), r.ReceivedAt.UnixMilli(), r.Mailbox, r.UID)
	if err != nil {
		return 0, false, fmt.Errorf("insert raw message: %w", err)
	}
	if r.ID, err = res.LastInsertId(); err != nil {
		return 0, false, err
	}
	if err := tx.writeChunks(rawChunks, r.ID, r.Bytes); err != nil {
		return 0, false, fmt.Errorf("insert raw message: %w", err)
	}
	return r.ID, false, nil
}

// Raw reads raw message id with all its bytes; ErrNotFound when there is
// none.
func (db *DB) Raw(ctx context.Context, id int64) (*Raw, error) { return readRaw(ctx, db.sql, id) }

// Raw reads raw message id with all its bytes inside the transaction.
func (tx *Tx) Raw(id int64) (*Raw, error) { return readRaw(tx.ctx, tx.tx, id) }

func readRaw(ctx context.Context, q querier, id int64) (*Raw, error) {
	r := &Raw{ID: id}
	var size, received int64
	var inlined []byte
	err := q.QueryRowContext(ctx, "SELECT sha256, size, bytes, received_at, mailbox, uid FROM raw_messages WHERE id = ?", id).
		Scan(&r.SHA256, &size, &inlined, &received, &r.Mailbox, &r.UID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("raw message %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read raw message %d: %w", id, err)
	}
	r.ReceivedAt = time.UnixMilli(received).UTC()
	if r.Bytes, err = readChunks(ctx, q, rawChunks, id, size, inlined); err != nil {
		return nil, fmt.Errorf("read raw message %d: %w", id, err)
	}
	return r, nil
}

// SetRawOutcome records what was decided for a raw message.
func (tx *Tx) SetRawOutcome(rawID int64, outcome, reason string, caseID int64) error {
	var c sql.NullInt64
	if caseID != 0 {
		c = sql.NullInt64{Int64: caseID, Valid: true}
	}
	_, err := tx.tx.ExecContext(tx.ctx, "UPDATE raw_messages SET outcome = ?, reason = ?, case_id = ? WHERE id = ?",
		outcome, reason, c, rawID)
	if err != nil {
		return fmt.Errorf("record outcome of raw message %d: %w", rawID, err)
	}
	return nil
}

// RawOutcome reports what was decided for a raw message stored earlier.
func (tx *Tx) RawOutcome(rawID int64) (outcome string, caseID int64, err error) {
	var c sql.NullInt64
	err = tx.tx.QueryRowContext(tx.ctx, "SELECT outcome, case_id FROM raw_messages WHERE id = ?", rawID).Scan(&outcome, &c)
	if err != nil {
		return "", 0, fmt.Errorf("read raw message %d: %w", rawID, err)
	}
	return outcome, c.Int64, nil
}

// qCaseOfMessageID repeats the partial index's condition (message_id != ”)
// so that SQLite may use messages_message_id: without it every inbound mail
// scanned the whole messages table.
const qCaseOfMessageID = "SELECT case_id FROM messages WHERE message_id = ? AND message_id != '' LIMIT 1"

// CaseOfMessageID finds the case holding an inbound message with this
// Message-ID; ok is false when there is none.
func (tx *Tx) CaseOfMessageID(messageID string) (caseID int64, ok bool, err error) {
	return tx.caseOf(messageID, qCaseOfMessageID, messageID)
}

// qCaseOfMessageIDFrom is qCaseOfMessageID for one sender.
const qCaseOfMessageIDFrom = "SELECT case_id FROM messages WHERE message_id = ? AND message_id != '' AND from_addr = ? LIMIT 1"

// CaseOfMessageIDFrom finds the case holding a message with this
// Message-ID from this sender (From exactly as stored): the same mail
// delivered again. Another sender reusing the Message-ID is not found
// (DESIGN §14: duplicates are keyed on the sender too).
func (tx *Tx) CaseOfMessageIDFrom(messageID, from string) (caseID int64, ok bool, err error) {
	return tx.caseOf(messageID, qCaseOfMessageIDFrom, messageID, from)
}

// caseOf runs query, one of the lookups of a case by Message-ID, with args;
// an empty messageID finds nothing.
func (tx *Tx) caseOf(messageID, query string, args ...any) (caseID int64, ok bool, err error) {
	if messageID == "" {
		return 0, false, nil
	}
	err = tx.tx.QueryRowContext(tx.ctx, query, args...).Scan(&caseID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("look up message %s: %w", messageID, err)
	}
	return caseID, true, nil
}

// InsertMessage stores m with its kept and rejected attachments and sets m.ID.
func (tx *Tx) InsertMessage(m *Message) error {
	var raw sql.NullInt64
	if m.RawID != 0 {
		raw = sql.NullInt64{Int64: m.RawID, Valid: true}
	}
	res, err := tx.tx.ExecContext(tx.ctx, `INSERT INTO messages (case_id, raw_id, direction, kind,
		message_id, in_reply_to, refs, from_addr, to_addrs, cc_addrs, subject, date, text, new_text,
		html, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.CaseID, raw, m.Direction, m.Kind, m.MessageID, m.InReplyTo, jsonList(m.References), m.From,
		jsonList(m.To), jsonList(m.Cc), m.Subject, ms(m.Date), m.Text, m.NewText, m.HTML, m.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("insert message on case %d: %w", m.CaseID, err)
	}
	if m.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	for i := range m.Attachments {
		if err := tx.insertAttachment(m.ID, &m.Attachments[i]); err != nil {
			return err
		}
	}
	for _, r := range m.Rejected {
		_, err := tx.tx.ExecContext(tx.ctx, "INSERT INTO rejected_attachments (message_id, filename, size, reason) VALUES (?, ?, ?, ?)",
			m.ID, r.Filename, r.Size, r.Reason)
		if err != nil {
			return fmt.Errorf("record rejected attachment: %w", err)
		}
	}
	return nil
}

func (tx *Tx) insertAttachment(messageID int64, a *Attachment) error {
	if a.SHA256 == "" {
		a.SHA256 = Digest(a.Data)
	}
	if a.Size == 0 {
		a.Size = int64(len(a.Data))
	}
	if a.Data != nil {
		if err := tx.storeAttachmentData(a); err != nil {
			return fmt.Errorf("store attachment: %w", err)
		}
	}
	_, err := tx.tx.ExecContext(tx.ctx, `INSERT INTO message_attachments (message_id, sha256, filename,
		content_type, size, inline, content_id) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		messageID, a.SHA256, a.Filename, a.ContentType, a.Size, a.Inline, a.ContentID)
	if err != nil {
		return fmt.Errorf("link attachment: %w", err)
	}
	return nil
}

// storeAttachmentData keeps a.Data under its digest, unless the same bytes
// are kept already: then nothing is bound or written.
func (tx *Tx) storeAttachmentData(a *Attachment) error {
	var one int
	err := tx.tx.QueryRowContext(tx.ctx, "SELECT 1 FROM attachments WHERE sha256 = ?", a.SHA256).Scan(&one)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	_, err = tx.tx.ExecContext(tx.ctx, "INSERT INTO attachments (sha256, size, data) VALUES (?, ?, ?)",
		a.SHA256, len(a.Data), inline(a.Data))
	if err != nil {
		return err
	}
	return tx.writeChunks(attachmentChunks, a.SHA256, a.Data)
}

// AttachmentData returns the bytes of the attachment with this digest.
func (db *DB) AttachmentData(ctx context.Context, sha string) ([]byte, error) {
	var size int64
	var inlined []byte
	err := db.sql.QueryRowContext(ctx, "SELECT size, data FROM attachments WHERE sha256 = ?", sha).Scan(&size, &inlined)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("attachment %s: %w", sha, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read attachment %s: %w", sha, err)
	}
	data, err := readChunks(ctx, db.sql, attachmentChunks, sha, size, inlined)
	if err != nil {
		return nil, fmt.Errorf("read attachment %s: %w", sha, err)
	}
	return data, nil
}

const messageColumns = `id, case_id, raw_id, direction, kind, message_id, in_reply_to, refs,
	from_addr, to_addrs, cc_addrs, subject, date, text, new_text, html, created_at`

func scanMessage(s scanner) (*Message, error) {
	var m Message
	var raw, date, created sql.NullInt64
	var refs, to, cc string
	if err := s.Scan(&m.ID, &m.CaseID, &raw, &m.Direction, &m.Kind, &m.MessageID, &m.InReplyTo,
		&refs, &m.From, &to, &cc, &m.Subject, &date, &m.Text, &m.NewText, &m.HTML, &created); err != nil {
		return nil, err
	}
	m.RawID, m.Date, m.CreatedAt = raw.Int64, fromMS(date), fromMS(created)
	m.References, m.To, m.Cc = parseList(refs), parseList(to), parseList(cc)
	m.Attachments, m.Rejected = []Attachment{}, []Rejected{}
	return &m, nil
}

// Messages lists the messages of a case, oldest first, with their attachments.
func (db *DB) Messages(ctx context.Context, caseID int64) ([]*Message, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+messageColumns+" FROM messages WHERE case_id = ? ORDER BY id", caseID)
	if err != nil {
		return nil, fmt.Errorf("read messages of case %d: %w", caseID, err)
	}
	var out []*Message
	byID := map[int64]*Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, m)
		byID[m.ID] = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := db.loadAttachments(ctx, caseID, byID); err != nil {
		return nil, err
	}
	return out, nil
}

// Message reads message id of case caseID, without its attachments;
// ErrNotFound when the case has no such message.
func (tx *Tx) Message(caseID, id int64) (*Message, error) {
	m, err := scanMessage(tx.tx.QueryRowContext(tx.ctx, "SELECT "+messageColumns+" FROM messages WHERE id = ? AND case_id = ?", id, caseID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("message %d of case %d: %w", id, caseID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read message %d: %w", id, err)
	}
	return m, nil
}

// SetMessageKind changes the kind of message id (a held mail an agent
// releases becomes the customer's).
func (tx *Tx) SetMessageKind(id int64, kind string) error {
	if _, err := tx.tx.ExecContext(tx.ctx, "UPDATE messages SET kind = ? WHERE id = ?", kind, id); err != nil {
		return fmt.Errorf("set kind of message %d: %w", id, err)
	}
	return nil
}

func (db *DB) loadAttachments(ctx context.Context, caseID int64, byID map[int64]*Message) error {
	rows, err := db.sql.QueryContext(ctx, `SELECT a.message_id, a.sha256, a.filename, a.content_type, a.size,
		a.inline, a.content_id FROM message_attachments a JOIN messages m ON m.id = a.message_id
		WHERE m.case_id = ? ORDER BY a.rowid`, caseID)
	if err != nil {
		return fmt.Errorf("read attachments of case %d: %w", caseID, err)
	}
	for rows.Next() {
		var id int64
		var a Attachment
		if err := rows.Scan(&id, &a.SHA256, &a.Filename, &a.ContentType, &a.Size, &a.Inline, &a.ContentID); err != nil {
			rows.Close()
			return err
		}
		if m := byID[id]; m != nil {
			m.Attachments = append(m.Attachments, a)
		}
	}
	rows.Close()
	rows, err = db.sql.QueryContext(ctx, `SELECT r.message_id, r.filename, r.size, r.reason
		FROM rejected_attachments r JOIN messages m ON m.id = r.message_id
		WHERE m.case_id = ? ORDER BY r.rowid`, caseID)
	if err != nil {
		return fmt.Errorf("read rejected attachments of case %d: %w", caseID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var r Rejected
		if err := rows.Scan(&id, &r.Filename, &r.Size, &r.Reason); err != nil {
			return err
		}
		if m := byID[id]; m != nil {
			m.Rejected = append(m.Rejected, r)
		}
	}
	return rows.Err()
}

// ThreadIDs returns the Message-IDs of the conversation the customer sees on
// a case, for the References of a new mail (RFC 5322 §3.6.4): the
// customers' mails, the agents' answers and the desk's own mails to them
// (confirmation, status, closing), oldest first, leaving out except. Mail
// to agents (notices, transcripts) and alerts never appear: their
// Message-IDs prove receipt. Past limit the middle is dropped: the first
// mail and the confirmation stay, then the latest ones. parent is the
// latest mail of a person (a customer's, an agent's answer), which a new
// mail answers (In-Reply-To); "" when there is none.
func (tx *Tx) ThreadIDs(caseID int64, except string, limit int) (ids []string, parent string, err error) {
	rows, err := tx.tx.QueryContext(tx.ctx, `SELECT message_id, kind FROM (
		SELECT message_id, created_at, 0 AS src, id, '' AS kind FROM messages WHERE case_id = ?
			AND message_id != '' AND message_id != ? AND (kind = 'customer' OR (kind = 'agent' AND direction = 'out'))
		UNION ALL
		SELECT message_id, created_at, 1 AS src, id, kind FROM outbox WHERE case_id = ?
			AND message_id != ? AND kind IN ('confirmation', 'reply', 'status', 'closed'))
		ORDER BY created_at, src, id`, caseID, except, caseID, except)
	if err != nil {
		return nil, "", fmt.Errorf("read thread of case %d: %w", caseID, err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	confirmation := -1
	for rows.Next() {
		var id, kind string
		if err := rows.Scan(&id, &kind); err != nil {
			return nil, "", err
		}
		if kind == "" {
			parent = id
		}
		if seen[id] {
			continue // an agent's answer is a message and an outbox row
		}
		seen[id] = true
		if kind == MailConfirmation && confirmation < 0 {
			confirmation = len(ids)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return trimThread(ids, confirmation, limit), parent, nil
}

// trimThread keeps at most limit ids: the first, the confirmation (at
// index confirmation, -1 for none), and the latest.
func trimThread(ids []string, confirmation, limit int) []string {
	if limit < 2 || len(ids) <= limit {
		return ids
	}
	keep := []string{ids[0]}
	if confirmation > 0 {
		keep = append(keep, ids[confirmation])
	}
	tail := ids[len(ids)-(limit-len(keep)):]
	if confirmation >= len(ids)-len(tail) {
		keep = keep[:1] // the confirmation is among the latest anyway
		tail = ids[len(ids)-(limit-1):]
	}
	return append(keep, tail...)
}
