package desk

// customerCommands may be used by the requester and contacts; agents may
// use all commands. Mail's command lines are read by package mailcmd.
// #pending and #open are the names of the statuses they set
// (statusCommands).
var (
	customerCommands = map[string]bool{"close": true, "escalate": true}
	agentCommands    = map[string]bool{"close": true, "escalate": true, string(StatusPending): true, string(StatusOpen): true,
		"severity": true, "assign": true, "note": true, "take": true, "release": true}
)
