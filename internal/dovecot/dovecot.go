// Package dovecot starts a real Dovecot IMAP server for tests: unprivileged,
// on a loopback port, with a temporary maildir; nothing outside its temp
// directory is touched.
//
// The server is Debian's dovecot-imapd, run in the foreground (dovecot -F)
// from a configuration written from scratch (DESIGN §7): plain IMAP on
// 127.0.0.1 only (no TLS, no imaps listener: Dovecot's "port = 0" disables
// a listener, it does not pick a free port, so Start picks one), a fresh
// base_dir and state_dir, empty chroots, users from a passwd-file, maildirs
// under the server's directory. Every Dovecot process runs as one user: the
// caller's when it is not root, else nobody (Dovecot refuses mail access as
// UID 0), dropped to by the kernel at exec, not by Dovecot.
package dovecot

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Where Debian installs the master and the IMAP server. Both are needed:
// dovecot-core has the first, dovecot-imapd the second.
const (
	Binary     = "/usr/sbin/dovecot"
	imapBinary = "/usr/lib/dovecot/imap"
)

// ErrNotInstalled means Dovecot (Debian's dovecot-imapd) is not installed:
// tests skip, or fail when RequireEnv is set.
var ErrNotInstalled = errors.New("dovecot is not installed (apt-get install dovecot-imapd)")

const (
	// startTimeout bounds the wait for the first greeting.
	startTimeout = 20 * time.Second
	// stopTimeout bounds the wait for Dovecot's processes to die.
	stopTimeout = 10 * time.Second
	// portAttempts is how many free ports Start tries: another process may
	// take the one picked between its release and Dovecot's bind.
	portAttempts = 5
)

// ErrExited is returned by Close when Dovecot had stopped by itself.
var ErrExited = errors.New("dovecot: exited before Close")

// Options shape a server beyond its users. The zero value is a server
// whose users log in with their passwords only.
type Options struct {
	// OAuth2IntrospectionURL, when set, adds Dovecot's oauth2 passdb for
	// AUTHENTICATE XOAUTH2 and OAUTHBEARER: each token is POSTed to this
	// URL (RFC 7662 introspection, e.g. an httptest server), which must
	// answer {"active": true, "username": USER} for a good token and
	// {"active": false} for a refused one.
	OAuth2IntrospectionURL string
}

// Server is a running Dovecot with plain-text IMAP on a loopback port.
type Server struct {
	dir   string // everything of the server: config, logs, base_dir, maildirs
	owned bool   // dir was made by Start and is removed by Close
	opts  Options
	addr  string
	users map[string]string
	cmd   *exec.Cmd
	// exited is closed when the master process has been waited for.
	exited chan struct{}
	once   sync.Once
	err    error // of Close
}

// Start writes a configuration into a directory of its own and starts
// Dovecot with users (name -> password), each with an empty INBOX. It
// returns when the server greets on Addr, or ErrNotInstalled.
//
// The server's files go into dir (e.g. t.TempDir()), except when the caller
// is root and user nobody cannot reach dir (t.TempDir() is 0700 then): a
// fresh directory under os.TempDir() is used instead, removed by Close.
// Either way Dir says where, and the logs are dovecot.log and master.log
// there; errors quote them.
func Start(dir string, users map[string]string) (*Server, error) {
	return StartWith(dir, users, Options{})
}

// StartWith is Start with options.
func StartWith(dir string, users map[string]string, o Options) (*Server, error) {
	if err := checkUsers(users); err != nil {
		return nil, err
	}
	for _, bin := range []string{Binary, imapBinary} {
		if _, err := os.Stat(bin); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: no %s", ErrNotInstalled, bin)
		}
	}
	id, err := runAs()
	if err != nil {
		return nil, err
	}
	root, owned, err := serverDir(dir, id)
	if err != nil {
		return nil, err
	}
	s := &Server{dir: root, owned: owned, opts: o, users: make(map[string]string, len(users))}
	for name, pw := range users {
		s.users[name] = pw
	}
	if err := s.prepare(id); err != nil {
		s.removeDir()
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		err = s.launch(id)
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, errPortTaken) || attempt == portAttempts {
			s.removeDir()
			return nil, err
		}
	}
}

// Addr is where the server listens: "127.0.0.1:PORT", plain IMAP (no TLS;
// LOGIN and AUTHENTICATE PLAIN are allowed in clear text).
func (s *Server) Addr() string { return s.addr }

// Dir is the directory holding the server's configuration, logs and mail.
func (s *Server) Dir() string { return s.dir }

// Log returns what Dovecot logged so far (dovecot.log, then master.log,
// which holds what the master wrote before its log was set up).
func (s *Server) Log() string {
	var b strings.Builder
	for _, name := range []string{"dovecot.log", "master.log"} {
		data, err := os.ReadFile(filepath.Join(s.dir, name))
		if err == nil && len(data) > 0 {
			fmt.Fprintf(&b, "--- %s\n%s", name, data)
		}
	}
	return b.String()
}

// Close stops the server: SIGKILL to its whole process group (the master
// and every process it started; a test server's mail need not survive, and
// Dovecot's graceful stop takes a second), and returns once none of them is
// alive. It removes the server's directory when Start made it. It returns ErrExited when Dovecot had
// already stopped by itself. Calling it again returns the first result.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.err = s.stop()
		s.removeDir()
	})
	return s.err
}

func (s *Server) stop() error {
	if s.cmd == nil {
		return nil
	}
	select {
	case <-s.exited:
		return fmt.Errorf("%w (%s)\n%s", ErrExited, s.cmd.ProcessState, s.Log())
	default:
	}
	pgid := s.cmd.Process.Pid
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("dovecot: kill: %w", err)
	}
	<-s.exited
	return waitGroupGone(pgid)
}

// waitGroupGone waits until no live process is left in process group pgid,
// so that none still writes into the server's directory when the caller
// removes it. The master's children are not ours to wait for: /proc is
// looked at every 5 ms, for at most stopTimeout.
func waitGroupGone(pgid int) error {
	deadline := time.NewTimer(stopTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		alive, err := groupAlive(pgid)
		if err != nil || !alive {
			return err
		}
		select {
		case <-deadline.C:
			return fmt.Errorf("dovecot: processes of group %d still alive %v after SIGKILL", pgid, stopTimeout)
		case <-tick.C:
		}
	}
}

// groupAlive reports whether a process of group pgid is alive (zombies,
// dead but not yet reaped by init, do not count).
func groupAlive(pgid int) (bool, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false, fmt.Errorf("dovecot: %w", err)
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// "pid (comm) state ppid pgrp ...": comm may hold anything but
		// ends at the last ')'.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 3 {
			continue
		}
		if f[2] == strconv.Itoa(pgid) && f[0] != "Z" && f[0] != "X" {
			return true, nil
		}
	}
	return false, nil
}

func (s *Server) removeDir() {
	if s.owned {
		_ = os.RemoveAll(s.dir)
	}
}

// identity is the user every Dovecot process runs as.
type identity struct {
	name     string
	group    string
	uid, gid uint32
	root     bool // the caller is root and drops to this user at exec
}

// runAs is the caller's identity, or nobody's when the caller is root.
func runAs() (identity, error) {
	var u *user.User
	var err error
	root := os.Geteuid() == 0
	if root {
		u, err = user.Lookup("nobody")
	} else {
		u, err = user.Current()
	}
	if err != nil {
		return identity{}, fmt.Errorf("dovecot: user to run as: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return identity{}, fmt.Errorf("dovecot: user %s: %w", u.Username, err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		return identity{}, fmt.Errorf("dovecot: group of user %s: %w", u.Username, err)
	}
	return identity{name: u.Username, group: g.Name, uid: uint32(uid), gid: uint32(gid), root: root}, nil
}

// serverDir returns the directory for the server's files: dir itself when
// id can reach it, else (root, with a private dir) a new one under
// os.TempDir(), which the caller owns.
func serverDir(dir string, id identity) (string, bool, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false, fmt.Errorf("dovecot: %w", err)
	}
	if !id.root || reachable(abs, id) {
		return abs, false, nil
	}
	tmp, err := os.MkdirTemp("", "postdesk-dovecot-")
	if err != nil {
		return "", false, fmt.Errorf("dovecot: %w", err)
	}
	if !reachable(tmp, id) {
		os.RemoveAll(tmp)
		return "", false, fmt.Errorf("dovecot: user %s can reach neither %s nor %s", id.name, abs, tmp)
	}
	return tmp, true, nil
}

// reachable reports whether id may search every directory from / to dir
// (dir itself excepted: it is handed to id).
func reachable(dir string, id identity) bool {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return false
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return false
		}
		perm := fi.Mode().Perm()
		var search fs.FileMode
		switch {
		case st.Uid == id.uid:
			search = 0o100
		case st.Gid == id.gid:
			search = 0o010
		default:
			search = 0o001
		}
		if perm&search == 0 {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

// prepare creates the server's directories and writes the passwd-file;
// when the caller is root, all of it is handed to the server's user.
func (s *Server) prepare(id identity) error {
	// base_dir (run) must be world-readable, or Dovecot says it fixes it.
	for sub, mode := range map[string]fs.FileMode{"run": 0o755, "state": 0o700, "home": 0o700} {
		if err := os.Mkdir(filepath.Join(s.dir, sub), mode); err != nil {
			return fmt.Errorf("dovecot: %w", err)
		}
	}
	var pw strings.Builder
	for name, password := range s.users {
		// passwd-file: user:password:uid:gid:gecos:home:shell:extra; the
		// userdb below supplies uid, gid and home.
		fmt.Fprintf(&pw, "%s:{PLAIN}%s::::::\n", name, password)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "passwd"), []byte(pw.String()), 0o600); err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	if u := s.opts.OAuth2IntrospectionURL; u != "" {
		text, err := oauth2Config(u)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(s.dir, oauth2ConfName), []byte(text), 0o600); err != nil {
			return fmt.Errorf("dovecot: %w", err)
		}
	}
	if !id.root {
		return nil
	}
	if err := os.Chmod(s.dir, 0o700); err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	return filepath.WalkDir(s.dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(path, int(id.uid), int(id.gid)); err != nil {
			return fmt.Errorf("dovecot: %w", err)
		}
		return nil
	})
}

// checkUsers refuses what the passwd-file cannot hold.
func checkUsers(users map[string]string) error {
	if len(users) == 0 {
		return errors.New("dovecot: no users")
	}
	for name, pw := range users {
		if name == "" || strings.ContainsAny(name, ":\r\n\t %/") || strings.ContainsAny(pw, ":\r\n") {
			return fmt.Errorf("dovecot: user %q: name or password unusable in a passwd-file", name)
		}
	}
	return nil
}

// errPortTaken means Dovecot could not bind the port Start picked.
var errPortTaken = errors.New("port taken")

// launch starts Dovecot on a free port and waits for its greeting.
func (s *Server) launch(id identity) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	conf := filepath.Join(s.dir, "dovecot.conf")
	greeting := "postdesk-test-dovecot-" + rand.Text()
	text, err := config(s.dir, port, id, greeting, s.opts)
	if err != nil {
		return err
	}
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	out, err := os.OpenFile(filepath.Join(s.dir, "master.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	defer out.Close() // the child has its own copy
	cmd := exec.Command(Binary, "-F", "-c", conf)
	cmd.Dir = s.dir
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + s.dir, "USER=" + id.name}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // Close can kill the master and its children together
		Pdeathsig: syscall.SIGKILL, // a test binary that dies takes Dovecot with it
	}
	if id.root {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: id.uid, Gid: id.gid, Groups: []uint32{}}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("dovecot: start %s: %w", Binary, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := s.waitGreeting(greeting); err != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		log := s.Log()
		if strings.Contains(log, "Address already in use") {
			_ = os.Remove(filepath.Join(s.dir, "dovecot.log"))
			_ = os.Remove(filepath.Join(s.dir, "master.log"))
			return fmt.Errorf("dovecot: %s: %w", s.addr, errPortTaken)
		}
		return fmt.Errorf("dovecot: %w\n%s", err, log)
	}
	return nil
}

// freePort asks the kernel for a free loopback port and releases it.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("dovecot: pick a port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitGreeting dials until the server sends its "* OK" greeting with text
// (so that it is this server's, not another one's on a reused port), the
// master exits, or startTimeout passes. Nothing announces that Dovecot
// listens, so the port is tried every 20 ms.
func (s *Server) waitGreeting(text string) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = greeting(ctx, s.addr, text); last == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("exited during start-up (%s)", s.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("no greeting on %s within %v: %w", s.addr, startTimeout, last)
		case <-tick.C:
		}
	}
}

// greeting connects once and reads the first line.
func greeting(ctx context.Context, addr, text string) error {
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = c.SetReadDeadline(deadline)
	}
	buf := make([]byte, 512)
	n, err := c.Read(buf)
	if err != nil {
		return fmt.Errorf("read greeting: %w", err)
	}
	if line := string(buf[:n]); !strings.HasPrefix(line, "* OK") || !strings.Contains(line, text) {
		return fmt.Errorf("unexpected greeting %q", buf[:n])
	}
	return nil
}
