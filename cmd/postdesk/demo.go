package main

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/postdesk/postdesk/config"
	"github.com/postdesk/postdesk/internal/demo"
	"github.com/postdesk/postdesk/internal/memimap"
	"github.com/postdesk/postdesk/internal/smtpsink"
	"github.com/postdesk/postdesk/mailin"
)

// demo tells the whole story with no setup: an IMAP server and an SMTP
// server in process, a database in a temporary directory, a few customers'
// mails through the real intake, the notice an agent gets, the agent's
// answer by mail, a reply without the case tag, another agent's internal
// note, a stranger's mail, and the close by mail. It ends when every mail
// it caused has been sent. The story is internal/demo's; this is its
// wiring.
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
	story := demo.New(demo.Options{Out: c.stdout, IMAP: imapSrv, SMTP: sink, DB: a.db,
		ShowCase:  func(ctx context.Context, n int64) error { return c.caseShow(ctx, a, n, false) },
		ListCases: func(ctx context.Context) error { return c.caseList(ctx, a, "all", false) },
	})
	in, err := a.intake("") // the daemon's intake, told to the story as it decides
	if err != nil {
		return err
	}
	in.Desk = story.Receiver(in.Desk)
	poller := mailin.NewPoller(mailin.MailboxOptions{
		Name: "support", Addr: imapSrv.Addr(), TLS: "none", Username: "support@example.com",
		Password: "demo-password", Processed: "Processed", Quarantine: "Quarantine",
		// IDLE does the work: memimap wakes every IDLE at each delivery.
		PollInterval: time.Minute,
		Observer:     story.Observer(),
	}, in)
	// The daemon's own loops: IMAP IDLE intake and the outbox sender.
	loops, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { poller.Run(loops) })
	wg.Go(func() { a.sender.Run(loops) })
	err = story.Run(ctx)
	stop()
	wg.Wait()
	return err
}
