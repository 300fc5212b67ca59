package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestThreadIDsChainTheCustomersConversation(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	err := db.Tx(ctx, func(tx *Tx) error {
		c := &Case{Subject: "s", Status: "open", Severity: "normal", Type: "technical", Requester: "a@x.example", CreatedAt: t0, UpdatedAt: t0}
		if err := tx.InsertCase(c); err != nil {
			return err
		}
		at := t0
		next := func() time.Time { at = at.Add(time.Second); return at }
		msg := func(id, kind, dir string) error {
			return tx.InsertMessage(&Message{CaseID: c.ID, Direction: dir, Kind: kind, MessageID: id, CreatedAt: next()})
		}
		out := func(id, kind string) error {
			return tx.Enqueue(&OutboxItem{Kind: kind, CaseID: c.ID, To: []string{"a@x.example"}, MessageID: id, CreatedAt: next()})
		}
		steps := []error{
			msg("m1@x", "customer", "in"), out("conf@us", MailConfirmation), out("notice1@us", MailNotice),
			msg("held@evil", "held", "in"), msg("ans1@us", "agent", "out"), out("ans1@us", MailReply),
			msg("m2@x", "customer", "in"), out("alert@us", MailAlert), out("tr@us", MailTranscript), out("st@us", MailStatus),
		}
		for _, err := range steps {
			if err != nil {
				return err
			}
		}
		ids, parent, err := tx.ThreadIDs(c.ID, "", 10)
		if err != nil {
			return err
		}
		if want := []string{"m1@x", "conf@us", "ans1@us", "m2@x", "st@us"}; !slices.Equal(ids, want) || parent != "m2@x" {
			return fmt.Errorf("thread %v parent %q, want %v and m2@x", ids, parent, want)
		}
		for i := range 20 {
			if err := msg(fmt.Sprintf("late%d@x", i), "customer", "in"); err != nil {
				return err
			}
		}
		ids, _, err = tx.ThreadIDs(c.ID, "", 10)
		if err != nil {
			return err
		}
		if len(ids) != 10 || ids[0] != "m1@x" || ids[1] != "conf@us" || ids[9] != "late19@x" || ids[2] != "late12@x" {
			return fmt.Errorf("trimmed thread %v", ids)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
