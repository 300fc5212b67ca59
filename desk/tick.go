package desk

import (
	"context"
	"fmt"
	"time"

	"github.com/postdesk/postdesk/store"
)

// TickStats counts what one Tick did.
type TickStats struct {
	Escalated int // cases past their first-response target, notify list told
	Closed    int // pending cases closed for want of an answer
}

// Tick applies the rules that depend on the clock alone: a case past its
// first-response target without an agent's answer is escalated (the notify
// list is mailed once), and a case pending for AutocloseDays is closed.
// The daemon calls it every minute; each case is its own transaction.
func (d *Desk) Tick(ctx context.Context) (TickStats, error) {
	var st TickStats
	now := d.now()
	if err := d.db.ForgetRates(ctx, hourWindow(now).Add(-time.Hour)); err != nil {
		return st, err
	}
	overdue, err := d.db.OverdueCases(ctx, now)
	if err != nil {
		return st, err
	}
	for _, n := range overdue {
		err := d.onCase(ctx, n, func(tx *store.Tx, c *store.Case, now time.Time) error {
			return d.escalate(tx, c, store.CodeOverdue, "no first response by "+c.FirstResponseDue.Format(time.RFC3339), "", now)
		})
		if err != nil {
			return st, err
		}
		st.Escalated++
	}
	if d.o.AutocloseDays < 0 {
		return st, nil
	}
	stale, err := d.db.StalePendingCases(ctx, now.Add(-time.Duration(d.o.AutocloseDays)*24*time.Hour))
	if err != nil {
		return st, err
	}
	for _, n := range stale {
		err := d.onCase(ctx, n, func(tx *store.Tx, c *store.Case, now time.Time) error {
			return d.closeCase(tx, c, closing{code: store.CodeAutoclosed,
				reason: fmt.Sprintf("no answer for %d days", d.o.AutocloseDays)}, now)
		})
		if err != nil {
			return st, err
		}
		st.Closed++
	}
	return st, nil
}

// escalate marks the case escalated, mails the notify list and tells the
// agents of the case (but actor, the agent who asked; "" for none).
//
// An escalation somebody asked for (CodeEscalated) counts once per case per
// hour: more in the hour are recorded as an event and change nothing.
func (d *Desk) escalate(tx *store.Tx, c *store.Case, code, reason, actor string, now time.Time) error {
	if code == store.CodeEscalated {
		n, err := tx.Bump(fmt.Sprintf("escalate:%d", c.ID), hourWindow(now))
		if err != nil {
			return err
		}
		if n > 1 {
			return addEvent(tx, c.ID, now, EventEscalationRefused, reason+": escalated already this hour")
		}
	}
	c.EscalatedAt, c.UpdatedAt = now, now
	if err := tx.UpdateCase(c); err != nil {
		return err
	}
	if err := addEvent(tx, c.ID, now, EventEscalated, reason); err != nil {
		return err
	}
	n := d.notice(c)
	n.Code, n.Reason = code, reason
	if err := enqueueAlert(tx, d.alert(c.ID, n, now)); err != nil {
		return err
	}
	return d.tellAgents(tx, c, noticeOf{code: code, actor: actor, internal: true, reason: reason}, now)
}
