package main

// The daemon under test: `postdesk serve` as a subprocess with a
// configuration written for the phase, its readiness, metrics and memory.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/postdesk/postdesk/internal/mailmix"
	"github.com/postdesk/postdesk/internal/smtpsink"
)

// buildDaemon builds ./cmd/postdesk of the module holding the working
// directory into dir, and says which commit that was (git describe).
func buildDaemon(ctx context.Context, dir string) (bin, commit string, err error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", "", errors.New("not inside the postdesk module: run from its tree or give -postdesk PATH")
	}
	root := filepath.Dir(gomod)
	bin = filepath.Join(dir, "postdesk")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/postdesk")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("go build ./cmd/postdesk: %w\n%s", err, out)
	}
	// Informative only: a tree that is not a git checkout has no commit.
	desc := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty")
	desc.Dir = root
	if out, err := desc.Output(); err == nil {
		commit = strings.TrimSpace(string(out))
	}
	return bin, commit, nil
}

// phaseSetup is what one daemon run of a phase works on.
type phaseSetup struct {
	dir    string // the daemon's working directory: config, database, key, log
	db     string // the database; several runs may share one
	folder string // the IMAP folder it reads
	sink   *smtpsink.Sink
}

// folders are the folder a phase's daemon reads and where it moves mail.
func folders(prefix string) (in, done, quarantine string) {
	return prefix, prefix + "-done", prefix + "-quarantine"
}

// writeConfig writes postdesk.toml for one run into p.dir.
func writeConfig(p phaseSetup, srv *imapServer, httpAddr string) (string, error) {
	pw := filepath.Join(p.dir, "imap.password")
	if err := os.WriteFile(pw, []byte(srv.pass+"\n"), 0o600); err != nil {
		return "", err
	}
	host, port := srv.hostPort()
	in, done, quarantine := folders(p.folder)
	text := fmt.Sprintf(`# Written by postdesk-bench.
[desk]
name = "Bench Support"
address = %q
database = %q
secret_file = %q

[limits]
# The 25 MiB mail of the peak RSS phase must be downloaded and parsed.
message_bytes = %d
# Every mail comes from its own sender; nothing may be throttled.
autoreplies_per_hour = 1000000
new_cases_per_sender_per_hour = 1000000

[[mailbox]]
name = "bench"
host = %q
port = %d
tls = %q
username = %q
password_file = %q
folder = %q
processed = %q
quarantine = %q
# IDLE does the work.
poll_interval = "60s"

[smtp]
host = %q
port = %d
tls = "none"

[http]
listen = %q
`, mailmix.DeskAddress, p.db, filepath.Join(filepath.Dir(p.db), "postdesk.key"), messageLimit,
		host, port, srv.tls, srv.user, pw, in, done, quarantine,
		p.sink.Host(), p.sink.Port(), httpAddr)
	path := filepath.Join(p.dir, "postdesk.toml")
	return path, os.WriteFile(path, []byte(text), 0o600)
}

// messageLimit is limits.message_bytes of the daemon: 32 MiB.
const messageLimit = 32 << 20

// daemon is one running `postdesk serve`.
type daemon struct {
	cmd     *exec.Cmd
	pid     int
	http    string
	log     string
	started time.Time
	done    chan struct{} // closed once the process has been waited for
}

// startDaemon runs `bin serve -config` in p.dir, its output in daemon.log.
// The caller must call stop.
func startDaemon(bin string, p phaseSetup, srv *imapServer) (*daemon, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cfg, err := writeConfig(p, srv, addr)
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(p.dir, "daemon.log")
	out, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer out.Close() // the child has its own copy
	cmd := exec.Command(bin, "serve", "-config", cfg)
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = out, out
	// Should the bench die, the daemon goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	d := &daemon{cmd: cmd, http: addr, log: logPath, done: make(chan struct{})}
	d.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	d.pid = cmd.Process.Pid
	go func() {
		_ = cmd.Wait()
		close(d.done)
	}()
	return d, nil
}

// freeAddr is a loopback address nobody listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// exited reports whether the daemon has stopped, with its log's tail.
func (d *daemon) exited() error {
	select {
	case <-d.done:
		return fmt.Errorf("the daemon exited (%v); its log ends:\n%s", d.cmd.ProcessState, d.logTail(30))
	default:
		return nil
	}
}

// logTail returns the last n lines of the daemon's log.
func (d *daemon) logTail(n int) string {
	b, err := os.ReadFile(d.log)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// waitReady waits until /healthz answers 200.
func (d *daemon) waitReady(ctx context.Context) error {
	err := poll(ctx, 20*time.Millisecond, func() (bool, error) {
		if err := d.exited(); err != nil {
			return false, err
		}
		code, _ := d.get(ctx, "/healthz")
		return code == http.StatusOK, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the daemon's /healthz: %w\n%s", err, d.logTail(10))
	}
	return nil
}

// get fetches path from the daemon's HTTP listener; code 0 when it does
// not answer.
func (d *daemon) get(ctx context.Context, path string) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+d.http+path, nil)
	if err != nil {
		return 0, ""
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// sent is the number of confirmations the daemon reports sent
// (postdesk_send_total on /metrics).
func (d *daemon) sent(ctx context.Context) (int, error) {
	code, body := d.get(ctx, "/metrics")
	if code != http.StatusOK {
		return 0, fmt.Errorf("GET /metrics: status %d", code)
	}
	const series = `postdesk_send_total{kind="confirmation",result="sent"} `
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(f), err
		}
	}
	return 0, errors.New("GET /metrics: no " + strings.TrimSpace(series))
}

// memory reads the daemon's VmRSS and VmHWM.
func (d *daemon) memory() (memory, error) {
	if err := d.exited(); err != nil {
		return memory{}, err
	}
	return readMemory(d.pid)
}

// stopTimeout bounds the daemon's SIGTERM shutdown (it drains the outbox for
// up to 10 s) before it is killed.
const stopTimeout = 15 * time.Second

// stop sends SIGTERM, waits up to stopTimeout, then kills. It is safe to
// call more than once.
func (d *daemon) stop() {
	select {
	case <-d.done:
		return
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(stopTimeout)
	defer t.Stop()
	select {
	case <-d.done:
	case <-t.C:
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

// poll calls cond every interval until it holds, fails, or ctx ends.
func poll(ctx context.Context, interval time.Duration, cond func() (bool, error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		}
	}
}
