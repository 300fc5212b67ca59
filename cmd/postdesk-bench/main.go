// Command postdesk-bench measures the postdesk daemon end to end: it
// generates the realistic mix (45 % plain 2 KB, 45 % multipart/alternative
// 8 KB, 5 % ISO-2022-JP, 5 % with a 1 MiB attachment), appends it to an IMAP
// server (in-process by default, a private Dovecot with -dovecot, or any
// server with -imap), runs the real `postdesk serve` against it with an SMTP
// sink, and prints one JSON object: mails/s until N confirmations were
// accepted (mail appended live, and a backlog waiting at start),
// append-to-confirmation latency at a light steady load, the daemon's peak
// RSS for one 25 MiB mail and for one 24 MiB HTML mail, optionally RSS over
// a long soak, and the stage ceilings (parse, store, send, IMAP intake)
// measured in the same run.
//
//	go run ./cmd/postdesk-bench -dovecot -n 5000
//
// Nothing here asserts a number: the targets are printed next to the
// results in "summary".
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/postdesk/postdesk/internal/mailmix"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the command line.
type options struct {
	n                 int
	imapAddr, imapTLS string
	user, pass        string
	dovecot           bool
	postdesk          string
	latencyRate       float64
	latencyN          int
	big               bool
	bigBytes          int
	bigHTML           bool
	bigHTMLBytes      int
	backlog           bool
	soak, soakAhead   int
	seed              uint64
	json              bool
	stageN            int
	conns, window     int
	timeout           time.Duration
	perf              string
	keep              bool
}

func parseOptions(args []string, stderr io.Writer) (*options, *flag.FlagSet, error) {
	o := &options{}
	fs := flag.NewFlagSet("postdesk-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.n, "n", 2000, "mails of the throughput phases (live and backlog)")
	fs.StringVar(&o.imapAddr, "imap", "", "an existing IMAP server host:port (with -user and -pass); default: in-process")
	fs.StringVar(&o.imapTLS, "imap-tls", "none", "TLS of -imap: none, implicit or starttls")
	fs.StringVar(&o.user, "user", "", "IMAP user of -imap")
	fs.StringVar(&o.pass, "pass", "", "IMAP password of -imap")
	fs.BoolVar(&o.dovecot, "dovecot", false, "start a private Dovecot (Debian dovecot-imapd) instead of the in-process server")
	fs.StringVar(&o.postdesk, "postdesk", "", "the postdesk binary; default: go build ./cmd/postdesk into a temp dir")
	fs.Float64Var(&o.latencyRate, "latency-rate", 5, "mails per second of the latency phase")
	fs.IntVar(&o.latencyN, "latency-n", 100, "mails measured in the latency phase (0: skip it)")
	fs.BoolVar(&o.big, "big", true, "run the peak RSS phase with one big mail")
	fs.IntVar(&o.bigBytes, "big-bytes", 25<<20, "size of the big mail in bytes")
	fs.BoolVar(&o.bigHTML, "big-html", true, "run the peak RSS phase with one big HTML mail (a report table)")
	fs.IntVar(&o.bigHTMLBytes, "big-html-bytes", 24<<20, "size of the big HTML mail in bytes")
	fs.BoolVar(&o.backlog, "backlog", true, "run the backlog phase (N mails waiting when the daemon starts)")
	fs.IntVar(&o.soak, "soak", 0, "mails of the soak phase reporting RSS at start and end (0: skip it)")
	fs.IntVar(&o.soakAhead, "soak-ahead", 500, "most mails appended but not yet confirmed during the soak")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the generated mail")
	fs.BoolVar(&o.json, "json", true, "print the results as JSON (else a short text summary)")
	fs.IntVar(&o.stageN, "stage-n", 1000, "mails of the stage ceilings")
	fs.IntVar(&o.conns, "append-conns", 4, "IMAP connections appending in the throughput phases")
	fs.IntVar(&o.window, "append-window", 16, "APPENDs in flight per connection")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "longest wait for any one thing (daemon start, a folder to empty...); the confirmations may take longer, but never this long without a new one")
	fs.StringVar(&o.perf, "perf", "", "record the daemon with perf record -g during the live phase into this `file`")
	fs.BoolVar(&o.keep, "keep", false, "keep the temp dir (daemon logs, databases) and the folders made on -imap")
	if err := fs.Parse(args); err != nil {
		return nil, fs, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fs, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.n < 1 || o.stageN < 1 || o.conns < 1 || o.window < 1 || o.latencyN < 0 || o.soak < 0 || o.soakAhead < 1:
		return nil, fs, errors.New("-n, -stage-n, -append-conns, -append-window and -soak-ahead must be positive")
	case o.latencyRate <= 0:
		return nil, fs, errors.New("-latency-rate must be positive")
	case o.imapAddr != "" && o.dovecot:
		return nil, fs, errors.New("-imap and -dovecot exclude each other")
	case o.imapAddr != "" && (o.user == "" || o.pass == ""):
		return nil, fs, errors.New("-imap needs -user and -pass")
	case o.bigBytes > messageLimit || o.bigHTMLBytes > messageLimit:
		return nil, fs, fmt.Errorf("-big-bytes and -big-html-bytes must not be over the daemon's limits.message_bytes (%d)", messageLimit)
	}
	return o, fs, nil
}

// bench is one run.
type bench struct {
	ctx    context.Context
	o      *options
	dir    string // everything of the run; removed at the end unless -keep
	bin    string
	gen    *mailmix.Generator
	srv    *imapServer
	stderr io.Writer
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.stderr, "postdesk-bench: "+format+"\n", args...)
}

// within is a context for one wait of at most -timeout, whose cause says
// what was waited for.
func (b *bench) within(what string) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(b.ctx, b.o.timeout,
		fmt.Errorf("%s: not done within %v (-timeout)", what, b.o.timeout))
}

// run executes the bench and returns the exit status: 0, 1 on failure, 2
// on a bad command line.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, fs, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "postdesk-bench:", err)
		return 2
	}
	rep, err := execute(ctx, o, fs, args, stderr)
	code := 0
	if err != nil {
		fmt.Fprintln(stderr, "postdesk-bench:", err)
		if rep == nil {
			return 1
		}
		rep.Error, code = err.Error(), 1 // what was measured is still printed
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		err = enc.Encode(rep)
	} else {
		err = rep.writeText(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "postdesk-bench:", err)
		return 1
	}
	return code
}

func execute(ctx context.Context, o *options, fs *flag.FlagSet, args []string, stderr io.Writer) (rep *report, err error) {
	started := time.Now()
	dir, err := os.MkdirTemp("", "postdesk-bench-")
	if err != nil {
		return nil, err
	}
	b := &bench{ctx: ctx, o: o, dir: dir, stderr: stderr, gen: mailmix.New(o.seed, rand.Text()[:8])}
	defer func() {
		if o.keep {
			b.logf("kept %s", dir)
		} else if rerr := os.RemoveAll(dir); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}()
	rep = newReport(o, fs, args)
	rep.Daemon = daemonInfo{Binary: o.postdesk}
	if b.bin = o.postdesk; b.bin == "" {
		b.logf("building ./cmd/postdesk")
		if b.bin, rep.Daemon.Commit, err = buildDaemon(ctx, dir); err != nil {
			return nil, err
		}
		rep.Daemon.Binary = "go build ./cmd/postdesk"
	}
	if b.srv, err = startIMAP(o, dir); err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, b.srv.close()) }()
	rep.IMAP = imapInfo{Server: b.srv.kind, Addr: b.srv.addr}
	err = b.phases(rep)
	rep.summarize()
	rep.Machine.LoadAvgEnd = loadAvg()
	rep.ElapsedS = round(time.Since(started).Seconds(), 1)
	return rep, err
}

// phases runs the ceilings (first, while no daemon competes for the CPUs)
// and every daemon phase the flags ask for.
func (b *bench) phases(rep *report) error {
	var err error
	if rep.Ceilings, err = b.ceilings(); err != nil {
		return fmt.Errorf("ceilings: %w", err)
	}
	var liveDB string
	if rep.Throughput, liveDB, err = b.throughput(); err != nil {
		return fmt.Errorf("live phase: %w", err)
	}
	if b.o.latencyN > 0 {
		if rep.Latency, err = b.latency(liveDB, b.o.n); err != nil {
			return fmt.Errorf("latency phase: %w", err)
		}
	}
	if b.o.backlog {
		if rep.Backlog, err = b.backlog(); err != nil {
			return fmt.Errorf("backlog phase: %w", err)
		}
	}
	if b.o.big {
		if rep.Big, err = b.big(); err != nil {
			return fmt.Errorf("big mail phase: %w", err)
		}
	}
	if b.o.bigHTML {
		if rep.BigHTML, err = b.bigHTML(); err != nil {
			return fmt.Errorf("big HTML mail phase: %w", err)
		}
	}
	if b.o.soak > 0 {
		if rep.Soak, err = b.soak(); err != nil { // rep.Soak may hold a partial run
			return fmt.Errorf("soak phase: %w", err)
		}
	}
	return nil
}

// Small helpers for numbers with their units.

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mb(b int64) float64 { return round(float64(b)/(1<<20), 1) }

func round(x float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	if x < 0 {
		return -float64(int64(-x*p+0.5)) / p
	}
	return float64(int64(x*p+0.5)) / p
}

func bytesContains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }
