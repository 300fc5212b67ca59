package mailin

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestTokenCommand(t *testing.T) {
	tests := []struct {
		name, command string
		want          string
		fails         bool
	}{
		{"the first line is the token", "echo ' ya29.token '; echo second", "ya29.token", false},
		{"no output is an error", "true", "", true},
		{"a failing command is an error", "echo token; exit 3", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TokenCommand{Command: tt.command}.Token(testContext(t))
			if (err != nil) != tt.fails || got != tt.want {
				t.Fatalf("Token = %q, %v; want %q, failing %v", got, err, tt.want, tt.fails)
			}
		})
	}
}

// hungCommand is a token command that starts a child sleeping forever,
// reports the child's PID on the FIFO it returns (opened by the test) and
// waits for it.
func hungCommand(t *testing.T) (command string, pids <-chan int) {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "pid")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// O_RDWR: the open does not wait for the writer, and the command's
	// write does not wait for the read.
	f, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() }) // ends the read below if nothing came
	ch := make(chan int, 1)
	go func() {
		line, err := bufio.NewReader(f).ReadString('\n')
		if pid, perr := strconv.Atoi(strings.TrimSpace(line)); err == nil && perr == nil {
			ch <- pid
		}
	}()
	return "sleep 100000 & echo $! > " + fifo + "; wait", ch
}

// waitDead waits until process pid has died (gone, or a zombie nobody
// reaped yet), bounded by ctx.
func waitDead(t *testing.T, ctx context.Context, pid int) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		// "pid (comm) state ..."
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 {
			if f := strings.Fields(string(stat[i+1:])); len(f) > 0 && (f[0] == "Z" || f[0] == "X") {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("child %d of the token command still alive", pid)
		case <-tick.C:
		}
	}
}

func TestTokenCommandTimesOut(t *testing.T) {
	ctx := testContext(t)
	command, pids := hungCommand(t)
	token, err := TokenCommand{Command: command, Timeout: 100 * time.Millisecond}.Token(ctx)
	if token != "" || !errors.Is(err, ErrTokenTimeout) {
		t.Fatalf("Token = %q, %v; want the timeout", token, err)
	}
	select {
	case pid := <-pids:
		waitDead(t, ctx, pid)
	default:
		t.Log("the command was killed before it started its child")
	}
}

func TestTokenCommandDiesWithTheDaemon(t *testing.T) {
	ctx := testContext(t)
	command, pids := hungCommand(t)
	stop, cancel := context.WithCancel(ctx)
	type result struct {
		token string
		err   error
	}
	done := make(chan result, 1)
	go func() {
		token, err := TokenCommand{Command: command}.Token(stop) // the default timeout, 30s
		done <- result{token, err}
	}()
	var pid int
	select {
	case pid = <-pids:
	case <-ctx.Done():
		t.Fatal("the command never started its child")
	}
	cancel() // SIGTERM: the daemon's context ends
	select {
	case r := <-done:
		if r.token != "" || !errors.Is(r.err, context.Canceled) {
			t.Fatalf("Token = %q, %v; want context.Canceled", r.token, r.err)
		}
	case <-ctx.Done():
		t.Fatal("Token did not return when its context ended")
	}
	waitDead(t, ctx, pid)
}
