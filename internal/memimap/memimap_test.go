package memimap

import (
	"fmt"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// TestIdleSeesEveryDelivery: a client in IDLE hears of each mail appended
// while it idles, however soon after the IDLE began, many times over
// (imapmemserver alone misses some and reports them only after DONE).
func TestIdleSeesEveryDelivery(t *testing.T) {
	srv, err := Start("u@example.com", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	exists := make(chan uint32, 64)
	c, err := imapclient.DialInsecure(srv.Addr(), &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					exists <- *d.NumMessages
				}
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("u@example.com", "pw").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 50; i++ {
		idle, err := c.Idle()
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Append("INBOX", fmt.Appendf(nil, "Subject: %d\r\n\r\nbody\r\n", i)); err != nil {
			t.Fatal(err)
		}
		select {
		case n := <-exists:
			if n != uint32(i) {
				t.Fatalf("delivery %d announced as EXISTS %d", i, n)
			}
		case <-time.After(10 * time.Second): // a bound on a wait, not a measurement
			t.Fatalf("delivery %d was not announced during IDLE", i)
		}
		if err := idle.Close(); err != nil {
			t.Fatal(err)
		}
		if err := idle.Wait(); err != nil {
			t.Fatal(err)
		}
	}
}
