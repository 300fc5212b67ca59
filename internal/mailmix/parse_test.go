package mailmix_test

// These tests parse the generated mail with message: from this external
// test package, as mailmix itself must not import message (message's
// benchmarks import mailmix).

import (
	"bytes"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/internal/mailmix"
	"github.com/postdesk/postdesk/message"
)

func TestMixParses(t *testing.T) {
	g := mailmix.New(7, "test")
	seen := map[mailmix.Kind]bool{}
	for i := 0; len(seen) < int(mailmix.NumKinds); i++ {
		k := g.Kind(i)
		if seen[k] {
			continue
		}
		seen[k] = true
		m, err := message.Parse(g.Mail("t", i))
		if err != nil {
			t.Fatalf("%s: Parse: %v", k, err)
		}
		if m.MessageID != g.MailID("t", i) || m.Text == "" {
			t.Errorf("%s: parsed Message-ID %q, text %d bytes", k, m.MessageID, len(m.Text))
		}
		switch k {
		case mailmix.ISO2022JP:
			if !strings.Contains(m.Text, "サポート") || !strings.ContainsAny(m.Subject, "ログイン請求書サーバー上限応答") {
				t.Errorf("Japanese mail decoded to subject %q, text %.60q", m.Subject, m.Text)
			}
		case mailmix.Attachment:
			if len(m.Attachments) != 1 || len(m.Attachments[0].Data) != mailmix.AttachmentBytes {
				t.Errorf("attachment mail parsed to %d files", len(m.Attachments))
			}
		case mailmix.Alternative:
			if m.HTML == "" {
				t.Error("alternative mail has no HTML")
			}
		}
	}
}

func TestAttachmentsDiffer(t *testing.T) {
	g := mailmix.New(1, "test")
	var files [][]byte
	for i := 0; len(files) < 2; i++ {
		if g.Kind(i) == mailmix.Attachment {
			m, err := message.Parse(g.Mail("t", i))
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, m.Attachments[0].Data)
		}
	}
	if bytes.Equal(files[0], files[1]) {
		t.Error("two attachments are identical: the store would deduplicate them")
	}
}

func TestBigMailParses(t *testing.T) {
	g := mailmix.New(1, "test")
	raw, file := g.BigMail("big", 3<<20)
	m, err := message.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 1 || len(m.Attachments[0].Data) != file {
		t.Errorf("big mail parsed to %d files, want one of %d bytes", len(m.Attachments), file)
	}
}
