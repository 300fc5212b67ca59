package mailmix

import (
	"bytes"
	"mime"
	"net/mail"
	"testing"
)

func TestMixIsExactPerBlock(t *testing.T) {
	g := New(7, "test")
	var count [NumKinds]int
	for i := range 2 * Block {
		count[g.Kind(i)]++
	}
	if want := [NumKinds]int{18, 18, 2, 2}; count != want {
		t.Errorf("kinds over two blocks = %v, want %v (45/45/5/5 %%)", count, want)
	}
}

func TestMailSizesAndTypes(t *testing.T) {
	g := New(7, "test")
	want := map[Kind]struct {
		min, max int
		ctype    string
	}{
		Plain:       {1800, 2600, "text/plain"},
		Alternative: {7500, 9000, "multipart/alternative"},
		ISO2022JP:   {1500, 3500, "text/plain"},
		Attachment:  {AttachmentBytes * 4 / 3, AttachmentBytes*4/3 + 40000, "multipart/mixed"},
	}
	seen := map[Kind]bool{}
	for i := 0; len(seen) < int(NumKinds); i++ {
		k := g.Kind(i)
		if seen[k] {
			continue
		}
		seen[k] = true
		raw := g.Mail("t", i)
		w := want[k]
		if len(raw) < w.min || len(raw) > w.max {
			t.Errorf("%s mail is %d bytes, want %d to %d", k, len(raw), w.min, w.max)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if ct, _, _ := mime.ParseMediaType(msg.Header.Get("Content-Type")); ct != w.ctype {
			t.Errorf("%s: Content-Type %s, want %s", k, ct, w.ctype)
		}
		if id := msg.Header.Get("Message-ID"); id != "<"+g.MailID("t", i)+">" {
			t.Errorf("%s: Message-ID %s, want <%s>", k, id, g.MailID("t", i))
		}
	}
}

func TestMailOfKind(t *testing.T) {
	g := New(7, "test")
	for i := range Block {
		if !bytes.Equal(dropTimes(g.Mail("t", i)), dropTimes(g.MailOfKind(g.Kind(i), "t", i))) {
			t.Errorf("mail %d differs from MailOfKind of its kind %s", i, g.Kind(i))
		}
	}
	for k := range NumKinds {
		msg, err := mail.ReadMessage(bytes.NewReader(g.MailOfKind(k, "t", 3)))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if ct, _, _ := mime.ParseMediaType(msg.Header.Get("Content-Type")); ct != map[Kind]string{
			Plain: "text/plain", Alternative: "multipart/alternative", ISO2022JP: "text/plain", Attachment: "multipart/mixed",
		}[k] {
			t.Errorf("MailOfKind(%s): Content-Type %s", k, ct)
		}
	}
}

// dropTimes removes the Received and Date times, the only bytes of a mail
// that are not fixed by the seed and the index.
func dropTimes(raw []byte) []byte {
	var out [][]byte
	for line := range bytes.SplitSeq(raw, []byte("\r\n")) {
		if bytes.HasPrefix(line, []byte("Date: ")) || bytes.HasPrefix(line, []byte("\tfor <")) {
			continue
		}
		out = append(out, line)
	}
	return bytes.Join(out, []byte("\r\n"))
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Plain: "plain_2k", Alternative: "alternative_8k",
		ISO2022JP: "iso2022jp", Attachment: "attachment_1mib", NumKinds: "Kind(4)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}

func TestBigMailSize(t *testing.T) {
	g := New(1, "test")
	raw, _ := g.BigMail("big", 3<<20)
	if len(raw) > 3<<20 || len(raw) < 3<<20-200 {
		t.Errorf("big mail is %d bytes, want just under %d", len(raw), 3<<20)
	}
}
