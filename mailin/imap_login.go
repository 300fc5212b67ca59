package mailin

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// handshake sets up TLS as configured and waits for the greeting. It also
// returns the connection under the client, below which nothing encrypts
// (the socket for "none", else the TLS connection): login writes to it the
// line that cancels an AUTHENTICATE, which go-imap cannot send.
func (p *Poller) handshake(ctx context.Context, raw net.Conn) (*imapclient.Client, net.Conn, error) {
	opts := &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{Mailbox: p.mailboxUpdate},
	}
	var plain net.Conn
	switch p.o.TLS {
	case "implicit":
		tc := tls.Client(raw, p.tlsConfig([]string{"imap"}))
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, nil, fmt.Errorf("tls: %w", err)
		}
		plain = tc
	case "starttls":
		var err error
		if plain, err = startTLS(ctx, raw, p.tlsConfig(nil)); err != nil {
			return nil, nil, fmt.Errorf("starttls: %w", err)
		}
	case "none":
		plain = raw
	default:
		return nil, nil, fmt.Errorf("unknown tls mode %q (want implicit, starttls or none)", p.o.TLS)
	}
	c := imapclient.New(plain, opts)
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("greeting: %w", err)
	}
	return c, plain, nil
}

func (p *Poller) tlsConfig(protos []string) *tls.Config {
	cfg := &tls.Config{}
	if p.o.TLSConfig != nil {
		cfg = p.o.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(p.o.Addr)
	}
	if cfg.NextProtos == nil {
		cfg.NextProtos = protos
	}
	return cfg
}

// login authenticates with LOGIN, or with AUTHENTICATE XOAUTH2 when a token
// source is configured; plain is the connection under c (see handshake).
// Errors name the mailbox and never carry the password or the token.
func (p *Poller) login(ctx context.Context, c *imapclient.Client, plain net.Conn) error {
	if p.o.Token == nil {
		if err := c.Login(p.o.Username, p.o.Password).Wait(); err != nil {
			return fmt.Errorf("mailbox %s: login as %s: %w", p.o.Name, p.o.Username, err)
		}
		return nil
	}
	token, err := p.o.Token(ctx)
	if err != nil {
		return fmt.Errorf("mailbox %s: oauth2 token for %s: %w", p.o.Name, p.o.Username, err)
	}
	err = c.Authenticate(&xoauth2Client{username: p.o.Username, token: token})
	if refusal, ok := errors.AsType[*XOAUTH2Error](err); ok {
		// The token was refused with a challenge, which go-imap leaves
		// unanswered when the client's Next fails: cancel the exchange.
		if cerr := cancelAuthenticate(c, plain); cerr != nil {
			err = errors.Join(refusal, fmt.Errorf("cancel: %w", cerr))
		}
	}
	if err != nil {
		return fmt.Errorf("mailbox %s: authenticate %s as %s: %w", p.o.Name, XOAUTH2, p.o.Username, err)
	}
	return nil
}

// cancelAuthenticate ends an AUTHENTICATE whose challenge is unanswered
// with the line "*" (RFC 3501 §6.2.2, RFC 9051 §6.2.2; RFC 4954 §4 for
// SMTP), to which the server must say BAD. go-imap cannot send it: it
// encodes every answer in base64, an empty one as "=" (go-imap#760), which
// Dovecot rejects as invalid base64. The line goes under the client, which
// writes nothing meanwhile; the answer to a NOOP sent after it shows the
// server has ended the exchange. replyTimeout bounds the wait.
func cancelAuthenticate(c *imapclient.Client, plain net.Conn) error {
	guard := time.AfterFunc(replyTimeout, func() { c.Close() })
	defer guard.Stop()
	if _, err := io.WriteString(plain, "*\r\n"); err != nil {
		return err
	}
	return c.Noop().Wait()
}

// maxLine bounds a line read during startTLS.
const maxLine = 8 << 10

// startTLS runs STARTTLS (RFC 3501 §6.2.1) on raw itself, so that the TLS
// connection is ours (see handshake), and returns it with a greeting made
// up for imapclient: the server sends none after STARTTLS, and what it
// advertised before TLS is not to be trusted. A PREAUTH greeting is
// refused: the session would start unencrypted. replyTimeout bounds each
// answer.
func startTLS(ctx context.Context, raw net.Conn, cfg *tls.Config) (net.Conn, error) {
	if err := raw.SetDeadline(time.Now().Add(replyTimeout)); err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(raw, maxLine)
	greeting, err := readLine(r)
	if err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if !strings.HasPrefix(strings.ToUpper(greeting), "* OK") {
		return nil, fmt.Errorf("greeting %q: want * OK before STARTTLS", shorten(greeting))
	}
	if _, err := io.WriteString(raw, "S1 STARTTLS\r\n"); err != nil {
		return nil, err
	}
	for {
		line, err := readLine(r)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(line, "* ") {
			continue // e.g. an untagged CAPABILITY
		}
		status, ok := strings.CutPrefix(line, "S1 ")
		if !ok || !strings.HasPrefix(strings.ToUpper(status), "OK") {
			return nil, fmt.Errorf("server answered %q", shorten(line))
		}
		break
	}
	// Bytes after the OK and before the TLS handshake would be read as if
	// they came over TLS (CVE-2011-0411 is the SMTP case).
	if r.Buffered() > 0 {
		return nil, errors.New("server sent data after its OK to STARTTLS")
	}
	if err := raw.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	return &greetedConn{Conn: tc, r: io.MultiReader(strings.NewReader("* OK TLS started\r\n"), tc)}, nil
}

// readLine reads one line of at most maxLine bytes, without its CRLF.
func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", fmt.Errorf("line longer than %d bytes", maxLine)
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// shorten shortens a server's line for an error message.
func shorten(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// greetedConn is a connection whose reads start with a made-up greeting.
// Only imapclient's reader goroutine reads it.
type greetedConn struct {
	net.Conn
	r io.Reader
}

func (c *greetedConn) Read(b []byte) (int, error) { return c.r.Read(b) }
