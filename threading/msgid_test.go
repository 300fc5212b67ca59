package threading

import (
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// testKey is the HMAC key of the tests (32 bytes).
var testKey = []byte("0123456789abcdef0123456789abcdef")

// seqReader is a deterministic nonce source: it yields the bytes 0, 1, 2, …
type seqReader struct{ next byte }

func (r *seqReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.next
		r.next++
	}
	return len(p), nil
}

// failingReader is a nonce source that always fails.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

// newTestIDs returns IDs for desk.example with testKey and a seqReader.
func newTestIDs(t testing.TB) *IDs {
	t.Helper()
	g, err := NewIDs(testKey, "desk.example", &seqReader{})
	if err != nil {
		t.Fatalf("NewIDs: %v", err)
	}
	return g
}

func TestNewIDs(t *testing.T) {
	tests := []struct {
		name    string
		key     []byte
		domain  string
		wantErr bool
	}{
		{"16-byte key is enough", []byte("0123456789abcdef"), "desk.example", false},
		{"15-byte key is too short", []byte("0123456789abcde"), "desk.example", true},
		{"nil key is too short", nil, "desk.example", true},
		{"single-label domain is a dot-atom", testKey, "localhost", false},
		{"upper-case domain is accepted", testKey, "Desk.Example", false},
		{"empty domain is refused", testKey, "", true},
		{"domain with a space is refused", testKey, "desk example", true},
		{"domain with surrounding space is refused", testKey, " desk.example", true},
		{"domain with leading dot is refused", testKey, ".desk.example", true},
		{"domain with trailing dot is refused", testKey, "desk.example.", true},
		{"domain with two dots in a row is refused", testKey, "desk..example", true},
		{"domain with an at sign is refused", testKey, "a@desk.example", true},
		{"domain literal is refused", testKey, "[192.0.2.1]", true},
		{"non-ASCII domain is refused", testKey, "bücher.example", true},
		{"domain with angle bracket is refused", testKey, "desk.example>", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := NewIDs(tt.key, tt.domain, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewIDs(%d-byte key, %q) error = %v, want error %v", len(tt.key), tt.domain, err, tt.wantErr)
			}
			if err == nil && g == nil {
				t.Fatal("NewIDs returned nil IDs without an error")
			}
		})
	}
}

func TestIDsNewIsStableWithDeterministicRandom(t *testing.T) {
	// Expected values computed independently (Python hmac/base64).
	g := newTestIDs(t)
	want := []struct {
		n  int64
		id string
	}{
		{1042, "pd.1042.0001020304050607.5p3oogro6id6woyiglxq@desk.example"},
		{7, "pd.7.08090a0b0c0d0e0f.cxg2ih4ousp7xcbqpxha@desk.example"},
	}
	for _, w := range want {
		if got := g.New(w.n); got != w.id {
			t.Errorf("New(%d) = %q, want %q", w.n, got, w.id)
		}
	}
}

func TestIDsNewShape(t *testing.T) {
	shape := regexp.MustCompile(`^pd\.[1-9][0-9]*\.[0-9a-f]{16}\.[a-z2-7]{20}@desk\.example$`)
	g, err := NewIDs(testKey, "Desk.EXAMPLE", nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	for _, n := range []int64{1, 42, 1042, 9223372036854775807} {
		for range 20 {
			id := g.New(n)
			if !shape.MatchString(id) {
				t.Fatalf("New(%d) = %q, not of the documented shape", n, id)
			}
			if seen[id] {
				t.Fatalf("New(%d) repeated %q", n, id)
			}
			seen[id] = true
			if got, ok := g.Case(id); !ok || got != n {
				t.Fatalf("Case(New(%d)) = %d, %v", n, got, ok)
			}
		}
	}
}

func TestIDsNewWithoutCase(t *testing.T) {
	g := newTestIDs(t)
	for _, n := range []int64{0, -5} {
		id := g.New(n)
		if !strings.HasPrefix(id, "pd.0.") {
			t.Errorf("New(%d) = %q, want a pd.0. id", n, id)
		}
		if g.Ours(id) {
			t.Errorf("New(%d) = %q verifies, want no case", n, id)
		}
	}
}

func TestIDsNewFallsBackWhenRandomFails(t *testing.T) {
	g, err := NewIDs(testKey, "desk.example", failingReader{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := g.New(3), g.New(3)
	if a == b {
		t.Errorf("New repeated %q after the random source failed", a)
	}
	if n, ok := g.Case(a); !ok || n != 3 {
		t.Errorf("Case(%q) = %d, %v; want 3, true", a, n, ok)
	}
}

func TestIDsCase(t *testing.T) {
	g := newTestIDs(t)
	id := g.New(1042) // pd.1042.0001020304050607.5p3oogro6id6woyiglxq@desk.example
	local := strings.TrimSuffix(id, "@desk.example")
	other, err := NewIDs([]byte("another key of 32 bytes length!!"), "desk.example", &seqReader{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		msgid string
		want  int64
		ok    bool
	}{
		{"bare id verifies", id, 1042, true},
		{"id in angle brackets verifies", "<" + id + ">", 1042, true},
		{"surrounding white space is ignored", " \t<" + id + ">\r\n", 1042, true},
		{"white space inside the brackets is ignored", "< " + id + " >", 1042, true},
		{"domain in upper case verifies", local + "@DESK.Example", 1042, true},
		{"other domain is refused", local + "@evil.example", 0, false},
		{"sub-domain is refused", local + "@mail.desk.example", 0, false},
		{"Kelvin sign look-alike domain is refused", local + "@des\u212a.example", 0, false},
		{"changed number is refused", strings.Replace(id, "pd.1042.", "pd.1043.", 1), 0, false},
		{"leading zero in the number is refused", strings.Replace(id, "pd.1042.", "pd.01042.", 1), 0, false},
		{"changed nonce is refused", strings.Replace(id, ".0001020304050607.", ".0001020304050608.", 1), 0, false},
		{"upper-case nonce is refused", strings.Replace(id, ".0001020304050607.", ".000102030405060A.", 1), 0, false},
		{"changed mac is refused", strings.Replace(id, "5p3oogro", "5p3oogrp", 1), 0, false},
		{"upper-case mac is refused", strings.Replace(id, "5p3oogro", "5P3OOGRO", 1), 0, false},
		{"truncated mac is refused", strings.Replace(id, "glxq@", "glx@", 1), 0, false},
		{"id made with another key is refused", other.New(1042), 0, false},
		{"missing prefix is refused", strings.TrimPrefix(id, "pd."), 0, false},
		{"negative number is refused", "pd.-5.0001020304050607.5p3oogro6id6woyiglxq@desk.example", 0, false},
		{"number past int64 is refused", "pd.99999999999999999999.0001020304050607.5p3oogro6id6woyiglxq@desk.example", 0, false},
		{"case zero is refused", g.New(0), 0, false},
		{"customer Message-ID is refused", "CAKx=ab+1234@mail.gmail.com", 0, false},
		{"empty is refused", "", 0, false},
		{"brackets alone are refused", "<>", 0, false},
		{"garbage is refused", "pd....@desk.example", 0, false},
		{"extra field is refused", local + ".x@desk.example", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := g.Case(tt.msgid)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Case(%q) = %d, %v; want %d, %v", tt.msgid, got, ok, tt.want, tt.ok)
			}
			if g.Ours(tt.msgid) != tt.ok {
				t.Errorf("Ours(%q) = %v, want %v", tt.msgid, !tt.ok, tt.ok)
			}
		})
	}
}

func TestIDsCaseIsSafeForConcurrentUse(t *testing.T) {
	g := newTestIDs(t)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				n := int64(w*100 + i + 1)
				if got, ok := g.Case(g.New(n)); !ok || got != n {
					errs <- "round trip failed"
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestIDsFindCase(t *testing.T) {
	g := newTestIDs(t)
	id7, id8, id9 := g.New(7), g.New(8), g.New(9)
	customer := "CAKx=ab+1234@mail.gmail.com"
	tests := []struct {
		name       string
		inReplyTo  []string
		references []string
		want       int64
		ok         bool
	}{
		{"our id in In-Reply-To", []string{id7}, nil, 7, true},
		{"In-Reply-To wins over References", []string{id7}, []string{id8}, 7, true},
		{"customer In-Reply-To falls back to References", []string{customer}, []string{id8}, 8, true},
		{"newest reference wins", nil, []string{id7, customer, id8}, 8, true},
		{"older reference when the newest is not ours", nil, []string{id9, customer}, 9, true},
		{"first valid In-Reply-To in order", []string{customer, id9, id7}, nil, 9, true},
		{"ids in angle brackets", []string{"<" + id7 + ">"}, nil, 7, true},
		{"whole References header in one element", nil, []string{"<" + id7 + "> <" + customer + ">\r\n <" + id8 + ">"}, 8, true},
		{"whole In-Reply-To header with a comment", []string{"<" + customer + "> (Alice's message of Monday) <" + id9 + ">"}, nil, 9, true},
		{"forged id is ignored", []string{strings.Replace(id7, "pd.7.", "pd.6.", 1)}, []string{id8}, 8, true},
		{"no ids", nil, nil, 0, false},
		{"only customer ids", []string{customer}, []string{"abc@example.net"}, 0, false},
		{"garbage", []string{"<<<>>>"}, []string{"(", ",,,"}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := g.FindCase(tt.inReplyTo, tt.references)
			if got != tt.want || ok != tt.ok {
				t.Errorf("FindCase(%q, %q) = %d, %v; want %d, %v", tt.inReplyTo, tt.references, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestNormalizeMessageID(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"bare id is unchanged", "abc@example.com", "abc@example.com"},
		{"angle brackets are removed", "<abc@example.com>", "abc@example.com"},
		{"white space is trimmed", " \t<abc@example.com>\r\n", "abc@example.com"},
		{"space inside brackets is trimmed", "< abc@example.com >", "abc@example.com"},
		{"domain is lower-cased", "<ABC@Mail.Example.COM>", "ABC@mail.example.com"},
		{"local part keeps its case", "<CAKx=Ab+Q@mail.gmail.com>", "CAKx=Ab+Q@mail.gmail.com"},
		{"last at sign splits", `<"a@b"@Example.COM>`, `"a@b"@example.com`},
		{"missing closing bracket", "<abc@EXAMPLE.com", "abc@example.com"},
		{"missing opening bracket", "abc@EXAMPLE.com>", "abc@example.com"},
		{"only one pair of brackets is removed", "<<abc@example.com>>", "<abc@example.com>"},
		{"id without at sign is kept", "<12345.ABC>", "12345.ABC"},
		{"empty stays empty", "", ""},
		{"brackets alone give empty", "<>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalizeMessageID(tt.in); got != tt.want {
				t.Errorf("NormalizeMessageID(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseMessageIDs(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   []string
	}{
		{"single id", "<abc@example.com>", []string{"abc@example.com"}},
		{"comments inside an obsolete id (RFC 5322 A.6.3)", "<1234   @   local(blah)  .machine .example>",
			[]string{"1234@local.machine.example"}},
		{"References from Gmail", "<CAKx1@mail.gmail.com> <CAKx2@mail.gmail.com>",
			[]string{"CAKx1@mail.gmail.com", "CAKx2@mail.gmail.com"}},
		{"folded References", "<a1@example.com>\r\n <a2@example.com>\r\n\t<a3@example.com>",
			[]string{"a1@example.com", "a2@example.com", "a3@example.com"}},
		{"Outlook ids without separator", "<AM0PR01MB1234.eurprd01.prod.exchangelabs.com@AM0PR01MB1234.EURPRD01.PROD.OUTLOOK.COM><B@x.example>",
			[]string{"AM0PR01MB1234.eurprd01.prod.exchangelabs.com@am0pr01mb1234.eurprd01.prod.outlook.com", "B@x.example"}},
		{"domain is lower-cased", "<abc@EXAMPLE.com>", []string{"abc@example.com"}},
		{"duplicates removed", "<a@x.example> <b@x.example> <a@X.EXAMPLE>", []string{"a@x.example", "b@x.example"}},
		{"comment is skipped", "<a@x.example> (Alice's message of \"Mon, 3 Feb\") <b@x.example>",
			[]string{"a@x.example", "b@x.example"}},
		{"nested comment is skipped", "(outer (inner <c@x.example>) still) <a@x.example>", []string{"a@x.example"}},
		{"comment with quoted parenthesis", `(a \) b <c@x.example>) <a@x.example>`, []string{"a@x.example"}},
		{"unclosed comment runs to the end", "<a@x.example> (oops <b@x.example>", []string{"a@x.example"}},
		{"ids without brackets separated by spaces", "a@x.example b@x.example", []string{"a@x.example", "b@x.example"}},
		{"ids without brackets separated by commas", "a@x.example,b@x.example, c@x.example", []string{"a@x.example", "b@x.example", "c@x.example"}},
		{"ids with brackets separated by commas", "<a@x.example>, <b@x.example>", []string{"a@x.example", "b@x.example"}},
		{"id folded in the middle", "<a1234567890@\r\n x.example>", []string{"a1234567890@x.example"}},
		{"id missing its closing bracket before the next", "<a@x.example <b@x.example>", []string{"a@x.example", "b@x.example"}},
		{"id missing its closing bracket at the end", "<a@x.example> <b@x.ex", []string{"a@x.example", "b@x.ex"}},
		{"bracketed id without at sign", "<12345.67890>", []string{"12345.67890"}},
		{"bare word without at sign is skipped", "Re: hello <a@x.example>", []string{"a@x.example"}},
		{"bare at sign alone is skipped", "@ a@ @b <c@x.example>", []string{"c@x.example"}},
		{"In-Reply-To with a display phrase", `"Alice" <a@x.example>`, []string{"a@x.example"}},
		{"quoted phrase with brackets is skipped", `"<not an id>" <a@x.example>`, []string{"a@x.example"}},
		{"quoted phrase with escaped quote is skipped", `"say \"<b@x>\"" <a@x.example>`, []string{"a@x.example"}},
		{"unclosed quoted phrase runs to the end", `<a@x.example> "oops <b@x.example>`, []string{"a@x.example"}},
		{"removed space cannot join invalid bytes into a space", "<a\xc2 \xa0b@x.example>", []string{"a\ufffd\ufffdb@x.example"}},
		{"stray closing bracket", "a@x.example> >", []string{"a@x.example"}},
		{"empty header", "", nil},
		{"white space only", " \r\n\t ", nil},
		{"empty brackets", "<> < >", nil},
		{"garbage", "<<<>>>,,,(((", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseMessageIDs(tt.header)
			if !equalStrings(got, tt.want) {
				t.Errorf("ParseMessageIDs(%q) = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}

// equalStrings reports whether a and b hold the same strings in the same
// order; nil and empty are different so that "gives nil" is checked.
func equalStrings(a, b []string) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
