package mailin

// Where a recovered panic happened, as Observer.Panicked names it, beside
// prescan.PanicWhere and message's PanicParse, PanicEnmime and PanicElide,
// which the Intake passes on. Each names one recover that turns a panic
// into an error, a quarantine or a fallback, so that the daemon goes on: a
// count that moves is a bug to find in the logs. The values name the
// package and the step where the recover is.
const (
	// PanicIntake: Intake.Prepare; the message is quarantined.
	PanicIntake = "mailin.intake"
	// PanicRecord: the desk, recording a message; it counts as a failed
	// attempt.
	PanicRecord = "mailin.record"
	// PanicFetch: reading a FETCH; the connection is closed.
	PanicFetch = "mailin.fetch"
	// PanicWorker: a parsing worker outside Prepare; the message counts as
	// a failed attempt.
	PanicWorker = "mailin.worker"
)

// panicked tells the Observer, if any, of a panic recovered at where. It
// may be called from any of the Poller's goroutines.
func (p *Poller) panicked(where string) {
	if p.o.Observer != nil {
		p.o.Observer.Panicked(where)
	}
}
