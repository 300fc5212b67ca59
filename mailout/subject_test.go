package mailout

import (
	"bytes"
	"mime"
	"net/mail"
	"strings"
	"testing"

	gomail "github.com/wneessen/go-mail"
)

func TestSubjectKeepsTheTagInPlainASCII(t *testing.T) {
	for _, subject := range []string{
		"[Case #7] 障害報告：サーバーが応答しません",
		"Re: [Case #1042] Répartiteur de charge injoignable depuis 9 h, toujours pas de réponse du support",
		"返信: [Case #3] 請求書",
		"[Case #9] looks like =?UTF-8?q?x?= but is text, ünïcödé",
		"[Case #12] plain ASCII only",
	} {
		t.Run(subject, func(t *testing.T) {
			m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
			setSubject(m, subject)
			var b bytes.Buffer
			if _, err := m.WriteTo(&b); err != nil {
				t.Fatal(err)
			}
			head, _, _ := strings.Cut(b.String(), "\r\n\r\n")
			raw := ""
			for _, l := range strings.Split(head, "\r\n") {
				if len(l) > 78 {
					t.Errorf("header line of %d characters: %q", len(l), l)
				}
				if strings.HasPrefix(l, "Subject: ") {
					raw = l
				} else if raw != "" && strings.HasPrefix(l, " ") && !strings.Contains(raw, "\n") {
					raw += "\n" + l
				}
			}
			tag := subject[strings.Index(subject, "[Case") : strings.Index(subject, "]")+1]
			if !strings.Contains(raw, tag) {
				t.Errorf("the raw Subject %q lacks the plain tag %q", raw, tag)
			}
			msg, err := mail.ReadMessage(strings.NewReader(b.String()))
			if err != nil {
				t.Fatal(err)
			}
			got, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			if err != nil || got != subject {
				t.Errorf("Subject decodes to %q, %v; want %q", got, err, subject)
			}
		})
	}
}
