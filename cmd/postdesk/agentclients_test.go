package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime/quotedprintable"
	"strings"

	"golang.org/x/text/encoding/japanese"
)

// An agentClient writes an agent's reply to one of our notices the way a
// real mail client does: its headers, its MIME shape, its quote header and
// how it quotes (or does not quote) the notice below the answer.
type agentClient struct {
	name  string
	reply func(r clientReply) string
}

// clientReply is what every client's reply is made of.
type clientReply struct {
	from, fromName string // the agent
	to             string // where the reply goes (the notice's Reply-To)
	subject        string // the notice's subject
	msgID          string // the notice's Message-ID, with angle brackets
	answer         string // what the agent typed above the quote
	notice         string // the notice's text as the client shows it
	id             string // a unique part for the reply's own Message-ID
}

// quoted prefixes every line with "> " (">" alone for empty lines), as
// Gmail, Apple Mail and Thunderbird quote plain text.
func quoted(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l == "" {
			lines[i] = ">"
		} else {
			lines[i] = "> " + l
		}
	}
	return strings.Join(lines, "\n")
}

func qp(s string) string {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(strings.ReplaceAll(s, "\n", "\r\n")))
	w.Close()
	return strings.ReplaceAll(b.String(), "\r\n", "\n")
}

// agentClients are the clients agents answer notices from (DESIGN §9).
var agentClients = []agentClient{
	{"Outlook", func(r clientReply) string {
		// Top-posted; the notice below an unquoted header block; HTML and
		// text alternatives, quoted-printable.
		text := r.answer + "\n\n________________________________\nFrom: Example Support <support@example.com>\n" +
			"Sent: Wednesday, December 2, 2026 9:12 AM\nTo: " + r.fromName + " <" + r.from + ">\nSubject: " + r.subject + "\n\n" + r.notice
		html := "<html><body><div>" + strings.ReplaceAll(r.answer, "\n", "<br>") + "</div><hr><div id=\"divRplyFwdMsg\"><b>From:</b> Example Support" +
			"<br><b>Sent:</b> Wednesday, December 2, 2026 9:12 AM</div><div>" + strings.ReplaceAll(r.notice, "\n", "<br>") + "</div></body></html>"
		return "From: " + r.fromName + " <" + r.from + ">\nTo: " + r.to + "\nSubject: RE: " + r.subject +
			"\nThread-Topic: " + r.subject + "\nThread-Index: AQHbQ2x1c2V0dGluZw==\nDate: Wed, 2 Dec 2026 09:20:11 +0000\nMessage-ID: <" + r.id +
			"@EXAMPLE.prod.outlook.com>\nIn-Reply-To: " + r.msgID + "\nReferences: " + r.msgID + "\nContent-Language: en-US\nX-MS-Has-Attach:\n" +
			"MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"_000_outlook_\"\n\n--_000_outlook_\n" +
			"Content-Type: text/plain; charset=\"utf-8\"\nContent-Transfer-Encoding: quoted-printable\n\n" + qp(text) +
			"\n--_000_outlook_\nContent-Type: text/html; charset=\"utf-8\"\nContent-Transfer-Encoding: quoted-printable\n\n" + qp(html) + "\n--_000_outlook_--\n"
	}},
	{"Gmail", func(r clientReply) string {
		// "On … wrote:" wrapped before the address, then "> " quotes.
		text := r.answer + "\n\nOn Wed, Dec 2, 2026 at 9:12 AM Example Support <\nsupport@example.com> wrote:\n\n" + quoted(r.notice) + "\n"
		return "From: " + r.fromName + " <" + r.from + ">\nTo: " + r.to + "\nSubject: Re: " + r.subject +
			"\nDate: Wed, 2 Dec 2026 09:21:00 +0000\nMessage-ID: <CAF" + r.id + "@mail.gmail.com>\nIn-Reply-To: " + r.msgID +
			"\nReferences: " + r.msgID + "\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"000000000000gmail\"\n\n" +
			"--000000000000gmail\nContent-Type: text/plain; charset=\"UTF-8\"\nContent-Transfer-Encoding: quoted-printable\n\n" + qp(text) +
			"\n--000000000000gmail\nContent-Type: text/html; charset=\"UTF-8\"\n\n<div dir=\"ltr\">" + r.answer +
			"</div><div class=\"gmail_quote\">On Wed, Dec 2, 2026 wrote:<blockquote>" + r.notice + "</blockquote></div>\n--000000000000gmail--\n"
	}},
	{"Apple Mail", func(r clientReply) string {
		// The attribution quoted too, quoted-printable text.
		text := r.answer + "\n\n> On 2 Dec 2026, at 09:12, Example Support <support@example.com> wrote:\n> \n" + quoted(r.notice) + "\n"
		return "From: " + r.fromName + " <" + r.from + ">\nContent-Type: text/plain;\n\tcharset=utf-8\nContent-Transfer-Encoding: quoted-printable\n" +
			"Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.600.62\\))\nSubject: Re: " + r.subject + "\nDate: Wed, 2 Dec 2026 10:22:00 +0100\n" +
			"In-Reply-To: " + r.msgID + "\nTo: " + r.to + "\nReferences: " + r.msgID + "\nMessage-Id: <" + r.id + "@example.com>\n" +
			"X-Mailer: Apple Mail (2.3774.600.62)\n\n" + qp(text)
	}},
	{"Thunderbird", func(r clientReply) string {
		text := r.answer + "\n\n-- \n" + r.fromName + "\nExample Support\n\nOn 12/2/26 09:12, Example Support wrote:\n" + quoted(r.notice) + "\n"
		return "Message-ID: <" + r.id + "@example.com>\nDate: Wed, 2 Dec 2026 10:23:00 +0100\nMIME-Version: 1.0\n" +
			"User-Agent: Mozilla Thunderbird\nSubject: Re: " + r.subject + "\nTo: " + r.to + "\nReferences: " + r.msgID +
			"\nContent-Language: en-US\nFrom: " + r.fromName + " <" + r.from + ">\nIn-Reply-To: " + r.msgID +
			"\nContent-Type: text/plain; charset=UTF-8; format=flowed\nContent-Transfer-Encoding: 8bit\n\n" + text
	}},
	{"Thunderbird in French", func(r clientReply) string {
		text := r.answer + "\n\nLe 02/12/2026 à 09:12, Example Support a écrit :\n" + quoted(r.notice) + "\n"
		return "Message-ID: <" + r.id + "@example.fr>\nDate: Wed, 2 Dec 2026 10:24:00 +0100\nMIME-Version: 1.0\n" +
			"User-Agent: Mozilla Thunderbird\nSubject: Re: " + r.subject + "\nTo: " + r.to + "\nReferences: " + r.msgID +
			"\nContent-Language: fr\nFrom: " + r.fromName + " <" + r.from + ">\nIn-Reply-To: " + r.msgID +
			"\nContent-Type: text/plain; charset=UTF-8; format=flowed\nContent-Transfer-Encoding: 8bit\n\n" + text
	}},
	{"Outlook in Japanese (ISO-2022-JP)", func(r clientReply) string {
		text := r.answer + "\n\n差出人: Example Support <support@example.com>\n送信日時: 2026年12月2日 9:12\n宛先: " + r.fromName +
			" <" + r.from + ">\n件名: " + r.subject + "\n\n" + r.notice + "\n"
		// Outlook writes ISO-2022-JP when the text fits it, and UTF-8 in
		// base64 when it does not (the notice's "·" does not).
		body := "Content-Type: text/plain; charset=\"iso-2022-jp\"\nContent-Transfer-Encoding: 7bit\n\n"
		if enc, err := japanese.ISO2022JP.NewEncoder().String(text); err == nil {
			body += enc
		} else {
			body = "Content-Type: text/plain; charset=\"utf-8\"\nContent-Transfer-Encoding: base64\n\n" +
				wrap76(base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(text, "\n", "\r\n"))))
		}
		subject := "=?ISO-2022-JP?B?" + base64.StdEncoding.EncodeToString(mustJIS("返信: ")) + "?= " + r.subject
		return "From: " + r.fromName + " <" + r.from + ">\nTo: " + r.to + "\nSubject: " + subject +
			"\nDate: Wed, 2 Dec 2026 18:25:00 +0900\nMessage-ID: <" + r.id + "@example.co.jp>\nIn-Reply-To: " + r.msgID +
			"\nReferences: " + r.msgID + "\nMIME-Version: 1.0\n" + body
	}},
}

// wrap76 cuts base64 into lines of 76 characters (RFC 2045 §6.8).
func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	return b.String() + s + "\n"
}

func mustJIS(s string) []byte {
	b, err := japanese.ISO2022JP.NewEncoder().Bytes([]byte(s))
	if err != nil {
		panic(err)
	}
	return b
}

// replyID makes a unique id part for a reply's Message-ID.
func replyID(client string, n int) string {
	return fmt.Sprintf("r%d.%s", n, strings.NewReplacer(" ", "", "(", "", ")", "", "-", "").Replace(strings.ToLower(client)))
}
