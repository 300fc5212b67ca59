package desk

import (
	"context"
	"errors"
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
	return errors.New("desk: Take: not yet")
}

// Release joins held message msg of case n to the case as the customer's
// (its kind becomes "customer", its id stays); with contact its sender also
// becomes a contact, within the plan's limit. by is the agent releasing
// it; "" means the operator at the command line. ErrBadValue when msg is
// not a held message of the case, ErrLimit when contact is asked and the
// case has its most contacts (the message is released all the same).
func (d *Desk) Release(ctx context.Context, n, msg int64, contact bool, by string) error {
	return errors.New("desk: Release: not yet")
}
