// Package demo is the story `postdesk demo` tells: a few customers' mails
// through the real intake, the notice an agent gets, the agent's answer by
// mail, a reply without the case tag, another agent's internal note, a
// stranger's mail, a duplicate, and the close by mail; and the printing of
// what happens at each step (each intake decision, each mail sent, the
// mails as their readers see them).
//
// cmd/postdesk wires it: it starts the in-process IMAP and SMTP servers
// (memimap, smtpsink), builds the configuration and the app, and runs the
// intake loop and the outbox sender; the story delivers mail, watches
// intake through the Receiver and Observer it hands out, and reads the
// outbox through Options. It expects the desk cmd/postdesk's demo
// configures: support@example.com, agents lee@example.com (Lee Chen,
// told of everything) and kim@example.com.
package demo

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/internal/memimap"
	"github.com/postdesk/postdesk/internal/smtpsink"
	"github.com/postdesk/postdesk/mailin"
	"github.com/postdesk/postdesk/store"
)

// maxWait bounds each wait of the demo for mail to be handled or sent.
const maxWait = 20 * time.Second

// Mailbox is the IMAP server whose INBOX intake watches: *memimap.Server.
type Mailbox interface {
	Addr() string
	Append(mailbox string, raw []byte) error
	Count(mailbox string) (int, error)
}

var _ Mailbox = (*memimap.Server)(nil)

// Outbound is the SMTP server the outbox sender delivers to:
// *smtpsink.Sink.
type Outbound interface {
	Addr() string
	Messages() []smtpsink.Received
	Wait(ctx context.Context, n int) ([]smtpsink.Received, error)
}

var _ Outbound = (*smtpsink.Sink)(nil)

// Store is what the story reads of the database: *store.DB.
type Store interface {
	Outbox(ctx context.Context, caseID int64) ([]*store.OutboxItem, error)
}

var _ Store = (*store.DB)(nil)

// Options are what the story drives; all are required.
type Options struct {
	Out  io.Writer // where the story is told
	IMAP Mailbox   // the mail arrives in its INBOX
	SMTP Outbound  // the outbox sender delivers here
	DB   Store     // the app's database, to count the mail queued
	// ShowCase prints case n as `postdesk case show N` does.
	ShowCase func(ctx context.Context, n int64) error
	// ListCases prints every case as `postdesk case list` does.
	ListCases func(ctx context.Context) error
}

// Story is one telling of the demo.
type Story struct {
	o Options
	// results reports each intake decision (printingReceiver).
	results chan desk.Result
	// moves reports each mail moved out of the INBOX.
	moves moves
	seen  int // mails of the sink already printed
}

// New returns the story told with o. Wire its Receiver and Observer into
// the intake loop before Run.
func New(o Options) *Story {
	return &Story{o: o, results: make(chan desk.Result, 16), moves: make(moves, 16)}
}

// Receiver returns r (the desk, as intake calls it) wrapped so that each
// decision is printed as the story goes and reported to it.
func (s *Story) Receiver(r mailin.Receiver) mailin.Receiver {
	return &printingReceiver{Receiver: r, out: s.o.Out, results: s.results}
}

// Observer is the intake loop's observer: it tells the story of each mail
// moved out of the INBOX.
func (s *Story) Observer() mailin.Observer { return s.moves }

// Run tells the story, step by step; each step waits until intake has
// decided on the mail delivered and the SMTP server has accepted every
// mail queued. It ends when every mail it caused has been sent.
func (s *Story) Run(ctx context.Context) error {
	w := s.o.Out
	fmt.Fprintf(w, "postdesk demo: IMAP on %s, SMTP on %s; agents lee@ and kim@example.com\n", s.o.IMAP.Addr(), s.o.SMTP.Addr())
	s.step("Three mails arrive at support@example.com")
	if err := s.deliver(ctx, alice, carol, vacation); err != nil {
		return err
	}
	sent, err := s.drain(ctx)
	if err != nil {
		return err
	}
	s.step("The confirmation Alice received: it never quotes her text")
	fmt.Fprintln(w, Readable(mailTo(sent, "alice@acme.example", "ELB").Data))
	leeNotice := mailTo(sent, "lee@example.com", "ELB")
	s.step("The notice Lee received: Alice's words in full, her log attached")
	fmt.Fprintln(w, Readable(leeNotice.Data))
	s.step("Lee answers from his mail client, above the quoted notice")
	if err := s.deliver(ctx, agentReply(leeNotice.Data, "Lee Chen <lee@example.com>", "lee-1",
		"Hello Alice,\n\nThe load balancer's security group blocks port 443. Please allow it and tell us.\n\nLee")); err != nil {
		return err
	}
	if sent, err = s.drain(ctx); err != nil {
		return err
	}
	answer := mailTo(sent, "alice@acme.example", "ELB")
	s.step("What Alice and Bob received: the answer alone, not a line of the notice")
	fmt.Fprintln(w, Readable(answer.Data))
	s.step("Bob answers the agent's mail; his client dropped the case tag, our Message-ID threads it")
	if err := s.deliver(ctx, bobReply(string(answer.Data))); err != nil {
		return err
	}
	if sent, err = s.drain(ctx); err != nil {
		return err
	}
	s.step("Kim notes by replying #note to her notice: Lee is told, the customer is not")
	if err := s.deliver(ctx, agentReply(mailTo(sent, "kim@example.com", "ELB").Data, "kim@example.com", "kim-1",
		"#note\nBob confirms the fix. Lee, close it when you are ready.")); err != nil {
		return err
	}
	if _, err := s.drain(ctx); err != nil {
		return err
	}
	s.step("A stranger writes with [Case #1] in the subject: held, the agents are told, nobody else")
	if err := s.deliver(ctx, stranger); err != nil {
		return err
	}
	if _, err := s.drain(ctx); err != nil {
		return err
	}
	s.step("Alice's first mail is delivered a second time")
	if err := s.deliver(ctx, alice); err != nil {
		return err
	}
	if _, err := s.drain(ctx); err != nil {
		return err
	}
	s.step("Lee closes case 1 by mail: Alice gets the closing mail and the survey, Lee a transcript")
	if err := s.deliver(ctx, agentReply(leeNotice.Data, "Lee Chen <lee@example.com>", "lee-2",
		"#close\nSecurity group fixed.")); err != nil {
		return err
	}
	if _, err := s.drain(ctx); err != nil {
		return err
	}
	s.step("Case 1 as `postdesk case show 1` prints it")
	if err := s.o.ShowCase(ctx, 1); err != nil {
		return err
	}
	s.step("All cases")
	if err := s.o.ListCases(ctx); err != nil {
		return err
	}
	inbox, _ := s.o.IMAP.Count("INBOX")
	processed, _ := s.o.IMAP.Count("Processed")
	fmt.Fprintf(w, "\nIMAP: %d left in INBOX, %d in Processed. SMTP: %d mails accepted, none left to send.\n", inbox, processed, len(s.o.SMTP.Messages()))
	return nil
}

// step prints the title of the next step.
func (s *Story) step(title string) { fmt.Fprintf(s.o.Out, "\n== %s\n", title) }

// deliver puts mails into the INBOX and waits until intake (woken by
// IDLE) has decided on each.
func (s *Story) deliver(ctx context.Context, raws ...string) error {
	for _, raw := range raws {
		if err := s.o.IMAP.Append("INBOX", []byte(raw)); err != nil {
			return err
		}
	}
	wait, cancel := context.WithTimeout(ctx, maxWait)
	defer cancel()
	for range raws {
		select {
		case <-s.results:
		case <-wait.Done():
			return fmt.Errorf("demo: intake did not handle the mail: %w", wait.Err())
		}
	}
	// The poller moves a group's mail once the whole group is recorded.
	for range raws {
		select {
		case <-s.moves:
		case <-wait.Done():
			return fmt.Errorf("demo: intake did not move the mail out of the INBOX: %w", wait.Err())
		}
	}
	return nil
}

// moves tells the demo of each mail moved out of the INBOX.
type moves chan struct{}

// Processed reports a mail moved; the demo handles a few mails and reads
// each report, so the channel's buffer never fills.
func (m moves) Processed(string, desk.Outcome, time.Duration) { m <- struct{}{} }

// Reconnected is of no interest to the demo.
func (moves) Reconnected(string) {}

// Panicked is not counted by the demo: the intake logs each panic.
func (moves) Panicked(string) {}

var _ mailin.Observer = moves(nil)

// drain waits until the SMTP server has accepted every mail queued so far,
// prints the new ones and returns them.
func (s *Story) drain(ctx context.Context) ([]smtpsink.Received, error) {
	wait, cancel := context.WithTimeout(ctx, maxWait)
	defer cancel()
	rows, err := s.o.DB.Outbox(ctx, 0)
	if err != nil {
		return nil, err
	}
	msgs, err := s.o.SMTP.Wait(wait, len(rows))
	if err == nil {
		err = s.recorded(wait)
	}
	if err != nil {
		return nil, fmt.Errorf("demo: mail was not sent: %w", err)
	}
	fresh := msgs[s.seen:]
	for _, m := range fresh {
		fmt.Fprintf(s.o.Out, "  sent to %s: %s\n", strings.Join(m.To, ", "), Header(string(m.Data), "Subject"))
	}
	s.seen = len(msgs)
	return fresh, nil
}

// recorded waits until the sender has recorded as sent each mail the SMTP
// server accepted: it does so just after the server's reply, and the
// story's next `case show` should say "sent", not "queued".
func (s *Story) recorded(ctx context.Context) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		rows, err := s.o.DB.Outbox(ctx, 0)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(rows, func(it *store.OutboxItem) bool { return it.Status == store.OutboxQueued }) {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-tick.C:
		}
	}
}

// printingReceiver prints each decision as the demo goes and reports it
// on results.
type printingReceiver struct {
	mailin.Receiver
	out     io.Writer
	results chan desk.Result
}

// Receive records the decision, prints it and reports it on results.
func (p *printingReceiver) Receive(ctx context.Context, in *desk.Inbound) (desk.Result, error) {
	res, err := p.Receiver.Receive(ctx, in)
	if err == nil {
		line := fmt.Sprintf("  %s from %s: %s", strings.TrimSpace(in.Subject), in.From, res.Outcome)
		if res.Case != 0 {
			line += fmt.Sprintf(" (case %d)", res.Case)
		}
		if res.Reason != "" {
			line += " — " + res.Reason
		}
		fmt.Fprintln(p.out, line)
		p.results <- res
	}
	return res, err
}

var _ mailin.Receiver = (*printingReceiver)(nil)
