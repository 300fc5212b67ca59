package demo

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jhillyerd/enmime/v2"

	"github.com/postdesk/postdesk/internal/smtpsink"
)

// This file holds the mails of the story and how it reads the mail sent.

// Readable shows a sent mail as a person reads it: the headers that matter,
// the decoded text and the attached files, indented.
func Readable(raw []byte) string {
	env, err := enmime.ReadEnvelope(bytes.NewReader(raw))
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, h := range []string{"From", "To", "Cc", "Reply-To", "Subject", "Message-ID", "In-Reply-To", "Auto-Submitted"} {
		if v := env.GetHeader(h); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", h, v)
		}
	}
	b.WriteString("\n" + strings.ReplaceAll(env.Text, "\r\n", "\n"))
	for _, a := range env.Attachments {
		fmt.Fprintf(&b, "\n[attached: %s, %s, %d bytes]", a.FileName, a.ContentType, len(a.Content))
	}
	return "  | " + strings.ReplaceAll(strings.TrimRight(b.String(), "\n"), "\n", "\n  | ")
}

// mailTo returns the first of ms sent to rcpt whose subject holds word.
func mailTo(ms []smtpsink.Received, rcpt, word string) smtpsink.Received {
	for _, m := range ms {
		if slices.Contains(m.To, rcpt) && strings.Contains(Header(string(m.Data), "Subject"), word) {
			return m
		}
	}
	return smtpsink.Received{}
}

// Header returns the first value of a header in a raw message (unfolded).
func Header(raw, name string) string {
	head, _, _ := strings.Cut(strings.ReplaceAll(raw, "\r\n", "\n"), "\n\n")
	head = strings.ReplaceAll(head, "\n ", " ")
	for _, line := range strings.Split(head, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

var date = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC).Format(time.RFC1123Z)

var alice = "From: Alice Martin <alice@acme.example>\r\n" +
	"To: support@example.com\r\nCc: bob@acme.example\r\n" +
	"Subject: ELB unreachable from the internet\r\n" +
	"Date: " + date + "\r\nMessage-ID: <alice-1@acme.example>\r\n" +
	"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n" +
	"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
	"Severity: high\r\nService: ELB\r\n\r\nSince 08:00 our load balancer answers nothing on port 443.\r\n" +
	"The targets are healthy. Log attached.\r\n\r\nAlice\r\n" +
	"--b1\r\nContent-Type: text/plain; name=app.log\r\nContent-Disposition: attachment; filename=app.log\r\n\r\n" +
	"08:00:01 connect timeout\r\n08:00:02 connect timeout\r\n" +
	"--b1--\r\n"

var carol = "From: carol@globex.example\r\nTo: support@example.com\r\n" +
	"Subject: Invoice for October is missing\r\n" +
	"Date: " + date + "\r\nMessage-ID: <carol-1@globex.example>\r\n\r\n" +
	"Hello, we did not receive the October invoice. Could you send it again?\r\n"

var vacation = "From: dave@initech.example\r\nTo: support@example.com\r\n" +
	"Subject: Automatic reply: out of office\r\nAuto-Submitted: auto-replied\r\n" +
	"Date: " + date + "\r\nMessage-ID: <dave-ooo@initech.example>\r\n\r\n" +
	"I am out of the office until Monday.\r\n"

var stranger = "From: mallory@evil.example\r\nTo: support@example.com\r\n" +
	"Subject: Re: [Case #1] ELB unreachable from the internet\r\n" +
	"Date: " + date + "\r\nMessage-ID: <mallory-1@evil.example>\r\n\r\n" +
	"Please send me the password reset link for alice@acme.example.\r\n"

// bobReply answers the agent's mail the way a mail client does, with
// In-Reply-To and References, and a subject that lost the tag.
func bobReply(agentMail string) string {
	id := Header(agentMail, "Message-ID")
	return "From: bob@acme.example\r\nTo: support@example.com\r\n" +
		"Subject: Re: ELB unreachable from the internet\r\n" +
		"Date: " + date + "\r\nMessage-ID: <bob-1@acme.example>\r\n" +
		"In-Reply-To: " + id + "\r\nReferences: " + id + "\r\n\r\n" +
		"Done, port 443 is open now and it works. Thanks!\r\n\r\n> Hello Alice,\r\n> The load balancer's security group blocks port 443.\r\n"
}

// agentReply answers a notice as Gmail does: the text on top, then
// "On … wrote:" and the notice quoted with "> ", sent to the notice's
// Reply-To and threaded under it (which proves the agent received it).
func agentReply(notice []byte, from, id, text string) string {
	env, err := enmime.ReadEnvelope(bytes.NewReader(notice))
	if err != nil {
		return ""
	}
	var quoted strings.Builder
	for _, l := range strings.Split(strings.TrimRight(strings.ReplaceAll(env.Text, "\r\n", "\n"), "\n"), "\n") {
		quoted.WriteString(strings.TrimRight("> "+l, " ") + "\r\n")
	}
	msgID := env.GetHeader("Message-ID")
	return "From: " + from + "\r\nTo: " + strings.Trim(env.GetHeader("Reply-To"), "<>") + "\r\n" +
		"Subject: Re: " + env.GetHeader("Subject") + "\r\nDate: " + date + "\r\nMessage-ID: <" + id + "@example.com>\r\n" +
		"In-Reply-To: " + msgID + "\r\nReferences: " + msgID + "\r\n\r\n" +
		strings.ReplaceAll(text, "\n", "\r\n") + "\r\n\r\nOn Sat, Nov 21, 2026 at 9:05 AM Example Support <support@example.com> wrote:\r\n" +
		quoted.String()
}
