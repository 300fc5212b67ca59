package desk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/postdesk/postdesk/store"
)

// Agent is the optional settings of one agent ([[agent]], DESIGN §9).
type Agent struct {
	// Address is the agent's address; it must be one of Options.Agents.
	Address string
	// Name is shown to customers on this agent's answers and to other
	// agents on notices ("Lee Chen via Example Support").
	Name string
	// Notify says which notices the agent gets: NotifyAll (the default),
	// NotifyAssigned or NotifyNone.
	Notify string
}

// The values of Agent.Notify.
const (
	NotifyAll      = "all"      // every notice of the agent's mailboxes
	NotifyAssigned = "assigned" // notices of cases assigned to the agent, or to nobody
	NotifyNone     = "none"     // no notices
)

// NotifyValues lists the values of Agent.Notify, the default first.
func NotifyValues() []string { return []string{NotifyAll, NotifyAssigned, NotifyNone} }

// Take assigns case n to agent, who must be a configured agent (`postdesk
// case take N -from ADDR`, and #take by mail).
func (d *Desk) Take(ctx context.Context, n int64, agent string) error {
	if !d.IsAgent(agent) {
		return fmt.Errorf("take case %d as %s: %w", n, agent, ErrNotAgent)
	}
	return d.onCase(ctx, n, func(tx *store.Tx, c *store.Case, now time.Time) error {
		return d.setField(tx, c, "assignee", agent, agent, now)
	})
}

// Release joins held message msg of case n to the case as the customer's
// (its kind becomes "customer", its id stays); with contact its sender also
// becomes a contact, within the plan's limit. by is the agent releasing
// it; "" means the operator at the command line. ErrBadValue when msg is
// not a held message of the case; ErrLimit when contact is asked and the
// case has its most contacts (the message is released all the same).
func (d *Desk) Release(ctx context.Context, n, msg int64, contact bool, by string) error {
	if by != "" && !d.IsAgent(by) {
		return fmt.Errorf("release on case %d as %s: %w", n, by, ErrNotAgent)
	}
	var limited error
	limit := 0
	err := d.onCase(ctx, n, func(tx *store.Tx, c *store.Case, now time.Time) error {
		held, err := d.heldMessage(tx, c, msg)
		if err != nil {
			return err
		}
		if held == nil {
			return fmt.Errorf("release message %d of case %d: %w: not a held message of the case", msg, n, ErrBadValue)
		}
		limited, limit = d.release(tx, c, held, contact, by, now), d.contactLimit(c)
		if errors.Is(limited, ErrLimit) {
			return nil
		}
		return limited
	})
	if err != nil {
		return err
	}
	if limited != nil {
		return fmt.Errorf("release message %d of case %d: released, but its sender was not added: %w (at most %d contacts)", msg, n, limited, limit)
	}
	return nil
}

// heldMessage returns message id of c when it is held, nil otherwise.
func (d *Desk) heldMessage(tx *store.Tx, c *store.Case, id int64) (*store.Message, error) {
	if id == 0 {
		return nil, nil
	}
	m, err := tx.Message(c.ID, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && MessageKind(m.Kind) != MessageHeld) {
		return nil, nil
	}
	return m, err
}

// release makes held message m of c the customer's, and with contact its
// sender a contact (ErrLimit when the case has its most contacts: the
// message is released all the same). A pending case then waits on support.
func (d *Desk) release(tx *store.Tx, c *store.Case, m *store.Message, contact bool, by string, now time.Time) error {
	if err := tx.SetMessageKind(m.ID, string(MessageCustomer)); err != nil {
		return err
	}
	if err := addEvent(tx, c.ID, now, EventReleased, fmt.Sprintf("message %d from %s %s", m.ID, m.From, byWhom(by))); err != nil {
		return err
	}
	if Status(c.Status) == StatusPending {
		if err := d.setStatus(tx, c, StatusOpen, EventStatus, "open: held mail released "+byWhom(by), now); err != nil {
			return err
		}
		if err := tx.UpdateCase(c); err != nil {
			return err
		}
	}
	if !contact {
		return nil
	}
	return d.addContact(tx, c, m.From, now)
}

// addContact makes addr a contact of c unless it takes part already;
// ErrLimit when c has its most contacts, ErrBadValue when addr cannot be
// mailed.
func (d *Desk) addContact(tx *store.Tx, c *store.Case, addr string, now time.Time) error {
	ps, err := tx.Participants(c.ID)
	if err != nil {
		return err
	}
	count := 0
	for _, p := range ps {
		if addrKey(p.Address) == addrKey(addr) {
			return nil
		}
		if Role(p.Role) == RoleContact {
			count++
		}
	}
	if !validAddress(addr) {
		return fmt.Errorf("add contact %q: %w: the address cannot be mailed", addr, ErrBadValue)
	}
	if count >= d.contactLimit(c) {
		if err := addEvent(tx, c.ID, now, EventContactRefused, fmt.Sprintf("%s: a case has at most %d additional contacts", addr, d.contactLimit(c))); err != nil {
			return err
		}
		return ErrLimit
	}
	if err := tx.AddParticipant(c.ID, addrKey(addr), string(RoleContact), now); err != nil {
		return err
	}
	return addEvent(tx, c.ID, now, EventContactAdded, addrKey(addr))
}

// contactLimit is the most contacts case c may have: the desk's limit and
// its plan's (none for a plan the desk does not know).
func (d *Desk) contactLimit(c *store.Case) int {
	return min(d.o.Contacts, d.o.Plans[c.Plan].Contacts)
}
