package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// MailboxState is how far intake has read one IMAP mailbox.
type MailboxState struct {
	UIDValidity uint32
	LastUID     uint32
}

// MailboxState reads the state of mailbox; the zero state when there is none.
func (db *DB) MailboxState(ctx context.Context, mailbox string) (MailboxState, error) {
	return mailboxState(ctx, db.sql, mailbox)
}

// MailboxState reads the state of mailbox inside the transaction.
func (tx *Tx) MailboxState(mailbox string) (MailboxState, error) {
	return mailboxState(tx.ctx, tx.tx, mailbox)
}

func mailboxState(ctx context.Context, q querier, mailbox string) (MailboxState, error) {
	var s MailboxState
	err := q.QueryRowContext(ctx, "SELECT uidvalidity, last_uid FROM mailbox_state WHERE mailbox = ?", mailbox).
		Scan(&s.UIDValidity, &s.LastUID)
	if errors.Is(err, sql.ErrNoRows) {
		return MailboxState{}, nil
	}
	if err != nil {
		return s, fmt.Errorf("read state of mailbox %s: %w", mailbox, err)
	}
	return s, nil
}

// SetMailboxState records the state of mailbox inside the transaction, so
// that it moves forward together with what was stored.
func (tx *Tx) SetMailboxState(mailbox string, s MailboxState) error {
	_, err := tx.tx.ExecContext(tx.ctx, `INSERT INTO mailbox_state (mailbox, uidvalidity, last_uid) VALUES (?, ?, ?)
		ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid`,
		mailbox, s.UIDValidity, s.LastUID)
	if err != nil {
		return fmt.Errorf("record state of mailbox %s: %w", mailbox, err)
	}
	return nil
}
