package mailin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// DefaultTokenTimeout is how long a TokenCommand may run when its Timeout
// is 0.
const DefaultTokenTimeout = 30 * time.Second

// tokenWaitDelay bounds the wait for the command's output to close once it
// has been killed (a descendant that left its process group may hold it).
const tokenWaitDelay = time.Second

// maxTokenOutput is the most output of a token command that is kept.
const maxTokenOutput = 64 << 10

// TokenCommand runs a shell command that prints an OAuth 2.0 access token
// on its first line (the [[mailbox]] key oauth2_token_command). Its Token
// method is a MailboxOptions.Token.
type TokenCommand struct {
	// Command is run with /bin/sh -c.
	Command string
	// Timeout bounds each run: 30s (DefaultTokenTimeout). A command still
	// running then, or when the context ends (the daemon stops), is killed
	// with every process of its process group.
	Timeout time.Duration
	// Stderr receives the command's standard error; nil means os.Stderr.
	Stderr io.Writer
}

// ErrTokenTimeout means a token command ran longer than its Timeout.
var ErrTokenTimeout = errors.New("token command timed out")

// Token runs the command and returns the first line it printed. The error
// never holds the output, which may be a token.
func (tc TokenCommand) Token(ctx context.Context) (string, error) {
	timeout := tc.Timeout
	if timeout <= 0 {
		timeout = DefaultTokenTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, ErrTokenTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", tc.Command)
	// Its own process group, so that what it started dies with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = tokenWaitDelay
	var out limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, tc.Stderr
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Run(); err != nil {
		switch cause := context.Cause(ctx); {
		case errors.Is(cause, ErrTokenTimeout):
			return "", fmt.Errorf("oauth2_token_command: killed after %v: %w", timeout, cause)
		case cause != nil:
			return "", fmt.Errorf("oauth2_token_command: killed: %w", cause)
		}
		return "", fmt.Errorf("oauth2_token_command: %w", err)
	}
	token, _, _ := strings.Cut(strings.TrimSpace(out.String()), "\n")
	if token = strings.TrimSpace(token); token == "" {
		return "", errors.New("oauth2_token_command printed no token")
	}
	return token, nil
}

// limitedBuffer keeps the first maxTokenOutput bytes written to it and
// discards the rest.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxTokenOutput - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
