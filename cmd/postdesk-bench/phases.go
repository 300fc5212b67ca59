package main

// The phases that run the real daemon: throughput (live and backlog),
// latency at a light load, one big mail, and the soak.

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/postdesk/postdesk/internal/smtpsink"
)

// newPhase makes the directory, SMTP sink and IMAP folders of one phase.
// db "" means a fresh database in the phase's directory.
func (b *bench) newPhase(name, db string) (phaseSetup, error) {
	p := phaseSetup{dir: filepath.Join(b.dir, name), folder: "pdbench-" + b.gen.Run() + "-" + name}
	if err := os.Mkdir(p.dir, 0o700); err != nil {
		return p, err
	}
	p.db = db
	if p.db == "" {
		p.db = filepath.Join(p.dir, "postdesk.db")
	}
	in, done, quarantine := folders(p.folder)
	if err := b.srv.createFolders(b.ctx, in, done, quarantine); err != nil {
		return p, err
	}
	sink, err := smtpsink.Start()
	if err != nil {
		return p, err
	}
	p.sink = sink
	return p, nil
}

// startPhase is newPhase, then start waiting for /healthz: the set-up of
// the phases whose daemon runs before the first mail is appended. stop
// stops the daemon, then closes the phase's SMTP sink.
func (b *bench) startPhase(name, db string) (p phaseSetup, d *daemon, stop func(), err error) {
	p, err = b.newPhase(name, db)
	if err != nil {
		return p, nil, nil, err
	}
	d, err = b.start(p, true)
	if err != nil {
		p.sink.Close()
		return p, nil, nil, err
	}
	return p, d, func() { d.stop(); p.sink.Close() }, nil
}

// start runs the daemon of a phase and waits for /healthz when ready.
func (b *bench) start(p phaseSetup, ready bool) (*daemon, error) {
	d, err := startDaemon(b.bin, p, b.srv)
	if err != nil {
		return nil, err
	}
	b.logf("daemon pid %d for %s (log %s)", d.pid, filepath.Base(p.dir), d.log)
	if !ready {
		return d, nil
	}
	ctx, cancel := b.within("daemon start")
	defer cancel()
	if err := d.waitReady(ctx); err != nil {
		d.stop()
		return nil, err
	}
	return d, nil
}

// waitSink waits for n mails at the sink. It fails when the daemon exits,
// or when it sent no confirmation for -timeout (so that a long run may take
// as long as it needs, but never hangs).
func (b *bench) waitSink(d *daemon, sink *smtpsink.Sink, n int, what string) ([]smtpsink.Received, error) {
	ctx, cancel := context.WithCancelCause(b.ctx)
	var wg sync.WaitGroup
	defer func() { cancel(nil); wg.Wait() }()
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		last, progress := -1, time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case <-d.done:
				cancel(d.exited())
				return
			case <-t.C:
			}
			if sent, err := d.sent(ctx); err == nil && sent != last {
				last, progress = sent, time.Now()
			}
			if time.Since(progress) > b.o.timeout {
				cancel(fmt.Errorf("no confirmation sent for %v (-timeout); the daemon reports %d sent", b.o.timeout, last))
				return
			}
		}
	})
	msgs, err := sink.Wait(ctx, n)
	if err != nil {
		return msgs, fmt.Errorf("%s: %d of %d confirmations: %w", what, len(msgs), n, context.Cause(ctx))
	}
	return msgs, nil
}

// throughputResult is the live phase: mails appended while the daemon runs.
type throughputResult struct {
	Mails int `json:"mails"`
	// MailsPerS counts from the first APPEND to the Nth confirmation
	// accepted by the SMTP sink.
	MailsPerS           float64   `json:"mails_per_s"`
	Seconds             float64   `json:"seconds"`
	AppendMailsPerS     float64   `json:"append_mails_per_s"`
	AppendSeconds       float64   `json:"append_seconds"`
	AppendMB            float64   `json:"append_mb"`
	AppendConns         int       `json:"append_conns"`
	FirstConfirmationMs float64   `json:"first_confirmation_ms"`
	Matched             int       `json:"confirmations_matched"`
	DaemonRSSMB         float64   `json:"daemon_rss_mb"`
	DaemonPeakRSSMB     float64   `json:"daemon_peak_rss_mb"`
	CPU                 cpuResult `json:"cpu"`
	Perf                string    `json:"perf_data,omitempty"`
}

// throughput runs the live phase; the database stays for the latency phase.
func (b *bench) throughput() (*throughputResult, string, error) {
	p, d, stop, err := b.startPhase("live", "")
	if err != nil {
		return nil, "", err
	}
	defer stop()
	n := b.o.n
	b.logf("live: appending %d mails while the daemon runs", n)
	cpu := startCPU(d.pid, b.srv)
	stopPerf := b.perf(d.pid)
	defer stopPerf()
	first := b.firstArrival(p.sink)
	defer first()
	del := &deliverer{srv: b.srv, folder: p.folder, conns: b.o.conns, window: b.o.window,
		mail: func(i int) []byte { return b.gen.Mail("live", i) }}
	progress := b.progress(d, n)
	defer progress()
	ast, err := del.run(b.ctx, 0, n)
	if err != nil {
		return nil, "", err
	}
	msgs, err := b.waitSink(d, p.sink, n, "live phase")
	end := time.Now()
	progress()
	perfFile := stopPerf()
	if err != nil {
		return nil, "", err
	}
	r := &throughputResult{
		Mails: n, Seconds: round(end.Sub(ast.started).Seconds(), 3), MailsPerS: round(perSecond(n, end.Sub(ast.started)), 1),
		AppendMailsPerS: round(ast.mailsPerS(), 1), AppendSeconds: round(ast.seconds(), 3),
		AppendMB: round(float64(ast.bytes)/(1<<20), 1), AppendConns: b.o.conns,
		Matched: b.matched(msgs, "live", 0, n), CPU: cpu.stop(), Perf: perfFile,
	}
	if t, ok := first(); ok {
		r.FirstConfirmationMs = round(ms(t.Sub(ast.started)), 1)
	}
	m, err := d.memory()
	if err != nil {
		return nil, "", err
	}
	r.DaemonRSSMB, r.DaemonPeakRSSMB = mb(m.rss), mb(m.hwm)
	// Leave the folder empty, so that the latency run starts clean.
	if err := b.waitFolder(p.folder, 0); err != nil {
		return nil, "", err
	}
	return r, p.db, nil
}

// firstArrival watches for the first mail at the sink; the function it
// returns stops watching and reports when it came (it may be called again).
func (b *bench) firstArrival(sink *smtpsink.Sink) func() (time.Time, bool) {
	ctx, cancel := b.within("first confirmation")
	var at time.Time
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := sink.Wait(ctx, 1); err == nil {
			at = time.Now()
		}
	}()
	return func() (time.Time, bool) {
		cancel()
		<-done
		return at, !at.IsZero()
	}
}

// progress prints how far the daemon got every 5 s until the returned
// function is called (it may be called again).
func (b *bench) progress(d *daemon, n int) func() {
	ctx, cancel := context.WithCancel(b.ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		start := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				sent, err := d.sent(ctx)
				if err == nil {
					b.logf("  %.0fs: %d of %d confirmations sent", time.Since(start).Seconds(), sent, n)
				}
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// matched counts the mails at the sink that answer (In-Reply-To) a
// distinct mail of phase with an index in [from, to).
func (b *bench) matched(msgs []smtpsink.Received, phase string, from, to int) int {
	want := make(map[string]bool, to-from)
	for i := from; i < to; i++ {
		want[b.gen.MailID(phase, i)] = true
	}
	n := 0
	for _, m := range msgs {
		if id := inReplyTo(m.Data); want[id] {
			n++
			delete(want, id)
		}
	}
	return n
}

// inReplyTo is the first Message-ID of a mail's In-Reply-To field.
func inReplyTo(raw []byte) string {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	v := strings.TrimSpace(msg.Header.Get("In-Reply-To"))
	v, _, _ = strings.Cut(v, " ")
	return strings.Trim(v, "<>")
}

// waitFolder waits until folder holds n messages (STATUS every 50 ms).
func (b *bench) waitFolder(folder string, n int) error {
	ctx, cancel := b.within("folder " + folder)
	defer cancel()
	c, err := b.srv.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	var have uint32
	err = poll(ctx, 50*time.Millisecond, func() (bool, error) {
		st, err := c.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil {
			return false, err
		}
		have = *st.NumMessages
		return int(have) == n, nil
	})
	if err != nil {
		return fmt.Errorf("folder %s holds %d messages, want %d: %w", folder, have, n, err)
	}
	return nil
}

// perf runs `perf record -g` on pid when -perf is set; the function it
// returns stops it and names the data file (it may be called again).
func (b *bench) perf(pid int) func() string {
	if b.o.perf == "" {
		return func() string { return "" }
	}
	cmd := exec.Command("perf", "record", "-F", "997", "-g", "-p", strconv.Itoa(pid), "-o", b.o.perf)
	cmd.Stdout, cmd.Stderr = b.stderr, b.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.logf("perf: %v", err)
		return func() string { return "" }
	}
	time.Sleep(300 * time.Millisecond) // let it attach
	var once sync.Once
	return func() string {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGINT)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(time.Minute):
				_ = cmd.Process.Kill()
				<-done
			}
		})
		return b.o.perf
	}
}

// backlogResult is the backlog phase: N mails wait before the daemon starts.
type backlogResult struct {
	Mails int `json:"mails"`
	// MailsPerS counts from the daemon's start to the Nth confirmation.
	MailsPerS           float64 `json:"mails_per_s"`
	Seconds             float64 `json:"seconds"`
	AppendMailsPerS     float64 `json:"append_mails_per_s_no_daemon"`
	AppendSeconds       float64 `json:"append_seconds"`
	FirstConfirmationMs float64 `json:"first_confirmation_ms"`
	// HealthzOKAfterMs is when /healthz first answered 200 (it waits for the
	// first poll, which handles the whole backlog); null when it never did.
	HealthzOKAfterMs *float64  `json:"healthz_ok_after_ms"`
	Matched          int       `json:"confirmations_matched"`
	DaemonPeakRSSMB  float64   `json:"daemon_peak_rss_mb"`
	CPU              cpuResult `json:"cpu"`
}

func (b *bench) backlog() (*backlogResult, error) {
	p, err := b.newPhase("backlog", "")
	if err != nil {
		return nil, err
	}
	defer p.sink.Close()
	n := b.o.n
	b.logf("backlog: appending %d mails with no daemon running", n)
	del := &deliverer{srv: b.srv, folder: p.folder, conns: b.o.conns, window: b.o.window,
		mail: func(i int) []byte { return b.gen.Mail("backlog", i) }}
	ast, err := del.run(b.ctx, 0, n)
	if err != nil {
		return nil, err
	}
	d, err := b.start(p, false)
	if err != nil {
		return nil, err
	}
	defer d.stop()
	cpu := startCPU(d.pid, b.srv)
	first := b.firstArrival(p.sink)
	defer first()
	healthy := b.healthWatch(d)
	defer healthy()
	progress := b.progress(d, n)
	defer progress()
	msgs, err := b.waitSink(d, p.sink, n, "backlog phase")
	end := time.Now()
	progress()
	if err != nil {
		return nil, err
	}
	r := &backlogResult{
		Mails: n, Seconds: round(end.Sub(d.started).Seconds(), 3), MailsPerS: round(perSecond(n, end.Sub(d.started)), 1),
		AppendMailsPerS: round(ast.mailsPerS(), 1), AppendSeconds: round(ast.seconds(), 3),
		Matched: b.matched(msgs, "backlog", 0, n), CPU: cpu.stop(),
	}
	if t, ok := first(); ok {
		r.FirstConfirmationMs = round(ms(t.Sub(d.started)), 1)
	}
	if t, ok := healthy(); ok {
		v := round(ms(t.Sub(d.started)), 1)
		r.HealthzOKAfterMs = &v
	}
	m, err := d.memory()
	if err != nil {
		return nil, err
	}
	r.DaemonPeakRSSMB = mb(m.hwm)
	return r, nil
}

// healthWatch asks /healthz every 100 ms; the function it returns stops and
// reports when it first answered 200 (it may be called again).
func (b *bench) healthWatch(d *daemon) func() (time.Time, bool) {
	ctx, cancel := context.WithCancel(b.ctx)
	var at time.Time
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = poll(ctx, 100*time.Millisecond, func() (bool, error) {
			if code, _ := d.get(ctx, "/healthz"); code == 200 {
				at = time.Now()
				return true, nil
			}
			return false, nil
		})
	}()
	return func() (time.Time, bool) {
		cancel()
		<-done
		return at, !at.IsZero()
	}
}
