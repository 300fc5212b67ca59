package main

// The IMAP side: the server the daemon reads (in-process, a private
// Dovecot, or one given with -imap) and the clients that deliver to it.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/postdesk/postdesk/internal/dovecot"
	"github.com/postdesk/postdesk/internal/memimap"
)

// Credentials of the servers the bench starts itself.
const (
	benchUser     = "bench@bench.example"
	benchPassword = "bench-secret"
)

// imapServer is where mail is delivered and where the daemon reads it.
type imapServer struct {
	kind       string // "memimap", "dovecot" or "external"
	addr       string
	tls        string // as in [[mailbox]] tls: "none", "implicit", "starttls"
	user, pass string
	mem        *memimap.Server
	dov        *dovecot.Server
	created    []string // folders made by the bench, deleted by close unless kept
	keep       bool
}

// startIMAP starts or names the server as the flags say.
func startIMAP(o *options, dir string) (*imapServer, error) {
	switch {
	case o.imapAddr != "":
		return &imapServer{kind: "external", addr: o.imapAddr, tls: o.imapTLS, user: o.user, pass: o.pass, keep: o.keep}, nil
	case o.dovecot:
		ddir := filepath.Join(dir, "dovecot")
		if err := os.Mkdir(ddir, 0o700); err != nil {
			return nil, err
		}
		s, err := dovecot.Start(ddir, map[string]string{benchUser: benchPassword})
		if err != nil {
			return nil, fmt.Errorf("start dovecot: %w", err)
		}
		return &imapServer{kind: "dovecot", addr: s.Addr(), tls: "none", user: benchUser, pass: benchPassword, dov: s}, nil
	}
	s, err := memimap.Start(benchUser, benchPassword, nil)
	if err != nil {
		return nil, err
	}
	return &imapServer{kind: "memimap", addr: s.Addr(), tls: "none", user: benchUser, pass: benchPassword, mem: s}, nil
}

// close deletes the folders the bench made on an external server (unless
// -keep) and stops a server the bench started.
func (s *imapServer) close() error {
	var errs []error
	if s.kind == "external" && !s.keep && len(s.created) > 0 {
		if c, err := s.dial(context.Background()); err == nil {
			for _, f := range s.created {
				if err := c.Delete(f).Wait(); err != nil {
					errs = append(errs, fmt.Errorf("delete folder %s: %w", f, err))
				}
			}
			_ = c.Logout().Wait()
			c.Close()
		}
	}
	if s.mem != nil {
		errs = append(errs, s.mem.Close())
	}
	if s.dov != nil {
		errs = append(errs, s.dov.Close())
	}
	return errors.Join(errs...)
}

func (s *imapServer) hostPort() (string, int) {
	host, port, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(port)
	return host, n
}

// clientTimeout bounds every command the bench's IMAP clients wait for.
const clientTimeout = 2 * time.Minute

// session is a logged-in client whose connection is cut when the context
// it was dialled with ends.
type session struct {
	*imapclient.Client
	stop func() bool
}

// Close closes the connection and forgets the context.
func (s *session) Close() error {
	s.stop()
	return s.Client.Close()
}

// dial logs in; the connection is cut when ctx ends.
func (s *imapServer) dial(ctx context.Context) (*session, error) {
	host, _ := s.hostPort()
	var c *imapclient.Client
	var err error
	switch s.tls {
	case "implicit":
		c, err = imapclient.DialTLS(s.addr, &imapclient.Options{TLSConfig: &tls.Config{ServerName: host}})
	case "starttls":
		c, err = imapclient.DialStartTLS(s.addr, &imapclient.Options{TLSConfig: &tls.Config{ServerName: host}})
	default:
		c, err = imapclient.DialInsecure(s.addr, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("imap connect %s: %w", s.addr, err)
	}
	sess := &session{Client: c, stop: context.AfterFunc(ctx, func() { c.Close() })}
	guard := time.AfterFunc(clientTimeout, func() { c.Close() })
	defer guard.Stop()
	if err := c.Login(s.user, s.pass).Wait(); err != nil {
		sess.Close()
		return nil, fmt.Errorf("imap login as %s: %w", s.user, err)
	}
	return sess, nil
}

// createFolders makes the folders of one phase; on an external server they
// are deleted at the end.
func (s *imapServer) createFolders(ctx context.Context, names ...string) error {
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, n := range names {
		if err := c.Create(n, nil).Wait(); err != nil {
			var ie *imap.Error
			if !errors.As(err, &ie) || ie.Code != imap.ResponseCodeAlreadyExists {
				return fmt.Errorf("imap create %s: %w", n, err)
			}
		}
		s.created = append(s.created, n)
	}
	return c.Logout().Wait()
}

// appendStats is what one delivery run achieved.
type appendStats struct {
	mails   int
	bytes   int64
	started time.Time
	ended   time.Time
}

func (a appendStats) seconds() float64 { return a.ended.Sub(a.started).Seconds() }

func (a appendStats) mailsPerS() float64 { return perSecond(a.mails, a.ended.Sub(a.started)) }

// deliverer appends mails from several connections, each pipelining up to
// window APPENDs (RFC 3501 §6.3.11; with LITERAL+, RFC 7888, nothing waits
// for a continuation).
type deliverer struct {
	srv    *imapServer
	folder string
	conns  int
	window int
	mail   func(i int) []byte
	// gate, when set, is called before mail i is appended and may block
	// (the soak keeps a bounded backlog this way).
	gate func(ctx context.Context, i int) error
}

// run appends mails from..to-1 and returns when the server confirmed all.
func (d *deliverer) run(ctx context.Context, from, to int) (appendStats, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	clients := make([]*session, d.conns)
	for k := range clients {
		c, err := d.srv.dial(ctx)
		if err != nil {
			for _, c := range clients[:k] {
				c.Close()
			}
			return appendStats{}, err
		}
		clients[k] = c
	}
	var next atomic.Int64
	next.Store(int64(from))
	var total atomic.Int64
	st := appendStats{mails: to - from, started: time.Now()}
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			defer c.Close()
			n, err := d.one(ctx, c.Client, &next, to)
			total.Add(n)
			if err != nil {
				cancel(err)
				return
			}
			_ = c.Logout().Wait()
		})
	}
	wg.Wait()
	st.ended, st.bytes = time.Now(), total.Load()
	if err := context.Cause(ctx); err != nil {
		return st, fmt.Errorf("append to %s: %w", d.folder, err)
	}
	return st, nil
}

// one is the loop of one connection: it takes the next index until to.
func (d *deliverer) one(ctx context.Context, c *imapclient.Client, next *atomic.Int64, to int) (int64, error) {
	var pending []*imapclient.AppendCommand
	var bytes int64
	wait := func(cmd *imapclient.AppendCommand) error {
		guard := time.AfterFunc(clientTimeout, func() { c.Close() })
		defer guard.Stop()
		_, err := cmd.Wait()
		return err
	}
	for {
		i := int(next.Add(1) - 1)
		if i >= to || ctx.Err() != nil {
			break
		}
		if d.gate != nil {
			if err := d.gate(ctx, i); err != nil {
				return bytes, err
			}
		}
		raw := d.mail(i)
		cmd := c.Append(d.folder, int64(len(raw)), nil)
		_, werr := cmd.Write(raw)
		if err := errors.Join(werr, cmd.Close()); err != nil {
			return bytes, err
		}
		bytes += int64(len(raw))
		pending = append(pending, cmd)
		if len(pending) >= d.window {
			if err := wait(pending[0]); err != nil {
				return bytes, err
			}
			pending = pending[1:]
		}
	}
	for _, cmd := range pending {
		if err := wait(cmd); err != nil {
			return bytes, err
		}
	}
	return bytes, ctx.Err()
}

// appendOne appends raw on c and waits for the server's OK.
func appendOne(c *imapclient.Client, folder string, raw []byte) error {
	guard := time.AfterFunc(clientTimeout, func() { c.Close() })
	defer guard.Stop()
	cmd := c.Append(folder, int64(len(raw)), nil)
	_, werr := cmd.Write(raw)
	if err := errors.Join(werr, cmd.Close()); err != nil {
		return err
	}
	_, err := cmd.Wait()
	return err
}

// dovecotCPU returns the CPU seconds used so far by the private Dovecot:
// every process of its process group, with the children it reaped.
func (s *imapServer) dovecotCPU() (float64, bool) {
	if s.dov == nil {
		return 0, false
	}
	conf := filepath.Join(s.dov.Dir(), "dovecot.conf")
	master := 0
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), conf) {
			master = pid
			break
		}
	}
	if master == 0 {
		return 0, false
	}
	var total float64
	for _, p := range procs {
		st, err := readStat(p.Name())
		if err == nil && st.pgrp == master {
			total += st.cpuWithChildren()
		}
	}
	return total, true
}
