// Package mailmix generates the realistic mix of mail the benchmarks use
// (cmd/postdesk-bench, the mailin and the message benchmarks): 45 % plain
// text of about 2 KB, 45 % multipart/alternative of about 8 KB
// (quoted-printable text and HTML, as Outlook sends), 5 % ISO-2022-JP text
// and 5 % multipart/mixed with a 1 MiB base64 attachment, plus one big
// mail for the peak RSS measures. Every mail is deterministic from the seed
// and its index, except for the Date and Received times.
//
// It imports the standard library and golang.org/x/text (for ISO-2022-JP)
// only, never mailin or message, so that their own tests can use it.
package mailmix

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"mime/quotedprintable"
	"strings"
	"time"

	"golang.org/x/text/encoding/japanese"
)

// Kind is one class of the mix.
type Kind int

// The classes of the mix.
const (
	Plain       Kind = iota // text/plain, about 2 KB
	Alternative             // multipart/alternative text+HTML, about 8 KB
	ISO2022JP               // text/plain; charset=ISO-2022-JP
	Attachment              // multipart/mixed with a 1 MiB attachment
	// NumKinds is the number of classes, for arrays indexed by Kind.
	NumKinds
)

var kindNames = [NumKinds]string{"plain_2k", "alternative_8k", "iso2022jp", "attachment_1mib"}

// String returns the name of the class as the reports and benchmarks
// print it: plain_2k, alternative_8k, iso2022jp or attachment_1mib.
func (k Kind) String() string {
	if k < 0 || k >= NumKinds {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

const (
	// Block is the stratum of the mix: every run of Block indices holds
	// exactly 9 plain, 9 alternative, 1 Japanese and 1 attachment mail
	// (45/45/5/5 %), in an order shuffled per block.
	Block = 20
	// AttachmentBytes is the decoded size of the file of an Attachment mail.
	AttachmentBytes = 1 << 20
	// DeskAddress is the support address every mail is sent to.
	DeskAddress = "support@bench.example"
	// lineBytes is what one 76-character base64 line decodes to.
	lineBytes = 57
)

// Generator makes the mails of one run.
type Generator struct {
	seed uint64
	run  string // unique token of this run, in every Message-ID
	// shared is the base64 (76-character lines, CRLF) of the attachment
	// bytes after the first line; each attachment starts with a line of its
	// own, so that no two have the same SHA-256 (the store deduplicates).
	shared []byte
}

// New returns the generator of seed; run is a token unique to the run,
// put in every Message-ID and returned by Run.
func New(seed uint64, run string) *Generator {
	rnd := rand.New(rand.NewChaCha8(seedBytes(seed)))
	block := make([]byte, AttachmentBytes-lineBytes)
	for i := range block {
		block[i] = byte(rnd.Uint32())
	}
	return &Generator{seed: seed, run: run, shared: base64Lines(block)}
}

func seedBytes(seed uint64) [32]byte {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return s
}

// Run returns the run token given to New.
func (g *Generator) Run() string { return g.run }

// Kind says which class mail i is.
func (g *Generator) Kind(i int) Kind {
	perm := rand.New(rand.NewPCG(g.seed, uint64(i/Block))).Perm(Block)
	switch slot := perm[i%Block]; {
	case slot < 9:
		return Plain
	case slot < 18:
		return Alternative
	case slot == 18:
		return ISO2022JP
	}
	return Attachment
}

// MailID is the Message-ID (without angle brackets) of mail i of phase.
func (g *Generator) MailID(phase string, i int) string {
	return fmt.Sprintf("%s.%s.%d@customer-%d.example", g.run, phase, i, i%100)
}

// Mail returns mail i of phase, of the class Kind(i): from
// sender-<i>@customer-<i%100>.example, with the Message-ID MailID(phase, i)
// and a subject token "(phase-i)".
func (g *Generator) Mail(phase string, i int) []byte {
	return g.MailOfKind(g.Kind(i), phase, i)
}

// MailOfKind returns mail i of phase made as class k, whatever Kind(i) is.
func (g *Generator) MailOfKind(k Kind, phase string, i int) []byte {
	rnd := rand.New(rand.NewPCG(g.seed^0x9e3779b97f4a7c15, uint64(i)))
	var b bytes.Buffer
	g.header(&b, phase, i, k, rnd)
	switch k {
	case Plain:
		writePlain(&b, rnd, 2048-b.Len())
	case Alternative:
		writeAlternative(&b, rnd, i, 8192)
	case ISO2022JP:
		writeJapanese(&b, rnd)
	case Attachment:
		g.writeAttachment(&b, rnd, i)
	}
	return b.Bytes()
}

// header writes the header fields every class shares, then its own
// Content-Type, up to the blank line for single-part mail.
func (g *Generator) header(b *bytes.Buffer, phase string, i int, k Kind, rnd *rand.Rand) {
	sender := fmt.Sprintf("sender-%d@customer-%d.example", i, i%100)
	now := time.Now().UTC().Format(time.RFC1123Z)
	fmt.Fprintf(b, "Return-Path: <%s>\r\n", sender)
	fmt.Fprintf(b, "Received: from mx%d.customer-%d.example (mx%d.customer-%d.example [192.0.2.%d])\r\n"+
		"\tby mx.bench.example with ESMTPS id %08x\r\n\tfor <%s>; %s\r\n",
		i%7, i%100, i%7, i%100, i%250+1, rnd.Uint32(), DeskAddress, now)
	subject := subjects[rnd.IntN(len(subjects))]
	name := fmt.Sprintf("Customer %d", i)
	if k == ISO2022JP {
		subject = mimeWordJP(jpSubjects[rnd.IntN(len(jpSubjects))])
		name = mimeWordJP(jpNames[rnd.IntN(len(jpNames))])
	}
	fmt.Fprintf(b, "From: %s <%s>\r\nTo: Support <%s>\r\n", name, sender, DeskAddress)
	fmt.Fprintf(b, "Subject: %s (%s-%d)\r\nDate: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n",
		subject, phase, i, now, g.MailID(phase, i))
	switch k {
	case Plain:
		b.WriteString("Content-Type: text/plain; charset=utf-8; format=flowed\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	case Alternative:
		fmt.Fprintf(b, "X-Mailer: Microsoft Outlook 16.0\r\nContent-Type: multipart/alternative; boundary=\"=_alt_%d\"\r\n\r\n", i)
	case ISO2022JP:
		b.WriteString("Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
	case Attachment:
		fmt.Fprintf(b, "Content-Type: multipart/mixed; boundary=\"=_mix_%d\"\r\n\r\n", i)
	}
}

// writePlain writes about size bytes of support-request text.
func writePlain(b *bytes.Buffer, rnd *rand.Rand, size int) {
	for _, line := range wrap(paragraphs(rnd, max(size, 200)), 72) {
		b.WriteString(line)
		b.WriteString("\r\n")
	}
}

// writeAlternative writes a text part and its HTML twin, as Outlook does,
// quoted-printable, so that b ends up holding about total bytes.
func writeAlternative(b *bytes.Buffer, rnd *rand.Rand, i, total int) {
	text := paragraphs(rnd, max((total-b.Len())*3/10, 300))
	fmt.Fprintf(b, "--=_alt_%d\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", i)
	writeQP(b, strings.Join(wrap(text, 76), "\r\n"))
	fmt.Fprintf(b, "\r\n--=_alt_%d\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", i)
	var h strings.Builder
	h.WriteString("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">" +
		"<style>p.MsoNormal{margin:0cm;font-size:11.0pt;font-family:\"Calibri\",sans-serif;}</style></head>" +
		"<body lang=\"EN-US\" link=\"#0563C1\" vlink=\"#954F72\"><div class=\"WordSection1\">\r\n")
	for _, p := range strings.Split(text, "\n\n") {
		fmt.Fprintf(&h, "<p class=\"MsoNormal\"><span style=\"font-size:11.0pt;color:#1F3864\">%s</span></p>\r\n"+
			"<p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p>\r\n", p)
	}
	h.WriteString("<table border=\"0\" cellspacing=\"0\" cellpadding=\"0\"><tr><td style=\"padding:0cm 5.4pt\">" +
		"<p class=\"MsoNormal\"><b>Operations team</b><br>Customer Corp.<br>" +
		"<a href=\"https://customer.example/\">https://customer.example/</a></p></td></tr></table>\r\n")
	// Quoted-printable turns every "=" of the markup into "=3D".
	for b.Len()+h.Len()+2*strings.Count(h.String(), "=")+120 < total {
		fmt.Fprintf(&h, "<p class=\"MsoNormal\"><span style=\"color:gray\">%s</span></p>\r\n", sentence(rnd))
	}
	h.WriteString("</div></body></html>")
	writeQP(b, h.String())
	fmt.Fprintf(b, "\r\n--=_alt_%d--\r\n", i)
}

// writeJapanese writes about 2 KB of Japanese text in ISO-2022-JP.
func writeJapanese(b *bytes.Buffer, rnd *rand.Rand) {
	enc := japanese.ISO2022JP.NewEncoder()
	var text strings.Builder
	text.WriteString("重要度: 高\n\nサポートご担当者様\n\n")
	for text.Len() < 2400 { // UTF-8 bytes; ISO-2022-JP is about 2/3 of it
		text.WriteString(jpSentences[rnd.IntN(len(jpSentences))])
		text.WriteString("\n")
	}
	text.WriteString("\nよろしくお願いいたします。\n")
	for line := range strings.SplitSeq(text.String(), "\n") {
		s, err := enc.String(line)
		if err != nil { // every sentence is JIS X 0208: cannot happen
			panic(err)
		}
		b.WriteString(s)
		b.WriteString("\r\n")
	}
}

// writeAttachment writes a short text part and a 1 MiB file, base64.
func (g *Generator) writeAttachment(b *bytes.Buffer, rnd *rand.Rand, i int) {
	fmt.Fprintf(b, "--=_mix_%d\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", i)
	writePlain(b, rnd, 800)
	fmt.Fprintf(b, "\r\n--=_mix_%d\r\nContent-Type: application/zip; name=\"diagnostics-%d.zip\"\r\n"+
		"Content-Disposition: attachment; filename=\"diagnostics-%d.zip\"\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n", i, i, i)
	first := make([]byte, lineBytes)
	for j := range first {
		first[j] = byte(rnd.Uint32())
	}
	b.Write(base64Lines(first))
	b.Write(g.shared)
	fmt.Fprintf(b, "--=_mix_%d--\r\n", i)
}

// BigMail returns one mail of phase of at most size bytes (index 0, class
// Attachment): a few lines of text and one random (incompressible, like a
// zip) file, full-logs.zip in base64, that fills the rest. file is the
// decoded size of that file.
func (g *Generator) BigMail(phase string, size int) (raw []byte, file int) {
	rnd := rand.New(rand.NewPCG(g.seed, 0xb16))
	var b bytes.Buffer
	const i = 0
	g.header(&b, phase, i, Attachment, rnd)
	fmt.Fprintf(&b, "--=_mix_%d\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", i)
	writePlain(&b, rnd, 600)
	fmt.Fprintf(&b, "\r\n--=_mix_%d\r\nContent-Type: application/zip; name=\"full-logs.zip\"\r\n"+
		"Content-Disposition: attachment; filename=\"full-logs.zip\"\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n", i)
	tail := fmt.Sprintf("--=_mix_%d--\r\n", i)
	lines := (size - b.Len() - len(tail)) / 78 // 76 characters and CRLF per 57 bytes
	data := make([]byte, max(lines, 1)*lineBytes)
	crnd := rand.NewChaCha8(seedBytes(g.seed + 1))
	_, _ = crnd.Read(data)
	b.Grow(len(data)*78/57 + len(tail))
	b.Write(base64Lines(data))
	b.WriteString(tail)
	return b.Bytes(), len(data)
}

// base64Lines encodes data in lines of 76 characters ending in CRLF.
func base64Lines(data []byte) []byte {
	out := make([]byte, 0, (len(data)+lineBytes-1)/lineBytes*78)
	line := make([]byte, 76)
	for len(data) > 0 {
		n := min(len(data), lineBytes)
		m := base64.StdEncoding.EncodedLen(n)
		base64.StdEncoding.Encode(line, data[:n])
		out = append(out, line[:m]...)
		out = append(out, '\r', '\n')
		data = data[n:]
	}
	return out
}

func writeQP(b *bytes.Buffer, s string) {
	w := quotedprintable.NewWriter(b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
}

// mimeWordJP encodes s as one RFC 2047 encoded word in ISO-2022-JP.
func mimeWordJP(s string) string {
	e, err := japanese.ISO2022JP.NewEncoder().String(s)
	if err != nil {
		panic(err) // the fixed strings below are JIS X 0208
	}
	return "=?ISO-2022-JP?B?" + base64.StdEncoding.EncodeToString([]byte(e)) + "?="
}
