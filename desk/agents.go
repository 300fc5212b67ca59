package desk

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
