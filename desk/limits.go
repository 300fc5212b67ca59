package desk

import (
	"fmt"
	"strings"
	"time"

	"github.com/postdesk/postdesk/store"
)

// automatic reports whether mail of this kind is sent by the desk on its
// own, without a person writing it: such mail is rate limited per
// recipient. Agents' replies are written by people; alerts, notices and
// transcripts go to the support team, whom the limit does not protect.
func automatic(kind string) bool {
	switch kind {
	case store.MailReply, store.MailAlert, store.MailNotice, store.MailTranscript:
		return false
	}
	return true
}

// hourWindow is the fixed window rate counters use.
func hourWindow(now time.Time) time.Time { return now.Truncate(time.Hour) }

// limitAutomatic leaves out the recipients who already got
// AutorepliesPerHour automatic mails this hour, recording an event for each
// (RFC 3834 §2: responders must not flood a recipient). It reports whether
// anyone is left.
func (d *Desk) limitAutomatic(tx *store.Tx, it *store.OutboxItem, now time.Time) (bool, error) {
	if !automatic(it.Kind) || d.o.AutorepliesPerHour < 0 {
		return true, nil
	}
	keep := func(addrs []string) ([]string, error) {
		var out []string
		for _, a := range addrs {
			n, err := tx.Bump("auto:"+addrKey(a), hourWindow(now))
			if err != nil {
				return nil, err
			}
			if n <= d.o.AutorepliesPerHour {
				out = append(out, a)
				continue
			}
			if it.CaseID != 0 {
				detail := fmt.Sprintf("%s to %s: over %d automatic mails an hour", it.Kind, a, d.o.AutorepliesPerHour)
				if err := addEvent(tx, it.CaseID, now, EventMailSuppressed, detail); err != nil {
					return nil, err
				}
			}
		}
		return out, nil
	}
	var err error
	if it.To, err = keep(it.To); err != nil {
		return false, err
	}
	if it.Cc, err = keep(it.Cc); err != nil {
		return false, err
	}
	if len(it.To) == 0 {
		it.To, it.Cc = it.Cc, nil
	}
	return len(it.To) > 0, nil
}

// senderKey is the key of a sender for rate limits: its address key
// without a plus-tag, so that eve+1@ … eve+30@ count as one sender (they
// stay different addresses for participation).
func senderKey(addr string) string {
	k := addrKey(addr)
	at := strings.LastIndexByte(k, '@')
	if at < 0 {
		return k
	}
	if plus := strings.IndexByte(k[:at], '+'); plus > 0 {
		return k[:plus] + k[at:]
	}
	return k
}

// tooManyCases counts a new case by sender and reports whether the sender
// is over NewCasesPerHour. The first time in an hour it is, the notify list
// is alerted.
func (d *Desk) tooManyCases(tx *store.Tx, in *Inbound, now time.Time) (bool, error) {
	if d.o.NewCasesPerHour < 0 {
		return false, nil
	}
	n, err := tx.Bump("new:"+senderKey(in.From), hourWindow(now))
	if err != nil || n <= d.o.NewCasesPerHour {
		return false, err
	}
	if n == d.o.NewCasesPerHour+1 {
		reason := fmt.Sprintf("%s sent more than %d new cases this hour; further new mail is held", in.From, d.o.NewCasesPerHour)
		err = enqueueAlert(tx, d.alert(0, store.Notice{Subject: caseSubject(d.tag, in.Subject), Requester: in.From, Reason: reason}, now))
	}
	return true, err
}
