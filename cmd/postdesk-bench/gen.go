package main

// The generated mail: the realistic mix of the issue, deterministic from the
// seed and the mail's index, and a single big mail for the peak RSS phase.

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

// kind is one class of the mix.
type kind int

const (
	kindPlain  kind = iota // text/plain, about 2 KB
	kindAlt                // multipart/alternative text+HTML, about 8 KB
	kindJP                 // text/plain; charset=ISO-2022-JP
	kindAttach             // multipart/mixed with a 1 MiB attachment
	numKinds
)

var kindNames = [numKinds]string{"plain_2k", "alternative_8k", "iso2022jp", "attachment_1mib"}

const (
	// mixBlock is the stratum of the mix: every run of mixBlock indices
	// holds exactly 9 plain, 9 alternative, 1 Japanese and 1 attachment
	// mail (45/45/5/5 %), in an order shuffled per block.
	mixBlock = 20
	// attachBytes is the decoded size of the attachment of kindAttach.
	attachBytes = 1 << 20
	// lineBytes is what one 76-character base64 line decodes to.
	lineBytes = 57
	// deskAddress is the support address of the daemon under test.
	deskAddress = "support@bench.example"
)

// generator makes the mails of one run.
type generator struct {
	seed uint64
	run  string // unique token of this run, in every Message-ID
	// shared is the base64 (76-character lines, CRLF) of the attachment
	// bytes after the first line; each attachment starts with a line of its
	// own, so that no two have the same SHA-256 (the store deduplicates).
	shared []byte
}

func newGenerator(seed uint64, run string) *generator {
	rnd := rand.New(rand.NewChaCha8(seedBytes(seed)))
	block := make([]byte, attachBytes-lineBytes)
	for i := range block {
		block[i] = byte(rnd.Uint32())
	}
	return &generator{seed: seed, run: run, shared: base64Lines(block)}
}

func seedBytes(seed uint64) [32]byte {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return s
}

// kindOf says which class mail i is.
func (g *generator) kindOf(i int) kind {
	perm := rand.New(rand.NewPCG(g.seed, uint64(i/mixBlock))).Perm(mixBlock)
	switch slot := perm[i%mixBlock]; {
	case slot < 9:
		return kindPlain
	case slot < 18:
		return kindAlt
	case slot == 18:
		return kindJP
	}
	return kindAttach
}

// mailID is the Message-ID (without angle brackets) of mail i of phase.
func (g *generator) mailID(phase string, i int) string {
	return fmt.Sprintf("%s.%s.%d@customer-%d.example", g.run, phase, i, i%100)
}

// mail returns mail i of phase: from sender-<i>@customer-<i%100>.example,
// with a unique Message-ID and a subject token "(phase-i)".
func (g *generator) mail(phase string, i int) []byte {
	rnd := rand.New(rand.NewPCG(g.seed^0x9e3779b97f4a7c15, uint64(i)))
	var b bytes.Buffer
	k := g.kindOf(i)
	g.header(&b, phase, i, k, rnd)
	switch k {
	case kindPlain:
		writePlain(&b, rnd, 2048-b.Len())
	case kindAlt:
		writeAlternative(&b, rnd, i, 8192)
	case kindJP:
		writeJapanese(&b, rnd)
	case kindAttach:
		g.writeAttachment(&b, rnd, i)
	}
	return b.Bytes()
}

// header writes the header fields every class shares, then its own
// Content-Type, up to the blank line for single-part mail.
func (g *generator) header(b *bytes.Buffer, phase string, i int, k kind, rnd *rand.Rand) {
	sender := fmt.Sprintf("sender-%d@customer-%d.example", i, i%100)
	now := time.Now().UTC().Format(time.RFC1123Z)
	fmt.Fprintf(b, "Return-Path: <%s>\r\n", sender)
	fmt.Fprintf(b, "Received: from mx%d.customer-%d.example (mx%d.customer-%d.example [192.0.2.%d])\r\n"+
		"\tby mx.bench.example with ESMTPS id %08x\r\n\tfor <%s>; %s\r\n",
		i%7, i%100, i%7, i%100, i%250+1, rnd.Uint32(), deskAddress, now)
	subject := subjects[rnd.IntN(len(subjects))]
	name := fmt.Sprintf("Customer %d", i)
	if k == kindJP {
		subject = mimeWordJP(jpSubjects[rnd.IntN(len(jpSubjects))])
		name = mimeWordJP(jpNames[rnd.IntN(len(jpNames))])
	}
	fmt.Fprintf(b, "From: %s <%s>\r\nTo: Support <%s>\r\n", name, sender, deskAddress)
	fmt.Fprintf(b, "Subject: %s (%s-%d)\r\nDate: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n",
		subject, phase, i, now, g.mailID(phase, i))
	switch k {
	case kindPlain:
		b.WriteString("Content-Type: text/plain; charset=utf-8; format=flowed\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	case kindAlt:
		fmt.Fprintf(b, "X-Mailer: Microsoft Outlook 16.0\r\nContent-Type: multipart/alternative; boundary=\"=_alt_%d\"\r\n\r\n", i)
	case kindJP:
		b.WriteString("Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
	case kindAttach:
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
func (g *generator) writeAttachment(b *bytes.Buffer, rnd *rand.Rand, i int) {
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

// bigMail is one mail of about size bytes: a few lines of text and one
// random (incompressible, like a zip) file, base64, that fills the rest.
func (g *generator) bigMail(phase string, size int) (raw []byte, file int) {
	rnd := rand.New(rand.NewPCG(g.seed, 0xb16))
	var b bytes.Buffer
	const i = 0
	g.header(&b, phase, i, kindAttach, rnd)
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

// paragraphs returns about size bytes of text in paragraphs separated by
// blank lines, sometimes starting with field lines.
func paragraphs(rnd *rand.Rand, size int) string {
	var s strings.Builder
	if rnd.IntN(4) == 0 {
		fmt.Fprintf(&s, "Severity: %s\nService: %s\n\n", []string{"low", "normal", "high", "urgent"}[rnd.IntN(4)],
			[]string{"EC2", "S3", "RDS", "ELB", "Route 53"}[rnd.IntN(5)])
	}
	s.WriteString("Hello support team,\n\n")
	for s.Len() < size-120 {
		for range 2 + rnd.IntN(3) {
			s.WriteString(sentence(rnd))
			s.WriteString(" ")
		}
		if rnd.IntN(3) == 0 {
			fmt.Fprintf(&s, "\n\n%s", logLine(rnd))
		}
		s.WriteString("\n\n")
	}
	s.WriteString("Best regards,\nOperations team, Customer Corp.\n")
	return s.String()
}

func sentence(rnd *rand.Rand) string { return sentences[rnd.IntN(len(sentences))] }

func logLine(rnd *rand.Rand) string {
	return fmt.Sprintf("2026-03-%02d %02d:%02d:%02d ERROR [worker-%d] upstream request failed: status=%d latency=%dms request_id=%016x",
		1+rnd.IntN(28), rnd.IntN(24), rnd.IntN(60), rnd.IntN(60), rnd.IntN(16),
		[]int{500, 502, 503, 504}[rnd.IntN(4)], 100+rnd.IntN(30000), rnd.Uint64())
}

// wrap splits text into lines of at most width bytes at spaces.
func wrap(text string, width int) []string {
	var out []string
	for para := range strings.SplitSeq(text, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			if line != "" && len(line)+1+len(w) > width {
				out = append(out, line)
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += w
		}
		out = append(out, line)
	}
	return out
}

var subjects = []string{
	"Instances unreachable after maintenance window",
	"ELB returns 503 for part of our traffic",
	"Billing question about last month's invoice",
	"Request to raise the service limit for vCPUs",
	"Database failover took much longer than expected",
	"Latence élevée sur l'API depuis ce matin",
	"S3 uploads failing with SlowDown errors",
	"DNS resolution intermittently fails in eu-west-1",
	"Cannot attach volume to instance",
	"Question about reserved capacity pricing",
}

var sentences = []string{
	"Since this morning around 09:40 UTC our production instances stopped answering health checks.",
	"We did not change anything in our configuration during the last week.",
	"The problem started right after the scheduled maintenance announced in the console.",
	"About a third of the requests are affected, the others go through normally.",
	"We restarted the application servers but the errors came back after a few minutes.",
	"Our monitoring shows the latency climbing from 80 ms to more than 4 seconds.",
	"Could you please check whether there is an ongoing issue in this region?",
	"The account ID and the resource identifiers are in the log excerpt below.",
	"This is blocking our release planned for tomorrow, so a quick answer would help a lot.",
	"We also opened a ticket with the database vendor, who pointed us to the network layer.",
	"Nous avons vérifié les règles du pare-feu et rien n'a été modifié récemment.",
	"Les clients en Europe sont les plus touchés, l'Amérique du Nord semble épargnée.",
	"Please let us know if you need a traceroute or packet capture from our side.",
	"The same setup works fine in our staging account with identical settings.",
	"We would appreciate a call with an engineer if that is possible.",
}

var jpSubjects = []string{"ログインできません", "請求書について", "サーバーに接続できない", "上限緩和の申請", "応答が遅い"}

var jpNames = []string{"山田 太郎", "佐藤 花子", "鈴木 一郎", "高橋 美咲"}

var jpSentences = []string{
	"本日午前九時頃から、本番環境のサーバーに接続できない状態が続いております。",
	"設定は先週から一切変更しておりません。",
	"メンテナンス後に問題が発生したように見受けられます。",
	"約三割のリクエストでエラーが発生しており、残りは正常に処理されています。",
	"アプリケーションサーバーを再起動しましたが、数分後に再び同じエラーが発生しました。",
	"監視ツールでは応答時間が八十ミリ秒から四秒以上に増加しています。",
	"このリージョンで障害が発生していないか確認していただけますでしょうか。",
	"アカウント番号とリソースの識別子は下記のログに記載しております。",
	"明日のリリースに影響が出ておりますので、早急なご対応をお願いいたします。",
}
