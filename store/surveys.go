package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Survey is one answer to a satisfaction survey: about the whole case
// (MessageID 0, the closing survey) or about one agent's answer.
type Survey struct {
	CaseID     int64
	MessageID  int64
	Rating     int
	Comment    string
	Via        string // mail or web
	TokenHash  string // SHA-256 of the link's token, for web answers
	AnsweredAt time.Time
}

// AddSurvey records an answer; earlier answers are kept as history.
func (tx *Tx) AddSurvey(s *Survey) error {
	var msg sql.NullInt64
	if s.MessageID != 0 {
		msg = sql.NullInt64{Int64: s.MessageID, Valid: true}
	}
	_, err := tx.tx.ExecContext(tx.ctx, `INSERT INTO surveys (case_id, message_id, rating, comment, via,
		token_hash, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.CaseID, msg, s.Rating, s.Comment, s.Via, s.TokenHash, s.AnsweredAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("record survey answer on case %d: %w", s.CaseID, err)
	}
	return nil
}

// TrimSurveys keeps the latest keep answers of a case and deletes the rest.
func (tx *Tx) TrimSurveys(caseID int64, keep int) error {
	_, err := tx.tx.ExecContext(tx.ctx, `DELETE FROM surveys WHERE case_id = ? AND id NOT IN
		(SELECT id FROM surveys WHERE case_id = ? ORDER BY answered_at DESC, id DESC LIMIT ?)`, caseID, caseID, keep)
	if err != nil {
		return fmt.Errorf("trim surveys of case %d: %w", caseID, err)
	}
	return nil
}

// CaseRating is the latest rating of the case's closing survey; ok is false
// when nobody answered it.
func (db *DB) CaseRating(ctx context.Context, caseID int64) (rating int, ok bool, err error) {
	err = db.sql.QueryRowContext(ctx, `SELECT rating FROM surveys WHERE case_id = ? AND message_id IS NULL
		ORDER BY answered_at DESC, id DESC LIMIT 1`, caseID).Scan(&rating)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read rating of case %d: %w", caseID, err)
	}
	return rating, true, nil
}

// Surveys lists every answer on a case, oldest first.
func (db *DB) Surveys(ctx context.Context, caseID int64) ([]Survey, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT case_id, message_id, rating, comment, via, token_hash, answered_at
		FROM surveys WHERE case_id = ? ORDER BY answered_at, id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("read surveys of case %d: %w", caseID, err)
	}
	defer rows.Close()
	var out []Survey
	for rows.Next() {
		var s Survey
		var msg, at sql.NullInt64
		if err := rows.Scan(&s.CaseID, &msg, &s.Rating, &s.Comment, &s.Via, &s.TokenHash, &at); err != nil {
			return nil, err
		}
		s.MessageID, s.AnsweredAt = msg.Int64, fromMS(at)
		out = append(out, s)
	}
	return out, rows.Err()
}
