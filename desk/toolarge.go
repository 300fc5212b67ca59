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
	return d.keep(ctx, &store.Raw{Bytes: in.Raw, Mailbox: in.Mailbox, UID: in.UID}, reason, func(tx *store.Tx, now time.Time) error {
		if in.Machine != MachineNone || d.o.IDs.Ours(in.MessageID) {
			return nil
		}
		return d.refuse(tx, in, store.CodeTooLarge, reason, now)
	})
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
