package message

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// filenameProblem says which rule of SafeFilename name breaks, "" if none.
func filenameProblem(name string) string {
	switch {
	case name == "" || name == "." || name == "..":
		return "empty or dots"
	case !utf8.ValidString(name):
		return "not UTF-8"
	case len(name) > maxFilenameBytes:
		return "longer than 255 bytes"
	case strings.ContainsAny(name, `/\`):
		return "directory separator"
	case strings.HasPrefix(name, "."):
		return "leading dot"
	case strings.TrimSpace(name) != name:
		return "surrounding space"
	case strings.ContainsFunc(name, unsafeFilenameRune):
		return "control or format character"
	case !norm.NFC.IsNormalString(name):
		return "not NFC"
	}
	return ""
}

func TestSafeFilename(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	tests := []struct {
		name, in, contentType, want string
	}{
		{"plain name kept", "report 2025.pdf", "application/pdf", "report 2025.pdf"},
		{"unix path stripped", "../../etc/passwd", "", "passwd"},
		{"windows path stripped", `C:\Users\bob\..\invoice.doc`, "", "invoice.doc"},
		{"RTLO override removed", "invoice\u202Egpj.exe", "", "invoicegpj.exe"},
		{"bidi isolates and marks removed", "a\u2066b\u2069c\u200Ed\u200Fe", "", "abcde"},
		{"zero-width and BOM removed", "\uFEFFa\u200Bb\u200Cc\u200Dd", "", "abcd"},
		{"NUL and C0 removed", "nul\x00byte\x01.txt", "", "nulbyte.txt"},
		{"DEL and C1 removed", "a\x7fb\u0085c\u009b.txt", "", "abc.txt"},
		{"line separator removed", "a\u2028b.txt", "", "ab.txt"},
		{"NFC", "cafe\u0301.txt", "", "café.txt"},
		{"leading dots and spaces trimmed", "  ...hidden.txt  ", "", "hidden.txt"},
		{"dot-dot becomes fallback", "..", "image/png", "image.png"},
		{"dot becomes fallback", ".", "text/html", "document.html"},
		{"empty becomes fallback by type", "", "message/rfc822", "message.eml"},
		{"unknown application type", "", "application/x-thing", "attachment.bin"},
		{"no type at all", "", "", "file"},
		{"type with parameters", "", "Image/JPEG; name=x", "image.jpg"},
		{"only a directory", "dir/", "application/pdf", "attachment.pdf"},
		{"invalid UTF-8 replaced", "a\xffb.txt", "", "a_b.txt"},
		{"long name keeps its extension", strings.Repeat("a", 300) + ".pdf", "", strings.Repeat("a", 251) + ".pdf"},
		{"long name cut on a rune boundary", long + ".txt", "", strings.Repeat("é", 125) + ".txt"},
		{"long extension is not kept", "a." + strings.Repeat("b", 300), "", "a." + strings.Repeat("b", 253)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SafeFilename(tt.in, tt.contentType)
			if got != tt.want {
				t.Errorf("SafeFilename(%q, %q) = %q, want %q", tt.in, tt.contentType, got, tt.want)
			}
			if p := filenameProblem(got); p != "" {
				t.Errorf("SafeFilename(%q) = %q: %s", tt.in, got, p)
			}
			if again := SafeFilename(got, tt.contentType); again != got {
				t.Errorf("SafeFilename is not idempotent: %q then %q", got, again)
			}
		})
	}
}

func TestUnsafeFilenameRune(t *testing.T) {
	for _, r := range []rune{0, '\t', 0x7f, 0x85, 0x9f, 0x200b, 0x200e, 0x202a, 0x202e, 0x2066, 0x2069, 0xfeff, 0xe0001} {
		if !unsafeFilenameRune(r) {
			t.Errorf("U+%04X allowed in file names", r)
		}
	}
	for _, r := range []rune{'a', ' ', '.', '-', 'é', '日', '\uFFFD', unicode.MaxRune} {
		if unsafeFilenameRune(r) {
			t.Errorf("U+%04X refused in file names", r)
		}
	}
}

func FuzzSafeFilename(f *testing.F) {
	for _, s := range []string{"../x", "a\u202Eb", ".", strings.Repeat("ü", 200) + ".tar.gz", "\xff\xfe"} {
		f.Add(s, "image/png")
	}
	f.Fuzz(func(t *testing.T, name, contentType string) {
		got := SafeFilename(name, contentType)
		if p := filenameProblem(got); p != "" {
			t.Fatalf("SafeFilename(%q, %q) = %q: %s", name, contentType, got, p)
		}
		if again := SafeFilename(got, contentType); again != got {
			t.Fatalf("not idempotent: %q then %q", got, again)
		}
	})
}

func TestContentTypeIsSniffed(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	zip := []byte("PK\x03\x04\x14\x00\x06\x00")
	tests := []struct {
		name, declared string
		data           []byte
		want           string
	}{
		{"a script disguised as an image is html", "image/png", []byte("<html><script>alert(1)</script>"), "text/html"},
		{"an undeclared png", "application/octet-stream", png, "image/png"},
		{"an image under another image type keeps the declared name", "image/jpg", png, "image/jpg"},
		{"xml disguised as a pdf is xml", "application/pdf", []byte("<?xml version=\"1.0\"?><x/>"), "text/xml"},
		{"a docx stays a docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", zip,
			"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"a csv stays a csv", "text/csv", []byte("a,b\n1,2\n"), "text/csv"},
		{"unknown bytes keep the declared type", "application/x-custom", []byte{0, 1, 2, 3}, "application/x-custom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := contentType(tt.declared, tt.data); got != tt.want {
				t.Errorf("contentType(%q) = %q, want %q", tt.declared, got, tt.want)
			}
		})
	}
}

// TestRawHeaderBytesDecodeTheSameEveryTime parses a header with raw 8-bit
// bytes many times: chardet runs its recognisers concurrently, and equal
// confidences must not let the arrival order pick the charset.
func TestRawHeaderBytesDecodeTheSameEveryTime(t *testing.T) {
	raw := []byte("From: a@b.exa\x8dple\r\nSubject: r\xe9sum\xe9 \x8d\r\n\r\nbody\r\n")
	first, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	for range 300 {
		m, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if m.From != first.From || m.Subject != first.Subject || !slices.Equal(m.Defects, first.Defects) {
			t.Fatalf("parse gave From %q Subject %q Defects %q, first time %q %q %q",
				m.From, m.Subject, m.Defects, first.From, first.Subject, first.Defects)
		}
	}
}
