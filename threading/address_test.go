package threading

import "testing"

func TestAddressKey(t *testing.T) {
	tests := []struct {
		name string
		addr string
		want string
	}{
		{"plain address is unchanged", "lee@example.com", "lee@example.com"},
		{"domain is lower-cased", "lee@Example.COM", "lee@example.com"},
		{"ASCII letters of the local part are lower-cased", "Lee.Chen@example.com", "lee.chen@example.com"},
		{"surrounding white space is trimmed", " \t lee@example.com\r\n", "lee@example.com"},
		{"angle brackets are trimmed", "<lee@example.com>", "lee@example.com"},
		{"white space inside the brackets is trimmed", "< Lee@Example.com >", "lee@example.com"},
		{"trailing root dot of the domain is removed", "lee@example.com.", "lee@example.com"},
		{"root dot inside the brackets is removed", "<lee@EXAMPLE.com.>", "lee@example.com"},
		{"two trailing dots are kept", "lee@example.com..", "lee@example.com.."},
		{"dot at the end of a local part without domain is kept", "lee.", "lee."},
		{"split at the last at sign", `"A@B"@Example.com`, `"a@b"@example.com`},
		{"plus-tag is kept", "Eve+1@example.com", "eve+1@example.com"},
		{"non-ASCII letters of the local part keep their case", "Ärger@example.com", "Ärger@example.com"},
		{"an internationalised domain becomes its A-label", "Ärger@Bücher.example", "Ärger@xn--bcher-kva.example"},
		{"Kelvin sign is not folded to k", "\u212aim@example.com", "\u212aim@example.com"},
		{"long s is not folded to s", "\u017fam@example.com", "\u017fam@example.com"},
		{"Kelvin sign in the domain is not folded", "lee@example.\u212az", "lee@example.xn--z-3wn"},
		{"no-break space is trimmed as white space", "\u00a0lee@example.com\u00a0", "lee@example.com"},
		{"invalid UTF-8 is kept", "\xffLee@example.com", "\xfflee@example.com"},
		{"address without at sign is lower-cased", "Postmaster", "postmaster"},
		{"empty gives empty", "", ""},
		{"brackets alone give empty", " <> ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AddressKey(tt.addr); got != tt.want {
				t.Errorf("AddressKey(%q) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}

func TestAddressKeyMatches(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"ASCII case does not matter", "Lee@Example.com", "lee@example.COM", true},
		{"display brackets do not matter", "<lee@example.com>", "lee@example.com", true},
		{"Kelvin sign does not match k", "\u212aim@example.com", "kim@example.com", false},
		{"Kelvin sign does not match K", "\u212aim@example.com", "Kim@example.com", false},
		{"long s does not match s", "\u017fam@example.com", "sam@example.com", false},
		{"dotless i does not match i", "l\u0131nda@example.com", "linda@example.com", false},
		{"plus-tag is another address", "eve+1@example.com", "eve@example.com", false},
		{"sub-domain is another address", "lee@mail.example.com", "lee@example.com", false},
		{"U-label and A-label are one domain", "lee@bücher.example", "lee@XN--BCHER-KVA.example", true},
		{"Kelvin sign in the domain does not match k", "agent@des\u212a.example", "agent@desk.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if same := AddressKey(tt.a) == AddressKey(tt.b); same != tt.same {
				t.Errorf("AddressKey(%q) == AddressKey(%q) is %v, want %v", tt.a, tt.b, same, tt.same)
			}
		})
	}
}
