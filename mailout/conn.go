package mailout

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// errStopped means the context ended before the mail's DATA began: nothing
// of it went out.
var errStopped = errors.New("stopped before the mail was sent")

// conn is one SMTP connection, sending raw messages. When the context of
// dial ends, an idle connection is closed at once (a blocked greeting,
// EHLO, STARTTLS or AUTH with it); a mail transaction under way is left to
// finish, its reply awaited for at most the grace the Sender gives, and no
// other begins.
type conn struct {
	c      *smtp.Client
	raw    net.Conn    // the socket: its deadlines bound every exchange
	stop   func() bool // stops the context.AfterFunc that calls stopped
	grace  time.Duration
	broken bool // no further command can be sent

	mu       sync.Mutex
	inMail   bool      // a mail transaction is under way
	ended    bool      // the context ended
	deadline time.Time // of the socket, during a mail transaction
}

// dial connects, says EHLO as Options.Helo, starts TLS and authenticates as
// configured, using go-mail's client for all of that.
func (s *Sender) dial(ctx context.Context) (*conn, error) {
	tlsConfig := &tls.Config{ServerName: s.o.Host, MinVersion: tls.VersionTLS12, RootCAs: s.o.RootCAs}
	cn := &conn{grace: s.stopGrace, stop: func() bool { return false }}
	dialer := func(dctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		var err error
		if s.o.TLS == TLSImplicit {
			c, err = (&tls.Dialer{Config: tlsConfig}).DialContext(dctx, network, addr)
		} else {
			c, err = (&net.Dialer{}).DialContext(dctx, network, addr)
		}
		if err == nil {
			cn.raw = c
			// ctx, not dctx: go-mail cancels dctx when the dial returns.
			cn.stop = context.AfterFunc(ctx, cn.stopped)
		}
		return c, err
	}
	opts := []mail.Option{
		mail.WithPort(s.o.Port), mail.WithTimeout(commandTimeout), mail.WithHELO(s.o.Helo),
		mail.WithDialContextFunc(dialer), mail.WithTLSConfig(tlsConfig),
		mail.WithTLSPolicy(mail.NoTLS), // implicit TLS is done by the dialer
	}
	if s.o.TLS == TLSStartTLS {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if s.o.Username != "" {
		// PLAIN and LOGIN refuse to send the password in clear text except
		// to localhost (go-mail's smtp package, like net/smtp).
		opts = append(opts, mail.WithUsername(s.o.Username), mail.WithPassword(s.o.Password),
			mail.WithOpportunisticSMTPAuth(mail.SMTPAuthPlain, mail.SMTPAuthLogin,
				mail.SMTPAuthSCRAMSHA256, mail.SMTPAuthSCRAMSHA1))
	}
	client, err := mail.NewClient(s.o.Host, opts...)
	if err != nil {
		return nil, err
	}
	c, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		cn.stop()
		if cn.raw != nil {
			cn.raw.Close() // go-mail leaves it open when EHLO, STARTTLS or AUTH fail
		}
		return nil, err
	}
	cn.c = c
	return cn, nil
}

// stopped runs when the context of dial ends.
func (c *conn) stopped() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended = true
	if !c.inMail {
		c.raw.Close()
		return
	}
	if d := time.Now().Add(c.grace); d.Before(c.deadline) {
		c.deadline = d
		_ = c.raw.SetDeadline(d)
	}
}

// begin starts a mail transaction of size bytes, bounded by commandTimeout
// and minRate; after the context ended it refuses.
func (c *conn) begin(size int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return errStopped
	}
	c.inMail = true
	c.deadline = time.Now().Add(commandTimeout + time.Duration(size/minRate)*time.Second)
	if err := c.raw.SetDeadline(c.deadline); err != nil {
		c.broken = true
		return err
	}
	return nil
}

// end ends the mail transaction begun last.
func (c *conn) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inMail = false
}

// send runs one mail transaction: MAIL, RCPT for each recipient, DATA.
// After a refusal the transaction is reset; the connection is marked broken
// when that fails, when the server closes it (421) or when there is no
// reply at all. When ctx has ended before DATA, the transaction is reset
// and errStopped returned.
func (c *conn) send(ctx context.Context, from string, rcpts []string, raw []byte) error {
	if err := c.begin(len(raw)); err != nil {
		return err
	}
	defer c.end()
	if err := c.c.Mail("<" + from + ">"); err != nil {
		return c.refused("MAIL FROM:<"+from+">", err)
	}
	for _, r := range rcpts {
		if err := c.c.Rcpt("<" + r + ">"); err != nil {
			return c.refused("RCPT TO:<"+r+">", err)
		}
	}
	if ctx.Err() != nil {
		if c.c.Reset() != nil {
			c.broken = true
		}
		return errStopped
	}
	w, err := c.c.Data()
	if err != nil {
		return c.refused("DATA", err)
	}
	if _, err := w.Write(raw); err != nil {
		c.broken = true
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		// The server answered the message itself: the transaction is over.
		c.broken = !isReply(err) || closing(err)
		return fmt.Errorf("end of DATA: %w", err)
	}
	return nil
}

func (c *conn) refused(stage string, err error) error {
	err = fmt.Errorf("%s: %w", stage, err)
	if !isReply(err) || closing(err) || c.c.Reset() != nil {
		c.broken = true
	}
	return err
}

// close says QUIT when the connection still works, and closes it. After
// the context ended, QUIT gets what is left of the grace.
func (c *conn) close() {
	c.stop()
	c.mu.Lock()
	if !c.ended {
		_ = c.raw.SetDeadline(time.Now().Add(commandTimeout))
	}
	c.mu.Unlock()
	if !c.broken {
		_ = c.c.Quit()
	}
	_ = c.raw.Close()
}
