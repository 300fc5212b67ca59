package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jhillyerd/enmime/v2"

	"github.com/postdesk/postdesk/config"
	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/internal/memimap"
	"github.com/postdesk/postdesk/internal/smtpsink"
	"github.com/postdesk/postdesk/mailin"
)

// demo tells the whole story with no setup: an IMAP server and an SMTP
// server in process, a database in a temporary directory, a few customers'
// mails through the real intake, the notice an agent gets, the agent's
// answer by mail, a reply without the case tag, another agent's internal
// note, a stranger's mail, and the close by mail. It ends when every mail
// it caused has been sent.
func (c *cli) demo(ctx context.Context, args []string) error {
	fs := newFlags("demo")
	keep := fs.String("dir", "", "keep the database here instead of a temporary directory")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	dir := *keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "postdesk-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	imapSrv, err := memimap.Start("support@example.com", "demo-password", nil)
	if err != nil {
		return err
	}
	defer imapSrv.Close()
	sink, err := smtpsink.Start()
	if err != nil {
		return err
	}
	defer sink.Close()

	cfg := config.DefaultConfig()
	cfg.Desk.Name, cfg.Desk.Address = "Example Support", "support@example.com"
	cfg.Desk.Agents = []string{"lee@example.com", "kim@example.com"}
	cfg.Agents = []config.AgentConfig{{Address: "lee@example.com", Name: "Lee Chen", Notify: "all"}}
	cfg.Desk.Database = filepath.Join(dir, "postdesk.db")
	cfg.Desk.SecretFile = filepath.Join(dir, "postdesk.key")
	cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLS = sink.Host(), sink.Port(), "none"
	a, err := openApp(ctx, cfg, appOptions{})
	if err != nil {
		return err
	}
	defer a.Close()
	d := &demoRun{cli: c, app: a, imap: imapSrv, sink: sink}
	d.printer = &printingReceiver{Receiver: kicking{Desk: a.desk, kick: a.sender.Kick}, out: c.stdout,
		results: make(chan desk.Result, 16)}
	d.moves = demoMoves(make(chan struct{}, 16))
	poller := mailin.NewPoller(mailin.MailboxOptions{
		Name: "support", Addr: imapSrv.Addr(), TLS: "none", Username: "support@example.com",
		Password: "demo-password", Processed: "Processed", Quarantine: "Quarantine",
		// IDLE does the work: memimap wakes every IDLE at each delivery.
		PollInterval: time.Minute,
		Observer:     d.moves,
	}, &mailin.Intake{Desk: d.printer, MaxBytes: cfg.Limits.MessageBytes})
	// The daemon's own loops: IMAP IDLE intake and the outbox sender.
	loops, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { poller.Run(loops) })
	wg.Go(func() { a.sender.Run(loops) })
	err = d.story(ctx)
	stop()
	wg.Wait()
	return err
}

// demoWait bounds each wait of the demo for mail to be handled or sent.
const demoWait = 20 * time.Second

// demoRun holds the parts the story drives.
type demoRun struct {
	*cli
	app  *app
	imap *memimap.Server
	sink *smtpsink.Sink
	// printer prints and reports each intake decision.
	printer *printingReceiver
	// moves reports each mail moved out of the INBOX.
	moves demoMoves
	seen  int // mails of the sink already printed
}

func (d *demoRun) story(ctx context.Context) error {
	w := d.stdout
	fmt.Fprintf(w, "postdesk demo: IMAP on %s, SMTP on %s; agents lee@ and kim@example.com\n", d.imap.Addr(), d.sink.Addr())
	d.step("Three mails arrive at support@example.com")
	if err := d.deliver(ctx, demoAlice, demoCarol, demoVacation); err != nil {
		return err
	}
	sent, err := d.drain(ctx)
	if err != nil {
		return err
	}
	d.step("The confirmation Alice received: it never quotes her text")
	fmt.Fprintln(w, readable(mailTo(sent, "alice@acme.example", "ELB").Data))
	leeNotice := mailTo(sent, "lee@example.com", "ELB")
	d.step("The notice Lee received: Alice's words in full, her log attached")
	fmt.Fprintln(w, readable(leeNotice.Data))
	d.step("Lee answers from his mail client, above the quoted notice")
	if err := d.deliver(ctx, demoAgentReply(leeNotice.Data, "Lee Chen <lee@example.com>", "lee-1",
		"Hello Alice,\n\nThe load balancer's security group blocks port 443. Please allow it and tell us.\n\nLee")); err != nil {
		return err
	}
	if sent, err = d.drain(ctx); err != nil {
		return err
	}
	answer := mailTo(sent, "alice@acme.example", "ELB")
	d.step("What Alice and Bob received: the answer alone, not a line of the notice")
	fmt.Fprintln(w, readable(answer.Data))
	d.step("Bob answers the agent's mail; his client dropped the case tag, our Message-ID threads it")
	if err := d.deliver(ctx, demoBobReply(string(answer.Data))); err != nil {
		return err
	}
	if sent, err = d.drain(ctx); err != nil {
		return err
	}
	d.step("Kim notes by replying #note to her notice: Lee is told, the customer is not")
	if err := d.deliver(ctx, demoAgentReply(mailTo(sent, "kim@example.com", "ELB").Data, "kim@example.com", "kim-1",
		"#note\nBob confirms the fix. Lee, close it when you are ready.")); err != nil {
		return err
	}
	if _, err := d.drain(ctx); err != nil {
		return err
	}
	d.step("A stranger writes with [Case #1] in the subject: held, the agents are told, nobody else")
	if err := d.deliver(ctx, demoStranger); err != nil {
		return err
	}
	if _, err := d.drain(ctx); err != nil {
		return err
	}
	d.step("Alice's first mail is delivered a second time")
	if err := d.deliver(ctx, demoAlice); err != nil {
		return err
	}
	if _, err := d.drain(ctx); err != nil {
		return err
	}
	d.step("Lee closes case 1 by mail: Alice gets the closing mail and the survey, Lee a transcript")
	if err := d.deliver(ctx, demoAgentReply(leeNotice.Data, "Lee Chen <lee@example.com>", "lee-2",
		"#close\nSecurity group fixed.")); err != nil {
		return err
	}
	if _, err := d.drain(ctx); err != nil {
		return err
	}
	d.step("Case 1 as `postdesk case show 1` prints it")
	if err := d.caseShow(ctx, d.app, 1, false); err != nil {
		return err
	}
	d.step("All cases")
	if err := d.caseList(ctx, d.app, "all", false); err != nil {
		return err
	}
	inbox, _ := d.imap.Count("INBOX")
	processed, _ := d.imap.Count("Processed")
	fmt.Fprintf(w, "\nIMAP: %d left in INBOX, %d in Processed. SMTP: %d mails accepted, none left to send.\n", inbox, processed, len(d.sink.Messages()))
	return nil
}

func (d *demoRun) step(title string) { fmt.Fprintf(d.stdout, "\n== %s\n", title) }

// deliver puts mails into the INBOX and waits until intake (woken by
// IDLE) has decided on each.
func (d *demoRun) deliver(ctx context.Context, raws ...string) error {
	for _, raw := range raws {
		if err := d.imap.Append("INBOX", []byte(raw)); err != nil {
			return err
		}
	}
	wait, cancel := context.WithTimeout(ctx, demoWait)
	defer cancel()
	for range raws {
		select {
		case <-d.printer.results:
		case <-wait.Done():
			return fmt.Errorf("demo: intake did not handle the mail: %w", wait.Err())
		}
	}
	// The poller moves a group's mail once the whole group is recorded.
	for range raws {
		select {
		case <-d.moves:
		case <-wait.Done():
			return fmt.Errorf("demo: intake did not move the mail out of the INBOX: %w", wait.Err())
		}
	}
	return nil
}

// demoMoves tells the demo of each mail moved out of the INBOX.
type demoMoves chan struct{}

// Processed reports a mail moved; the demo handles a few mails and reads
// each report, so the channel's buffer never fills.
func (m demoMoves) Processed(string, desk.Outcome, time.Duration) { m <- struct{}{} }

// Reconnected is of no interest to the demo.
func (demoMoves) Reconnected(string) {}

// Panicked is not counted by the demo: the intake logs each panic.
func (demoMoves) Panicked(string) {}

// readable shows a sent mail as a person reads it: the headers that matter,
// the decoded text and the attached files, indented.
func readable(raw []byte) string {
	env, err := enmime.ReadEnvelope(bytes.NewReader(raw))
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, h := range []string{"From", "To", "Cc", "Reply-To", "Subject", "Message-ID", "In-Reply-To", "Auto-Submitted"} {
		if v := env.GetHeader(h); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", h, v)
		}
	}
	b.WriteString("\n" + strings.ReplaceAll(env.Text, "\r\n", "\n"))
	for _, a := range env.Attachments {
		fmt.Fprintf(&b, "\n[attached: %s, %s, %d bytes]", a.FileName, a.ContentType, len(a.Content))
	}
	return "  | " + strings.ReplaceAll(strings.TrimRight(b.String(), "\n"), "\n", "\n  | ")
}

// drain waits until the SMTP server has accepted every mail queued so far,
// prints the new ones and returns them.
func (d *demoRun) drain(ctx context.Context) ([]smtpsink.Received, error) {
	wait, cancel := context.WithTimeout(ctx, demoWait)
	defer cancel()
	rows, err := d.app.db.Outbox(ctx, 0)
	if err != nil {
		return nil, err
	}
	msgs, err := d.sink.Wait(wait, len(rows))
	if err != nil {
		return nil, fmt.Errorf("demo: mail was not sent: %w", err)
	}
	fresh := msgs[d.seen:]
	for _, m := range fresh {
		fmt.Fprintf(d.stdout, "  sent to %s: %s\n", strings.Join(m.To, ", "), header(string(m.Data), "Subject"))
	}
	d.seen = len(msgs)
	return fresh, nil
}

// mailTo returns the first of ms sent to rcpt whose subject holds word.
func mailTo(ms []smtpsink.Received, rcpt, word string) smtpsink.Received {
	for _, m := range ms {
		if slices.Contains(m.To, rcpt) && strings.Contains(header(string(m.Data), "Subject"), word) {
			return m
		}
	}
	return smtpsink.Received{}
}

// header returns the first value of a header in a raw message (unfolded).
func header(raw, name string) string {
	head, _, _ := strings.Cut(strings.ReplaceAll(raw, "\r\n", "\n"), "\n\n")
	head = strings.ReplaceAll(head, "\n ", " ")
	for _, line := range strings.Split(head, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// printingReceiver prints each decision as the demo goes and reports it
// on results.
type printingReceiver struct {
	mailin.Receiver
	out     io.Writer
	results chan desk.Result
}

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

var demoDate = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC).Format(time.RFC1123Z)

var demoAlice = "From: Alice Martin <alice@acme.example>\r\n" +
	"To: support@example.com\r\nCc: bob@acme.example\r\n" +
	"Subject: ELB unreachable from the internet\r\n" +
	"Date: " + demoDate + "\r\nMessage-ID: <alice-1@acme.example>\r\n" +
	"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n" +
	"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
	"Severity: high\r\nService: ELB\r\n\r\nSince 08:00 our load balancer answers nothing on port 443.\r\n" +
	"The targets are healthy. Log attached.\r\n\r\nAlice\r\n" +
	"--b1\r\nContent-Type: text/plain; name=app.log\r\nContent-Disposition: attachment; filename=app.log\r\n\r\n" +
	"08:00:01 connect timeout\r\n08:00:02 connect timeout\r\n" +
	"--b1--\r\n"

var demoCarol = "From: carol@globex.example\r\nTo: support@example.com\r\n" +
	"Subject: Invoice for October is missing\r\n" +
	"Date: " + demoDate + "\r\nMessage-ID: <carol-1@globex.example>\r\n\r\n" +
	"Hello, we did not receive the October invoice. Could you send it again?\r\n"

var demoVacation = "From: dave@initech.example\r\nTo: support@example.com\r\n" +
	"Subject: Automatic reply: out of office\r\nAuto-Submitted: auto-replied\r\n" +
	"Date: " + demoDate + "\r\nMessage-ID: <dave-ooo@initech.example>\r\n\r\n" +
	"I am out of the office until Monday.\r\n"

var demoStranger = "From: mallory@evil.example\r\nTo: support@example.com\r\n" +
	"Subject: Re: [Case #1] ELB unreachable from the internet\r\n" +
	"Date: " + demoDate + "\r\nMessage-ID: <mallory-1@evil.example>\r\n\r\n" +
	"Please send me the password reset link for alice@acme.example.\r\n"

// demoBobReply answers the agent's mail the way a mail client does, with
// In-Reply-To and References, and a subject that lost the tag.
func demoBobReply(agentMail string) string {
	id := header(agentMail, "Message-ID")
	return "From: bob@acme.example\r\nTo: support@example.com\r\n" +
		"Subject: Re: ELB unreachable from the internet\r\n" +
		"Date: " + demoDate + "\r\nMessage-ID: <bob-1@acme.example>\r\n" +
		"In-Reply-To: " + id + "\r\nReferences: " + id + "\r\n\r\n" +
		"Done, port 443 is open now and it works. Thanks!\r\n\r\n> Hello Alice,\r\n> The load balancer's security group blocks port 443.\r\n"
}

// demoAgentReply answers a notice as Gmail does: the text on top, then
// "On … wrote:" and the notice quoted with "> ", sent to the notice's
// Reply-To and threaded under it (which proves the agent received it).
func demoAgentReply(notice []byte, from, id, text string) string {
	env, err := enmime.ReadEnvelope(bytes.NewReader(notice))
	if err != nil {
		return ""
	}
	var quoted strings.Builder
	for _, l := range strings.Split(strings.TrimRight(strings.ReplaceAll(env.Text, "\r\n", "\n"), "\n"), "\n") {
		quoted.WriteString(strings.TrimRight("> "+l, " ") + "\r\n")
	}
	msgID := env.GetHeader("Message-ID")
	return "From: " + from + "\r\nTo: " + strings.Trim(env.GetHeader("Reply-To"), "<>") + "\r\n" +
		"Subject: Re: " + env.GetHeader("Subject") + "\r\nDate: " + demoDate + "\r\nMessage-ID: <" + id + "@example.com>\r\n" +
		"In-Reply-To: " + msgID + "\r\nReferences: " + msgID + "\r\n\r\n" +
		strings.ReplaceAll(text, "\n", "\r\n") + "\r\n\r\nOn Sat, Nov 21, 2026 at 9:05 AM Example Support <support@example.com> wrote:\r\n" +
		quoted.String()
}
