package desk

// customerCommands may be used by the requester and contacts; agents may
// use all commands. Mail's command lines are read by package mailcmd.
var (
	customerCommands = map[string]bool{"close": true, "escalate": true}
	agentCommands    = map[string]bool{"close": true, "escalate": true, "pending": true, "open": true,
		"severity": true, "assign": true, "note": true, "take": true, "release": true}
)
