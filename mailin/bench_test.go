package mailin

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"mime/quotedprintable"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

// The realistic mix of the issue "Speed", shaped like the mail of
// cmd/postdesk-bench (gen.go): 45 % plain text of about 2 KB, 45 %
// multipart/alternative of about 8 KB (quoted-printable text and HTML, as
// Outlook sends), 5 % ISO-2022-JP text, 5 % multipart/mixed with a 1 MiB
// base64 attachment (76-character lines, CRLF). benchMix holds one block of
// 20 mails in that proportion.

// benchKind is one class of the mix.
type benchKind int

const (
	benchPlain benchKind = iota
	benchAlt
	benchJP
	benchAttach
)

var benchKindNames = []string{"plain_2k", "alternative_8k", "iso2022jp", "attachment_1mib"}

// benchMix returns 20 mails: 9 plain, 9 alternative, 1 Japanese, 1 with an
// attachment, in a fixed shuffled order.
func benchMix() [][]byte {
	kinds := make([]benchKind, 0, 20)
	for range 9 {
		kinds = append(kinds, benchPlain, benchAlt)
	}
	kinds = append(kinds, benchJP, benchAttach)
	rnd := rand.New(rand.NewPCG(1, 2))
	rnd.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	out := make([][]byte, len(kinds))
	for i, k := range kinds {
		out[i] = benchMail(k, i)
	}
	return out
}

// benchMail returns mail i of kind k.
func benchMail(k benchKind, i int) []byte {
	rnd := rand.New(rand.NewPCG(7, uint64(i)))
	var b bytes.Buffer
	benchHeader(&b, k, i)
	switch k {
	case benchPlain:
		b.WriteString("Content-Type: text/plain; charset=utf-8; format=flowed\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
		writeLines(&b, benchText(rnd, 2048-b.Len()))
	case benchAlt:
		fmt.Fprintf(&b, "Content-Type: multipart/alternative; boundary=\"=_alt_%d\"\r\n\r\n", i)
		text := benchText(rnd, 2000)
		fmt.Fprintf(&b, "--=_alt_%d\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", i)
		writeQPTo(&b, text)
		fmt.Fprintf(&b, "\r\n--=_alt_%d\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", i)
		var h strings.Builder
		h.WriteString(`<html><head><style>p.MsoNormal{margin:0cm;font-family:"Calibri",sans-serif;}</style></head><body><div class="WordSection1">` + "\r\n")
		for _, p := range strings.Split(text, "\n\n") {
			fmt.Fprintf(&h, "<p class=\"MsoNormal\"><span style=\"color:#1F3864\">%s</span></p>\r\n", p)
		}
		for b.Len()+h.Len()*5/4 < 8000 {
			fmt.Fprintf(&h, "<p class=\"MsoNormal\"><span style=\"color:gray\">%s</span></p>\r\n", benchSentences[rnd.IntN(len(benchSentences))])
		}
		h.WriteString("</div></body></html>")
		writeQPTo(&b, h.String())
		fmt.Fprintf(&b, "\r\n--=_alt_%d--\r\n", i)
	case benchJP:
		b.WriteString("Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
		enc := japanese.ISO2022JP.NewEncoder()
		for n := 0; n < 2400; {
			s := benchJPSentences[rnd.IntN(len(benchJPSentences))]
			line, err := enc.String(s)
			if err != nil {
				panic(err) // the sentences are JIS X 0208
			}
			b.WriteString(line + "\r\n")
			n += len(s)
		}
	case benchAttach:
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"=_mix_%d\"\r\n\r\n", i)
		fmt.Fprintf(&b, "--=_mix_%d\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", i)
		writeLines(&b, benchText(rnd, 800))
		fmt.Fprintf(&b, "\r\n--=_mix_%d\r\nContent-Type: application/zip; name=\"diagnostics-%d.zip\"\r\n"+
			"Content-Disposition: attachment; filename=\"diagnostics-%d.zip\"\r\n"+
			"Content-Transfer-Encoding: base64\r\n\r\n", i, i, i)
		b.Write(base64CRLF(randomBytes(uint64(i), 1<<20)))
		fmt.Fprintf(&b, "--=_mix_%d--\r\n", i)
	}
	return b.Bytes()
}

// benchBigMail is the 25 MiB mail of the peak RSS measure: a few lines of
// text and one random file of about 19 MB, base64.
func benchBigMail() []byte {
	var b bytes.Buffer
	benchHeader(&b, benchAttach, 0)
	b.WriteString("Content-Type: multipart/mixed; boundary=\"=_mix_0\"\r\n\r\n--=_mix_0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	writeLines(&b, benchText(rand.New(rand.NewPCG(7, 0)), 600))
	b.WriteString("\r\n--=_mix_0\r\nContent-Type: application/zip; name=\"full-logs.zip\"\r\n" +
		"Content-Disposition: attachment; filename=\"full-logs.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	const tail = "--=_mix_0--\r\n"
	lines := (25<<20 - b.Len() - len(tail)) / 78
	b.Write(base64CRLF(randomBytes(99, lines*57)))
	b.WriteString(tail)
	return b.Bytes()
}

func benchHeader(b *bytes.Buffer, k benchKind, i int) {
	sender := fmt.Sprintf("sender-%d@customer-%d.example", i, i%100)
	fmt.Fprintf(b, "Return-Path: <%s>\r\nReceived: from mx.customer-%d.example (mx.customer-%d.example [192.0.2.%d])\r\n"+
		"\tby mx.bench.example with ESMTPS id %08x\r\n\tfor <support@bench.example>; Mon, 2 Mar 2026 10:00:00 +0000\r\n",
		sender, i%100, i%100, i%250+1, i*7919)
	subject, name := "Instances unreachable after maintenance window", fmt.Sprintf("Customer %d", i)
	if k == benchJP {
		subject, name = benchWordJP("サーバーに接続できない"), benchWordJP("山田 太郎")
	}
	fmt.Fprintf(b, "From: %s <%s>\r\nTo: Support <support@bench.example>\r\nSubject: %s (bench-%d)\r\n"+
		"Date: Mon, 2 Mar 2026 10:00:00 +0000\r\nMessage-ID: <bench.%d@customer-%d.example>\r\nMIME-Version: 1.0\r\n",
		name, sender, subject, i, i, i%100)
}

// benchText returns about size bytes of support-request text.
func benchText(rnd *rand.Rand, size int) string {
	var s strings.Builder
	s.WriteString("Hello support team,\n\n")
	for s.Len() < size-60 {
		for range 2 + rnd.IntN(3) {
			s.WriteString(benchSentences[rnd.IntN(len(benchSentences))] + " ")
		}
		s.WriteString("\n\n")
	}
	s.WriteString("Best regards,\nOperations team\n")
	return s.String()
}

// writeLines writes text wrapped at 72 bytes, CRLF.
func writeLines(b *bytes.Buffer, text string) {
	for para := range strings.SplitSeq(text, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			if line != "" && len(line)+1+len(w) > 72 {
				b.WriteString(line + "\r\n")
				line = ""
			}
			line = strings.TrimPrefix(line+" "+w, " ")
		}
		b.WriteString(line + "\r\n")
	}
}

func writeQPTo(b *bytes.Buffer, s string) {
	w := quotedprintable.NewWriter(b)
	_, _ = w.Write([]byte(strings.ReplaceAll(s, "\n", "\r\n")))
	_ = w.Close()
}

func benchWordJP(s string) string {
	e, err := japanese.ISO2022JP.NewEncoder().String(s)
	if err != nil {
		panic(err)
	}
	return "=?ISO-2022-JP?B?" + base64.StdEncoding.EncodeToString([]byte(e)) + "?="
}

// randomBytes returns n incompressible bytes (like a zip) from seed.
func randomBytes(seed uint64, n int) []byte {
	var s [32]byte
	s[0] = byte(seed)
	data := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(data)
	return data
}

// base64CRLF encodes data in lines of 76 characters ending in CRLF.
func base64CRLF(data []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(data)
	out := make([]byte, 0, len(enc)+len(enc)/76*2+2)
	for len(enc) > 76 {
		out = append(append(out, enc[:76]...), '\r', '\n')
		enc = enc[76:]
	}
	return append(append(out, enc...), '\r', '\n')
}

var benchSentences = []string{
	"Since this morning around 09:40 UTC our production instances stopped answering health checks.",
	"We did not change anything in our configuration during the last week.",
	"About a third of the requests are affected, the others go through normally.",
	"Our monitoring shows the latency climbing from 80 ms to more than 4 seconds.",
	"Could you please check whether there is an ongoing issue in this region?",
	"Nous avons vérifié les règles du pare-feu et rien n'a été modifié récemment.",
	"Please let us know if you need a traceroute or packet capture from our side.",
}

var benchJPSentences = []string{
	"本日午前九時頃から、本番環境のサーバーに接続できない状態が続いております。",
	"設定は先週から一切変更しておりません。",
	"約三割のリクエストでエラーが発生しており、残りは正常に処理されています。",
	"このリージョンで障害が発生していないか確認していただけますでしょうか。",
}

// benchIntake is the Intake of BenchmarkPrepare, configured like the
// daemon's defaults.
func benchIntake() *Intake { return &Intake{MaxBytes: 25 << 20, AttachmentBytes: 5 << 20} }

// BenchmarkParse is Parse over the realistic mix (sub-benchmark "mix",
// one mail per iteration, reporting mails/s) and over each class alone.
func BenchmarkParse(b *testing.B) {
	benchEach(b, func(raw []byte) error {
		_, err := Parse(raw)
		return err
	})
}

// BenchmarkPrescan is the pre-scan alone over the same mail.
func BenchmarkPrescan(b *testing.B) {
	benchEach(b, func(raw []byte) error { return Prescan(raw, Limits{}) })
}

// BenchmarkPrepare is Intake.Prepare (size gate, pre-scan, Parse) over the
// same mail, and over the 25 MiB mail with a 19 MB attachment.
func BenchmarkPrepare(b *testing.B) {
	it := benchIntake()
	prepare := func(raw []byte) error {
		if p := it.Prepare(raw, Source{}); p.msg == nil {
			return fmt.Errorf("quarantined: %s", p.quarantine)
		}
		return nil
	}
	benchEach(b, prepare)
	b.Run("big_25mib", func(b *testing.B) {
		raw := benchBigMail()
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			if err := prepare(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchEach runs fn over the mix and over each class.
func benchEach(b *testing.B, fn func([]byte) error) {
	mix := benchMix()
	b.Run("mix", func(b *testing.B) { benchMails(b, mix, fn) })
	for k, name := range benchKindNames {
		b.Run(name, func(b *testing.B) { benchMails(b, [][]byte{benchMail(benchKind(k), 3)}, fn) })
	}
}

// benchMails runs fn over mails in turn, one per iteration, and reports
// the rate in mails/s.
func benchMails(b *testing.B, mails [][]byte, fn func([]byte) error) {
	var total int
	for _, m := range mails {
		total += len(m)
	}
	b.SetBytes(int64(total / len(mails)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if err := fn(mails[n%len(mails)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "mails/s")
}
