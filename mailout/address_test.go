package mailout

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestCheckAddress(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"alice@acme.example", true},
		{"first.last+tag@mail.acme-corp.example", true},
		{"o'brien@acme.example", true},
		{"x!#$%&'*+-/=?^_`{|}~@acme.example", true},
		{`"a@x> NOTIFY=NEVER"@y`, false},
		{`"alice"@acme.example`, false},
		{"<alice@acme.example>", false},
		{"Alice <alice@acme.example>", false},
		{"alice@acme.example (Alice)", false},
		{"al ice@acme.example", false},
		{"alice@acme.example\r\n", false},
		{"alice\x00@acme.example", false},
		{"a@acme.example,b@acme.example", false},
		{"alice@localhost", false},
		{"alice@[127.0.0.1]", false},
		{"alice@acme.example.", false},
		{"alice@-acme.example", false},
		{".alice@acme.example", false},
		{"al..ice@acme.example", false},
		{"alice@", false},
		{"@acme.example", false},
		{"alice", false},
		{"aliçe@acme.example", false},
		{"alice@bücher.example", false},
		{strings.Repeat("a", 65) + "@acme.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := checkAddress(tt.addr)
			if (err == nil) != tt.ok {
				t.Fatalf("checkAddress(%q) = %v, want ok=%v", tt.addr, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrBadAddress) {
				t.Errorf("error %v is not ErrBadAddress", err)
			}
		})
	}
}

func TestRecipientsAreEachSentOnce(t *testing.T) {
	rcpts, to, cc, err := recipients(
		[]string{"alice@acme.example", "ALICE@acme.example"},
		[]string{"bob@acme.example", "alice@acme.example", "carol@acme.example"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rcpts, []string{"alice@acme.example", "bob@acme.example", "carol@acme.example"}) ||
		!slices.Equal(to, []string{"alice@acme.example"}) ||
		!slices.Equal(cc, []string{"bob@acme.example", "carol@acme.example"}) {
		t.Errorf("rcpts %q, to %q, cc %q", rcpts, to, cc)
	}
}

func fieldsOf(v any) []string {
	var out []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		out = append(out, rt.Field(i).Name)
	}
	return out
}
