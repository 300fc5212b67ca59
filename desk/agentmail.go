package desk

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/postdesk/postdesk/desk/mailcmd"
	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/threading"
)

// forgedPerHour is the most transcripts about mail held in one agent's name
// that agent gets in an hour: a forger cannot flood the real agent.
const forgedPerHour = 10

// agentProof reports whether mail from an agent's address is the agent's
// (DESIGN §9 "Who is an agent"): it answers a mail we sent to that agent
// on this case (a signed Message-ID naming the agent in In-Reply-To or
// References; ref is the message that mail reported), or our own MTA says
// it passed DMARC (dmarc, authres.DMARC's result). A From header alone
// proves nothing.
func (d *Desk) agentProof(c *store.Case, in *Inbound, dmarc string) (ref int64, ok bool) {
	if n, msg, ok := d.o.IDs.FindSentTo(in.InReplyTo, in.References, in.From); ok && n == c.ID {
		return msg, true
	}
	return 0, dmarc == "pass"
}

// forged holds mail that bears an agent's address without proof: nobody on
// the case gets anything, no command runs, and the real agent gets a
// transcript saying a mail in their name was held.
func (d *Desk) forged(tx *store.Tx, c *store.Case, in *Inbound, rawID int64, now time.Time) (Result, error) {
	reason := "mail in the name of agent " + in.From + " that answers no mail sent to that agent and did not pass DMARC"
	res, m, err := d.holdMessage(tx, c, in, rawID, reason, now)
	if err != nil {
		return res, err
	}
	n, err := tx.Bump("forged:"+addrKey(in.From), hourWindow(now))
	if err != nil || n > forgedPerHour {
		return res, err
	}
	return res, d.transcript(tx, c, in.From, m.ID, store.CodeForged, reason, nil, now)
}

// agentMail is an agent working a case by mail. The new text is what stands
// above the quoted mail (threading.CutAgentReply); the command lines at its
// top are checked all together first, and when one is refused none runs
// and the text is kept as a note. Otherwise the commands run and the text
// is an answer to the customer, unless the mail is a #note, went to the
// comment address, closes the case (the text is the resolution), or is
// empty or still holds a line of our notice: then nothing reaches the
// customer. The agent gets a transcript when the mail held commands or
// reached nobody it was meant for. ref is the message the answered notice
// reported (0: none).
func (d *Desk) agentMail(tx *store.Tx, c *store.Case, in *Inbound, rawID, ref int64, now time.Time) (Result, error) {
	agent := in.From
	m := d.inboundMessage(c.ID, rawID, MessageAgent, in, now)
	lines, rest := mailcmd.Lines(threading.CutAgentReply(in.Text))
	m.NewText = rest
	results, ok, err := d.checkCommands(tx, c, lines, ref)
	if err != nil {
		return Result{}, err
	}
	res := Result{Outcome: Reply, Case: c.ID}
	if !ok {
		code := store.CodeCommandsOnly
		if rest != "" {
			code = store.CodeRefusedText
		}
		res.Reason = "agent mail with a refused command: nothing ran, nothing sent"
		if err := d.keepNote(tx, c, m, agent, false, now); err != nil {
			return Result{}, err
		}
		return res, d.transcript(tx, c, agent, m.ID, code, "", results, now)
	}
	if err := d.runCommands(tx, c, agent, lines, results, ref, now); err != nil {
		return Result{}, err
	}
	code, reason, err := d.agentText(tx, c, in, m, lines, now)
	if err != nil {
		return Result{}, err
	}
	if _, closing := mailcmd.Find(lines, "close"); !closing {
		if err := d.statusCommands(tx, c, agent, lines, now); err != nil {
			return Result{}, err
		}
	}
	res.Reason = agentReasons[code]
	if !needsTranscript(code, lines) {
		return res, nil
	}
	return res, d.transcript(tx, c, agent, m.ID, code, reason, results, now)
}

// agentReasons are the ingest reasons of an agent's mail, by what became
// of its text.
var agentReasons = map[string]string{
	store.CodeAnswered:     "agent reply",
	store.CodeNoted:        "agent note",
	store.CodeNoText:       "agent mail without new text: nothing sent",
	store.CodeLeak:         "agent mail still holding our notice: kept as a note, nothing sent",
	store.CodeCommandsOnly: "agent commands",
}

// agentText records the text of an agent's mail m and reports what became
// of it, as a transcript code (with reason for CodeLeak).
func (d *Desk) agentText(tx *store.Tx, c *store.Case, in *Inbound, m *store.Message, lines []mailcmd.Line, now time.Time) (code, reason string, err error) {
	agent, rest := in.From, m.NewText
	if cl, ok := mailcmd.Find(lines, "close"); ok {
		m.NewText = strings.TrimSpace(cl.Arg + "\n" + rest)
		if err := tx.InsertMessage(m); err != nil {
			return "", "", err
		}
		return store.CodeCommandsOnly, "", d.closeCase(tx, c, closing{by: agent, resolution: m.NewText,
			code: store.CodeClosed, reason: "closed by " + agent}, now)
	}
	_, noted := mailcmd.Find(lines, "note")
	switch {
	case rest == "" && (noted || len(lines) == 0):
		return store.CodeNoText, "", d.keepNote(tx, c, m, agent, false, now)
	case rest == "":
		return store.CodeCommandsOnly, "", d.keepNote(tx, c, m, agent, false, now)
	case noted || d.toComment(in):
		return store.CodeNoted, "", d.keepNote(tx, c, m, agent, true, now)
	}
	if line, leaked := d.leaks(tx, c, rest); leaked {
		return store.CodeLeak, line, d.keepNote(tx, c, m, agent, false, now)
	}
	return store.CodeAnswered, "", d.answer(tx, c, agent, m, now)
}

// needsTranscript reports whether the agent is told what became of their
// mail: when it reached nobody it was meant for, or held commands (a lone
// #note is no command worth a transcript, as a plain answer is not).
func needsTranscript(code string, lines []mailcmd.Line) bool {
	switch code {
	case store.CodeNoText, store.CodeLeak, store.CodeRefusedText:
		return true
	}
	for _, l := range lines {
		if l.Name != "note" {
			return true
		}
	}
	return false
}

// keepNote records m as an internal note that reaches no customer; tell
// notices the other agents (a note the agent meant as one).
func (d *Desk) keepNote(tx *store.Tx, c *store.Case, m *store.Message, agent string, tell bool, now time.Time) error {
	m.Kind = string(MessageNote)
	if err := tx.InsertMessage(m); err != nil {
		return err
	}
	if err := addEvent(tx, c.ID, now, EventNote, "by "+agent); err != nil {
		return err
	}
	if !tell {
		return nil
	}
	return d.tellAgents(tx, c, noticeOf{code: store.CodeNote, msg: m, fromName: d.agentName(agent),
		actor: agent, internal: true}, now)
}

// toComment reports whether the comment address is among in's recipients.
func (d *Desk) toComment(in *Inbound) bool {
	k := addrKey(d.comment)
	for _, a := range append(append([]string{}, in.To...), in.Cc...) {
		if addrKey(a) == k {
			return true
		}
	}
	return false
}

// leaks reports whether text still holds a line of a notice we mailed to
// agents, which a mail client's quoting left above the cut: the marker
// line, the case tag, a line naming the requester or a contact after a
// colon ("Requester: Alice <alice@…>"), the facts line ("plan · severity ·
// …") or a line on how to answer ("#note", or two commands named). Such
// text is never mailed to the customer (fail closed); line is the first
// such line.
func (d *Desk) leaks(tx *store.Tx, c *store.Case, text string) (line string, leaked bool) {
	contacts, err := d.contacts(tx, c.ID)
	if err != nil {
		return "", true
	}
	addrs := append([]string{c.Requester}, contacts...)
	tag := strings.ToLower(d.tag.Format(c.ID))
	for _, l := range strings.Split(text, "\n") {
		low := strings.ToLower(l)
		switch {
		case strings.Contains(l, threading.ReplyMarker), strings.Contains(low, tag),
			strings.Count(l, " · ") >= 2, strings.Contains(low, "#note"), commandMentions(low) >= 2:
			return strings.TrimSpace(l), true
		}
		colon := strings.IndexAny(low, ":：") // in low: lower-casing may change the length
		if colon < 0 {
			continue
		}
		for _, a := range addrs {
			if a != "" && strings.Contains(low[colon:], strings.ToLower(a)) {
				return strings.TrimSpace(l), true
			}
		}
	}
	return "", false
}

// commandMentions counts the agents' commands named in line ("#take").
func commandMentions(line string) int {
	n := 0
	for name := range agentCommands {
		n += strings.Count(line, "#"+name)
	}
	return n
}

// checkCommands checks every command line of an agent's mail before any
// runs: all run or none does (DESIGN §9, fail closed). ok is false when a
// line is refused; results then say why for each line.
func (d *Desk) checkCommands(tx *store.Tx, c *store.Case, lines []mailcmd.Line, ref int64) (results []store.CommandResult, ok bool, err error) {
	ok = true
	for i, l := range lines {
		r := store.CommandResult{Line: l.Text, Code: store.ResultDone}
		switch {
		case i >= mailcmd.Max:
			r.Code, r.Arg = store.ResultTooMany, fmt.Sprint(mailcmd.Max)
		case !agentCommands[l.Name]:
			r.Code = store.ResultUnknown
		default:
			if r.Code, r.Arg, err = d.checkCommand(tx, c, l.Command, ref); err != nil {
				return nil, false, err
			}
		}
		if r.Code != store.ResultDone {
			ok = false
		}
		results = append(results, r)
	}
	if !ok {
		for i := range results {
			if results[i].Code == store.ResultDone {
				results[i].Code = store.ResultNotRun
			}
		}
	}
	return results, ok, nil
}

// checkCommand says whether one known command can run on c.
func (d *Desk) checkCommand(tx *store.Tx, c *store.Case, cmd mailcmd.Command, ref int64) (code, arg string, err error) {
	switch cmd.Name {
	case "severity":
		if ParseSeverity(cmd.Arg) == "" {
			return store.ResultBadValue, wordList(Severities()), nil
		}
	case "assign":
		if !d.IsAgent(cmd.Arg) {
			return store.ResultBadValue, "the address of a configured agent", nil
		}
	case "close":
		if Status(c.Status) == StatusClosed {
			return store.ResultNotAllowed, "the case is already closed", nil
		}
	case "release":
		if cmd.Arg != "" && !strings.EqualFold(cmd.Arg, string(RoleContact)) {
			return store.ResultBadValue, "#release or #release contact", nil
		}
		held, err := d.heldMessage(tx, c, ref)
		if err != nil || held == nil {
			return store.ResultNoHeld, "", err
		}
	}
	return store.ResultDone, "", nil
}

// runCommands carries out the checked commands that change the case before
// its text is handled; #close, #pending and #open come after the text.
func (d *Desk) runCommands(tx *store.Tx, c *store.Case, agent string, lines []mailcmd.Line, results []store.CommandResult, ref int64, now time.Time) error {
	for i, l := range lines {
		var err error
		switch l.Name {
		case "take":
			err = d.setField(tx, c, "assignee", agent, agent, now)
			results[i].Arg = agent
		case "assign":
			err = d.setField(tx, c, "assignee", l.Arg, agent, now)
			results[i].Arg = addrKey(l.Arg)
		case "severity":
			err = d.setField(tx, c, "severity", l.Arg, agent, now)
			results[i].Arg = string(ParseSeverity(l.Arg))
		case "escalate":
			err = d.escalate(tx, c, store.CodeEscalated, "asked by "+agent, agent, now)
		case "release":
			var held *store.Message
			if held, err = d.heldMessage(tx, c, ref); err == nil {
				err = d.release(tx, c, held, strings.EqualFold(l.Arg, string(RoleContact)), agent, now)
			}
			if errors.Is(err, ErrLimit) {
				results[i].Code, results[i].Arg, err = store.ResultLimit, fmt.Sprint(d.contactLimit(c)), nil
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// statusCommands applies #pending and #open after an answer (which makes
// the case pending).
func (d *Desk) statusCommands(tx *store.Tx, c *store.Case, agent string, lines []mailcmd.Line, now time.Time) error {
	for _, l := range lines {
		if s := parseStatus(l.Name); s == StatusPending || s == StatusOpen {
			if err := d.setStatusByAgent(tx, c, l.Name, agent, now); err != nil {
				return err
			}
		}
	}
	return nil
}
