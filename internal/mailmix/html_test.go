package mailmix

import (
	"bytes"
	"testing"
)

func TestHTMLMailSizeAndType(t *testing.T) {
	g := New(1, "test")
	raw := g.HTMLMail("bightml", 3<<20)
	if len(raw) > 3<<20 || len(raw) < 3<<20-4096 {
		t.Errorf("HTML mail is %d bytes, want just under %d", len(raw), 3<<20)
	}
	for _, want := range []string{"Content-Type: text/html; charset=utf-8\r\n", "<table class=3D\"report\"", "</html>"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("HTML mail lacks %q", want)
		}
	}
	if !bytes.Equal(raw[bytes.Index(raw, []byte("\r\n\r\n")):], g.HTMLMail("bightml", 3<<20)[bytes.Index(raw, []byte("\r\n\r\n")):]) {
		t.Error("the body is not deterministic")
	}
}
