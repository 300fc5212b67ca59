package threading

import (
	"regexp"
	"strings"
	"testing"
)

func TestIDsNewForIsStableWithDeterministicRandom(t *testing.T) {
	// Expected values computed independently (Python hmac/base64).
	g := newTestIDs(t)
	want := []struct {
		n, msg    int64
		recipient string
		id        string
	}{
		{7, 42, "Lee@Example.com", "pd.7.0001020304050607.qucbuxp7x54rxkqips5a.42.jgmswilokmftdmj5fgoa@desk.example"},
		{1042, 0, "<alice@acme.example>", "pd.1042.08090a0b0c0d0e0f.whx7xf7wm6e7uopvqyjq.0.jbnajbeeqd2evfmv226q@desk.example"},
	}
	for _, w := range want {
		if got := g.NewFor(w.n, w.msg, w.recipient); got != w.id {
			t.Errorf("NewFor(%d, %d, %q) = %q, want %q", w.n, w.msg, w.recipient, got, w.id)
		}
	}
}

func TestIDsNewForShape(t *testing.T) {
	shape := regexp.MustCompile(`^pd\.(0|[1-9][0-9]*)\.[0-9a-f]{16}\.[a-z2-7]{20}\.(0|[1-9][0-9]*)\.[a-z2-7]{20}@desk\.example$`)
	g := newTestIDs(t)
	tests := []struct {
		name   string
		n, msg int64
		prefix string
	}{
		{"case and message", 7, 42, "pd.7."},
		{"no message is 0", 7, 0, "pd.7."},
		{"negative message is 0", 7, -3, "pd.7."},
		{"largest numbers", 9223372036854775807, 9223372036854775807, "pd.9223372036854775807."},
		{"no case is 0", 0, 42, "pd.0."},
		{"negative case is 0", -1, 42, "pd.0."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := g.NewFor(tt.n, tt.msg, "lee@example.com")
			if !shape.MatchString(id) || !strings.HasPrefix(id, tt.prefix) {
				t.Fatalf("NewFor(%d, %d) = %q, not of the documented shape", tt.n, tt.msg, id)
			}
			if tt.msg <= 0 && !strings.Contains(id, ".0.") {
				t.Errorf("NewFor(%d, %d) = %q, want message 0", tt.n, tt.msg, id)
			}
		})
	}
}

func TestIDsSentTo(t *testing.T) {
	g := newTestIDs(t)
	id := g.NewFor(7, 42, "lee@example.com") // pd.7.0001020304050607.qucbuxp7x54rxkqips5a.42.jgmswilokmftdmj5fgoa@desk.example
	local := strings.TrimSuffix(id, "@desk.example")
	id8 := g.NewFor(8, 42, "lee@example.com")
	caseOf8, rmacOf7 := id8[:strings.Index(id8, ".42.")], id[strings.Index(id, ".42."):]
	other, err := NewIDs([]byte("another key of 32 bytes length!!"), "desk.example", &seqReader{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		msgid     string
		recipient string
		n, msg    int64
		ok        bool
	}{
		{"round trip", id, "lee@example.com", 7, 42, true},
		{"id in angle brackets with white space", " <" + id + ">\r\n", "lee@example.com", 7, 42, true},
		{"domain in upper case", local + "@DESK.example", "lee@example.com", 7, 42, true},
		{"recipient in another ASCII case", id, "Lee@EXAMPLE.com", 7, 42, true},
		{"recipient with angle brackets", id, "<lee@example.com>", 7, 42, true},
		{"message 0 round trips", g.NewFor(9, 0, "lee@example.com"), "lee@example.com", 9, 0, true},
		{"another recipient is refused", id, "kim@example.com", 0, 0, false},
		{"recipient with a plus-tag is refused", id, "lee+x@example.com", 0, 0, false},
		{"recipient on another domain is refused", id, "lee@example.net", 0, 0, false},
		{"Kelvin-sign look-alike recipient is refused", g.NewFor(7, 42, "kim@example.com"), "\u212aim@example.com", 0, 0, false},
		{"id made for the Kelvin-sign look-alike is refused", g.NewFor(7, 42, "\u212aim@example.com"), "kim@example.com", 0, 0, false},
		{"empty recipient is refused", g.NewFor(7, 42, ""), "", 0, 0, false},
		{"changed message is refused", strings.Replace(id, ".42.", ".43.", 1), "lee@example.com", 0, 0, false},
		{"leading zero in the message is refused", strings.Replace(id, ".42.", ".042.", 1), "lee@example.com", 0, 0, false},
		{"negative message is refused", strings.Replace(id, ".42.", ".-42.", 1), "lee@example.com", 0, 0, false},
		{"changed case is refused", strings.Replace(id, "pd.7.", "pd.8.", 1), "lee@example.com", 0, 0, false},
		{"recipient MAC moved to another case is refused", caseOf8 + rmacOf7, "lee@example.com", 0, 0, false},
		{"changed nonce is refused", strings.Replace(id, ".0001020304050607.", ".0001020304050608.", 1), "lee@example.com", 0, 0, false},
		{"changed recipient MAC is refused", strings.Replace(id, "jgmswilo", "jgmswilp", 1), "lee@example.com", 0, 0, false},
		{"upper-case recipient MAC is refused", strings.Replace(id, "jgmswilo", "JGMSWILO", 1), "lee@example.com", 0, 0, false},
		{"truncated recipient MAC is refused", strings.Replace(id, "fgoa@", "fgo@", 1), "lee@example.com", 0, 0, false},
		{"missing recipient MAC is refused", local + ".@desk.example", "lee@example.com", 0, 0, false},
		{"extra field is refused", local + ".x@desk.example", "lee@example.com", 0, 0, false},
		{"id of New's shape is refused", g.New(7), "lee@example.com", 0, 0, false},
		{"id of no case is refused", g.NewFor(0, 42, "lee@example.com"), "lee@example.com", 0, 0, false},
		{"id made with another key is refused", other.NewFor(7, 42, "lee@example.com"), "lee@example.com", 0, 0, false},
		{"other domain is refused", local + "@evil.example", "lee@example.com", 0, 0, false},
		{"garbage is refused", "pd.7....42.@desk.example", "lee@example.com", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, msg, ok := g.SentTo(tt.msgid, tt.recipient)
			if n != tt.n || msg != tt.msg || ok != tt.ok {
				t.Errorf("SentTo(%q, %q) = %d, %d, %v; want %d, %d, %v", tt.msgid, tt.recipient, n, msg, ok, tt.n, tt.msg, tt.ok)
			}
		})
	}
}

func TestIDsCaseReadsNewForIDs(t *testing.T) {
	g := newTestIDs(t)
	id := g.NewFor(7, 42, "lee@example.com")
	local := strings.TrimSuffix(id, "@desk.example")
	tests := []struct {
		name  string
		msgid string
		want  int64
		ok    bool
	}{
		{"NewFor id gives its case", id, 7, true},
		{"NewFor id in angle brackets gives its case", "<" + id + ">", 7, true},
		{"NewFor id with message 0 gives its case", g.NewFor(1042, 0, "lee@example.com"), 1042, true},
		{"NewFor id of no case is refused", g.NewFor(0, 42, "lee@example.com"), 0, false},
		{"changed case MAC is refused", strings.Replace(id, "qucbuxp7", "qucbuxp6", 1), 0, false},
		{"message past int64 is refused", strings.Replace(id, ".42.", ".9223372036854775808.", 1), 0, false},
		{"message with leading zero is refused", strings.Replace(id, ".42.", ".00.", 1), 0, false},
		{"empty message is refused", strings.Replace(id, ".42.", "..", 1), 0, false},
		{"short recipient MAC is refused", local[:len(local)-1] + "@desk.example", 0, false},
		{"recipient MAC with a bad character is refused", local[:len(local)-1] + "1@desk.example", 0, false},
		{"seventh field is refused", local + ".aaaaaaaaaaaaaaaaaaaa@desk.example", 0, false},
		{"message without recipient MAC is refused", strings.TrimSuffix(local, local[strings.LastIndexByte(local, '.'):]) + "@desk.example", 0, false},
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
			if got, ok := g.FindCase(nil, []string{tt.msgid}); got != tt.want || ok != tt.ok {
				t.Errorf("FindCase(nil, [%q]) = %d, %v; want %d, %v", tt.msgid, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestIDsFindSentTo(t *testing.T) {
	g := newTestIDs(t)
	lee := "lee@example.com"
	toLee7, toLee8, toKim9 := g.NewFor(7, 70, lee), g.NewFor(8, 80, lee), g.NewFor(9, 90, "kim@example.com")
	plain := g.New(6)
	customer := "CAKx=ab+1234@mail.gmail.com"
	tests := []struct {
		name       string
		inReplyTo  []string
		references []string
		n, msg     int64
		ok         bool
	}{
		{"id sent to the recipient in In-Reply-To", []string{toLee7}, nil, 7, 70, true},
		{"In-Reply-To wins over References", []string{toLee7}, []string{toLee8}, 7, 70, true},
		{"newest reference wins", nil, []string{toLee7, customer, toLee8}, 8, 80, true},
		{"first valid In-Reply-To in order", []string{customer, toLee8, toLee7}, nil, 8, 80, true},
		{"id sent to another agent does not count", []string{toKim9}, []string{toLee7}, 7, 70, true},
		{"id of New's shape does not count", []string{plain}, []string{toLee8}, 8, 80, true},
		{"whole References header in one element", nil, []string{"<" + toLee7 + "> <" + customer + ">\r\n <" + toLee8 + "> <" + toKim9 + ">"}, 8, 80, true},
		{"whole In-Reply-To header with a comment", []string{"<" + customer + "> (Lee's message) <" + toLee7 + ">"}, nil, 7, 70, true},
		{"only ids sent to others", []string{toKim9}, []string{plain}, 0, 0, false},
		{"forged id is ignored", []string{strings.Replace(toLee7, ".70.", ".71.", 1)}, nil, 0, 0, false},
		{"no ids", nil, nil, 0, 0, false},
		{"garbage", []string{"<<<>>>"}, []string{"(", ",,,"}, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, msg, ok := g.FindSentTo(tt.inReplyTo, tt.references, "Lee@Example.com")
			if n != tt.n || msg != tt.msg || ok != tt.ok {
				t.Errorf("FindSentTo(%q, %q) = %d, %d, %v; want %d, %d, %v", tt.inReplyTo, tt.references, n, msg, ok, tt.n, tt.msg, tt.ok)
			}
		})
	}
	t.Run("Kelvin-sign look-alike of another agent does not count", func(t *testing.T) {
		if n, msg, ok := g.FindSentTo([]string{toKim9}, nil, "\u212aim@example.com"); ok {
			t.Errorf("FindSentTo(%q) for the look-alike of kim@ = %d, %d, %v; want no match", toKim9, n, msg, ok)
		}
	})
}
