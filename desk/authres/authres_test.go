package authres

import (
	"strings"
	"testing"
)

func TestDMARC(t *testing.T) {
	const ours = "mx.example.com"
	tests := []struct {
		name    string
		headers []string
		id      string
		want    string
	}{
		{"our MTA's result", []string{"mx.example.com; spf=pass smtp.mailfrom=x; dmarc=fail header.from=acme.example"}, ours, "fail"},
		{"the result is lower-cased and ends at a space", []string{"mx.example.com; DMARC=Pass (p=reject) header.from=example.com"}, ours, "pass"},
		{"the authserv-id matches without case, with a version after it", []string{"MX.Example.COM 1; dmarc=fail"}, ours, "fail"},
		{"no authserv-id trusts no header", []string{"mx.example.com; dmarc=pass"}, "", ""},
		{"no header proves nothing", nil, ours, ""},
		{"a header of another id is the sender's word", []string{"evil.example; dmarc=pass", "mx.example.com; dmarc=fail"}, ours, ""},
		{"only the topmost result of ours counts", []string{"mx.example.com; dmarc=pass", "mx.example.com; dmarc=fail"}, ours, "pass"},
		{"a header of ours without dmarc leaves it to the next", []string{"mx.example.com; spf=pass", "mx.example.com; dmarc=fail"}, ours, "fail"},
		{"a result in a comment counts for nothing", []string{"mx.example.com; spf=pass (dmarc=pass)"}, ours, ""},
		{"an empty result is no result", []string{"mx.example.com; dmarc="}, ours, ""},
		{"a blank result is no result", []string{"mx.example.com; dmarc= \t; spf=pass"}, ours, ""},
		{"nested comments are dropped whole", []string{"mx.example.com; spf=none (a (b) dmarc=pass)"}, ours, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DMARC(tt.headers, tt.id); got != tt.want {
				t.Errorf("DMARC(%q, %q) = %q, want %q", tt.headers, tt.id, got, tt.want)
			}
		})
	}
}

// FuzzDMARC: any header, trusted or not, gives a result without panicking,
// and the result is one lower-case word.
func FuzzDMARC(f *testing.F) {
	for _, seed := range []string{"mx.example.com; dmarc=pass", "mx.example.com; dmarc=", "mx.example.com; dmarc=(x)",
		"mx.example.com; spf=pass (a (b) c", "mx.example.com", ";", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		got := DMARC([]string{h, h}, "mx.example.com")
		if got != strings.ToLower(got) || strings.ContainsAny(got, " \t\r\n") {
			t.Errorf("DMARC(%q) = %q, not one lower-case word", h, got)
		}
	})
}
