package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// blob returns n pseudo-random bytes, different for each seed.
func blob(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func TestRawRoundTrip(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	at := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	for _, size := range []int{0, 1, rawInlineBytes, rawInlineBytes + 1, blobChunkBytes, blobChunkBytes + 1,
		7 * blobChunkBytes / 2} {
		t.Run(fmt.Sprintf("%d bytes", size), func(t *testing.T) {
			in := blob(size, 1)
			var id int64
			err := db.Tx(ctx, func(tx *Tx) error {
				var existed bool
				var err error
				id, existed, err = tx.InsertRaw(&Raw{Bytes: in, ReceivedAt: at, Mailbox: "INBOX", UID: 7})
				if err != nil || existed {
					return fmt.Errorf("existed %v, %w", existed, err)
				}
				// Recording the outcome rewrites the row, not the bytes.
				if err := tx.SetRawOutcome(id, "new_case", "", 0); err != nil {
					return err
				}
				got, err := tx.Raw(id)
				if err != nil || !bytes.Equal(got.Bytes, in) {
					return fmt.Errorf("inside the transaction: %d bytes, %v", len(got.Bytes), err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := db.Raw(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes, in) || got.SHA256 != Digest(in) || !got.ReceivedAt.Equal(at) ||
				got.Mailbox != "INBOX" || got.UID != 7 {
				t.Errorf("read back %d bytes (want %d, equal: %v), %s, %v, %s, %d", len(got.Bytes), size,
					bytes.Equal(got.Bytes, in), got.SHA256, got.ReceivedAt, got.Mailbox, got.UID)
			}
			var inRow, chunks, largest int
			err = db.sql.QueryRowContext(ctx, `SELECT length(bytes), (SELECT COUNT(*) FROM raw_chunks WHERE raw_id = ?1),
				(SELECT IFNULL(MAX(length(bytes)), 0) FROM raw_chunks WHERE raw_id = ?1) FROM raw_messages WHERE id = ?1`, id).
				Scan(&inRow, &chunks, &largest)
			if err != nil {
				t.Fatal(err)
			}
			wantRow, wantChunks := size, 0
			if size > rawInlineBytes {
				wantRow, wantChunks = 0, (size+blobChunkBytes-1)/blobChunkBytes
			}
			if inRow != wantRow || chunks != wantChunks || largest > blobChunkBytes {
				t.Errorf("%d bytes in the row, %d chunks of at most %d; want %d, %d of at most %d",
					inRow, chunks, largest, wantRow, wantChunks, blobChunkBytes)
			}

			err = db.Tx(ctx, func(tx *Tx) error {
				again, existed, err := tx.InsertRaw(&Raw{Bytes: bytes.Clone(in), ReceivedAt: at})
				if err != nil || !existed || again != id {
					return fmt.Errorf("same bytes again: id %d (first %d), existed %v, %w", again, id, existed, err)
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	t.Run("a missing raw message is ErrNotFound", func(t *testing.T) {
		if _, err := db.Raw(ctx, 999); !errors.Is(err, ErrNotFound) {
			t.Errorf("Raw(999) = %v", err)
		}
	})
	t.Run("a large row written before chunks reads back", func(t *testing.T) {
		old := blob(3*rawInlineBytes, 2)
		res, err := db.sql.ExecContext(ctx, `INSERT INTO raw_messages (sha256, size, bytes, received_at)
			VALUES (?, ?, ?, 0)`, Digest(old), len(old), old)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := res.LastInsertId()
		if got, err := db.Raw(ctx, id); err != nil || !bytes.Equal(got.Bytes, old) {
			t.Errorf("Raw = %v", err)
		}
	})
	t.Run("missing chunks are an error, not short bytes", func(t *testing.T) {
		in := blob(2*blobChunkBytes+5, 3)
		var id int64
		err := db.Tx(ctx, func(tx *Tx) error {
			var err error
			id, _, err = tx.InsertRaw(&Raw{Bytes: in, ReceivedAt: at})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.sql.ExecContext(ctx, "DELETE FROM raw_chunks WHERE raw_id = ? AND seq = 1", id); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Raw(ctx, id); err == nil {
			t.Errorf("Raw read %d bytes of a message missing a chunk", len(got.Bytes))
		}
	})
}

func TestAttachmentRoundTrip(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	c := &Case{Subject: "S", Status: "open", Severity: "normal", Type: "technical", Requester: "a@x", CreatedAt: now, UpdatedAt: now}
	files := [][]byte{blob(1, 4), blob(rawInlineBytes+1, 5), blob(7*blobChunkBytes/2, 6)}
	err := db.Tx(ctx, func(tx *Tx) error {
		if err := tx.InsertCase(c); err != nil {
			return err
		}
		for i := range 2 { // the same files twice: kept once
			m := &Message{CaseID: c.ID, Direction: "in", Kind: "customer", MessageID: fmt.Sprintf("m%d@x", i), CreatedAt: now}
			for j, f := range files {
				m.Attachments = append(m.Attachments, Attachment{Filename: fmt.Sprintf("f%d", j), ContentType: "application/octet-stream", Data: f})
			}
			if err := tx.InsertMessage(m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		got, err := db.AttachmentData(ctx, Digest(f))
		if err != nil || !bytes.Equal(got, f) {
			t.Errorf("%d-byte attachment: read %d bytes, %v", len(f), len(got), err)
		}
	}
	var blobs, chunks int
	db.sql.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM attachments), (SELECT COUNT(*) FROM attachment_chunks)").Scan(&blobs, &chunks)
	if blobs != 3 || chunks != 1+4 {
		t.Errorf("%d attachments in %d chunks; want 3 in 5 (deduplicated)", blobs, chunks)
	}
	msgs, err := db.Messages(ctx, c.ID)
	if err != nil || len(msgs) != 2 || len(msgs[1].Attachments) != 3 || msgs[1].Attachments[2].Size != int64(len(files[2])) {
		t.Errorf("messages %+v, %v", msgs, err)
	}
	if _, err := db.AttachmentData(ctx, Digest([]byte("nothing"))); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing attachment: %v", err)
	}
}
