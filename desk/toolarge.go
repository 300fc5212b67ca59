package desk

import (
	"context"
	"fmt"
	"time"

	"github.com/postdesk/postdesk/store"
)

// TooLarge records a mail that was not downloaded because it is larger
// than the limit: in.Raw holds only its header, which is kept. The sender
// is told once (a person's mail only, never machine mail); the same header
// again is a duplicate and tells nobody.
func (d *Desk) TooLarge(ctx context.Context, in *Inbound, size, limit int64) (Result, error) {
	reason := fmt.Sprintf("%d bytes, larger than the %d-byte limit; not downloaded", size, limit)
	res := Result{Outcome: Quarantined, Reason: reason}
	err := d.db.Tx(ctx, func(tx *store.Tx) error {
		now := d.now()
		id, existed, err := tx.InsertRaw(&store.Raw{Bytes: in.Raw, ReceivedAt: now, Mailbox: in.Mailbox, UID: in.UID})
		if err != nil || existed {
			if existed {
				res = Result{Outcome: Duplicate, Reason: "same oversize mail seen before"}
			}
			return err
		}
		if err := tx.SetRawOutcome(id, string(Quarantined), reason, 0); err != nil {
			return err
		}
		if in.Machine != MachineNone || d.o.IDs.Ours(in.MessageID) {
			return nil
		}
		return d.refuse(tx, in, store.CodeTooLarge, reason, now)
	})
	if err != nil {
		return Result{}, fmt.Errorf("record oversize mail: %w", d.classifyErr(ctx, err))
	}
	return res, nil
}

// refuse queues a refusal to the sender of in, which opened no case,
// unless the sender cannot be mailed.
func (d *Desk) refuse(tx *store.Tx, in *Inbound, code, reason string, now time.Time) error {
	if !validAddress(in.From) {
		return nil
	}
	t := d.terms(in.From)
	it := &store.OutboxItem{
		Kind: store.MailRefusal, Lang: d.language(ParseFields(in.Text), in, t), To: []string{in.From},
		MessageID: d.o.IDs.New(0), CreatedAt: now,
		Notice: store.Notice{Subject: caseSubject(d.tag, in.Subject), Plan: t.planName, Code: code, Reason: reason},
	}
	if in.MessageID != "" {
		it.InReplyTo, it.References = in.MessageID, append(append([]string{}, in.References...), in.MessageID)
	}
	if ok, err := d.limitAutomatic(tx, it, now); err != nil || !ok {
		return err
	}
	return tx.Enqueue(it)
}
