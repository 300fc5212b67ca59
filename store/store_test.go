package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func openTest(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t)
	if v, err := db.SchemaVersion(ctx); err != nil || v != len(migrations) {
		t.Fatalf("version %d, %v; want %d", v, err, len(migrations))
	}
	var mode string
	if err := db.sql.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode %q, %v", mode, err)
	}
	var fk int
	if err := db.sql.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign keys %d, %v", fk, err)
	}
	var page int
	if err := db.sql.QueryRowContext(ctx, "PRAGMA page_size").Scan(&page); err != nil || page != pageSize {
		t.Errorf("page size %d, %v; want %d", page, err, pageSize)
	}
	t.Run("reopening keeps the data and the version", func(t *testing.T) {
		db.Close()
		again, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer again.Close()
		if v, _ := again.SchemaVersion(ctx); v != len(migrations) {
			t.Errorf("version %d", v)
		}
	})
	t.Run("a database from a newer binary is refused", func(t *testing.T) {
		raw, err := sql.Open("sqlite3", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec("PRAGMA user_version = 999"); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		_, err = Open(ctx, path)
		if !errors.Is(err, ErrNewerSchema) {
			t.Errorf("Open = %v, want ErrNewerSchema", err)
		}
	})
}

func TestExistingPageSizeIsKept(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	const other = 2 * pageSize
	if _, err := raw.Exec(fmt.Sprintf("PRAGMA page_size = %d; CREATE TABLE before_postdesk (x)", other)); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var page int
	var mode string
	if err := db.sql.QueryRowContext(ctx, "PRAGMA page_size").Scan(&page); err != nil || page != other {
		t.Errorf("page size %d, %v; want the file's %d", page, err, other)
	}
	if err := db.sql.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode %q, %v", mode, err)
	}
}

func TestCaseRoundTrip(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	c := &Case{Subject: "S", Status: "open", Severity: "high", Type: "technical", Language: "ja",
		Requester: "a@x.example", CreatedAt: now, UpdatedAt: now, FirstResponseDue: now.Add(time.Hour)}
	err := db.Tx(ctx, func(tx *Tx) error {
		if err := tx.InsertCase(c); err != nil {
			return err
		}
		if err := tx.AddParticipant(c.ID, "B@X.example", "contact", now); err != nil {
			return err
		}
		if err := tx.AddParticipant(c.ID, "a@x.example", "requester", now); err != nil {
			return err
		}
		return tx.InsertMessage(&Message{CaseID: c.ID, Direction: "in", Kind: "customer", MessageID: "m@x",
			To: []string{"s@y"}, CreatedAt: now,
			Attachments: []Attachment{{Filename: "a.txt", ContentType: "text/plain", Data: []byte("hi")},
				{Filename: "copy.txt", ContentType: "text/plain", Data: []byte("hi")}},
			Rejected: []Rejected{{Filename: "big", Size: 9, Reason: "too big"}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Case(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Language != "ja" || !got.FirstResponseDue.Equal(now.Add(time.Hour)) || !got.ClosedAt.IsZero() {
		t.Errorf("case = %+v", got)
	}
	ps, _ := db.Participants(ctx, c.ID)
	// The desk passes identity keys; the store keeps addresses as given.
	if len(ps) != 2 || ps[0].Role != "requester" || ps[1].Address != "B@X.example" {
		t.Errorf("participants = %+v (requester first, addresses as given)", ps)
	}
	msgs, err := db.Messages(ctx, c.ID)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages %v, %v", msgs, err)
	}
	m := msgs[0]
	if len(m.Attachments) != 2 || m.Attachments[0].SHA256 != Digest([]byte("hi")) || m.Attachments[1].Filename != "copy.txt" {
		t.Errorf("attachments = %+v", m.Attachments)
	}
	if len(m.Rejected) != 1 || m.Rejected[0].Reason != "too big" {
		t.Errorf("rejected = %+v", m.Rejected)
	}
	var stored int
	db.sql.QueryRow("SELECT COUNT(*) FROM attachments").Scan(&stored)
	if stored != 1 {
		t.Errorf("%d attachment blobs, want 1 (deduplicated)", stored)
	}
	if _, err := db.Case(ctx, 99); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing case: %v", err)
	}
}

func TestOutboxLifecycle(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	c := &Case{Subject: "S", Status: "open", Severity: "normal", Type: "technical", Requester: "a@x", CreatedAt: now, UpdatedAt: now}
	it := &OutboxItem{Kind: MailConfirmation, To: []string{"a@x"}, MessageID: "pd.1@y", CreatedAt: now,
		Notice: Notice{Tag: "[Case #1]", ContactsRefused: []Refusal{{Address: "c@x", Reason: "limit"}}}}
	err := db.Tx(ctx, func(tx *Tx) error {
		if err := tx.InsertCase(c); err != nil {
			return err
		}
		it.CaseID = c.ID
		return tx.Enqueue(it)
	})
	if err != nil {
		t.Fatal(err)
	}
	due, err := db.ClaimOutbox(ctx, "test", now, 5*time.Minute, 10)
	if err != nil || len(due) != 1 || due[0].Notice.ContactsRefused[0].Address != "c@x" {
		t.Fatalf("due = %+v, %v", due, err)
	}
	if again, _ := db.ClaimOutbox(ctx, "test", now, 5*time.Minute, 10); len(again) != 0 {
		t.Errorf("a claimed row was claimed again: %+v", again)
	}
	if err := db.MarkRetry(ctx, it.ID, now.Add(time.Minute), "451 try later"); err != nil {
		t.Fatal(err)
	}
	if due, _ := db.ClaimOutbox(ctx, "test", now, time.Minute, 10); len(due) != 0 {
		t.Errorf("retrying row is due before its time")
	}
	if next, ok, _ := db.NextDue(ctx); !ok || !next.Equal(now.Add(time.Minute)) {
		t.Errorf("NextDue = %v, %v", next, ok)
	}
	alert := &OutboxItem{Kind: MailAlert, To: []string{"oncall@y"}, MessageID: "pd.0.alert@y", CreatedAt: now}
	if err := db.MarkFailed(ctx, it.ID, now, "550 no such user", func(tx *Tx) error { return tx.Enqueue(alert) }); err != nil {
		t.Fatal(err)
	}
	if got, err := db.OutboxItem(ctx, alert.ID); err != nil || got.Kind != MailAlert || got.Status != OutboxQueued {
		t.Errorf("alert row %+v, %v", got, err)
	}
	got, _ := db.OutboxItem(ctx, it.ID)
	if got.Status != OutboxFailed || got.Attempts != 2 || got.LastError != "550 no such user" {
		t.Errorf("row = %+v", got)
	}
	events, _ := db.Events(ctx, c.ID)
	if len(events) != 1 || events[0].Kind != "delivery failed" {
		t.Errorf("events = %+v", events)
	}
	if n, _, _ := db.OutboxStats(ctx); n != 1 {
		t.Errorf("%d rows queued, want only the alert", n)
	}
	if err := db.MarkRetry(ctx, it.ID, now, "late answer"); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.OutboxItem(ctx, it.ID); got.Status != OutboxFailed {
		t.Errorf("a late retry revived a failed row: %+v", got)
	}
}

func TestRehearseRollsBack(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	err := db.Rehearse(ctx, func(tx *Tx) error {
		_, _, err := tx.InsertRaw(&Raw{Bytes: []byte("x"), ReceivedAt: time.Now()})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	db.sql.QueryRow("SELECT COUNT(*) FROM raw_messages").Scan(&n)
	if n != 0 {
		t.Errorf("%d raw rows after a rehearsal", n)
	}
}
