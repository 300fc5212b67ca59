package templates

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// evil stands for words a stranger wrote: DESIGN §14 says they go nowhere.
const evil = "EVIL-WORDS"

// spoken are the View fields a contact mail may print: the requester's
// address and display name, the tag, and what the desk says about itself.
var spoken = map[string]bool{
	"Case": true, "Tag": true, "Requester": true, "RequesterName": true, "DeskName": true, "DeskAddress": true,
}

// strangersView is a View of a contact mail whose Subject, Body, Service,
// Resolution and Reason, and every other text field but those in spoken
// (list elements and the fields of listed structs too), hold evil.
func strangersView(name string) View {
	v := testView()
	v.Subject, v.Body, v.Service, v.Resolution, v.Reason = evil, evil, evil, evil, evil
	v.RequesterName = name
	rv := reflect.ValueOf(&v).Elem()
	for i := range rv.NumField() {
		if !spoken[rv.Type().Field(i).Name] {
			fillText(rv.Field(i))
		}
	}
	return v
}

// fillText sets every string reachable from v (through slices and struct
// fields, an empty slice given one element) to evil.
func fillText(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(evil)
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		}
		for i := range v.Len() {
			fillText(v.Index(i))
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range v.NumField() {
			fillText(v.Field(i))
		}
	}
}

func TestContactMailCarriesNoWordOfTheSender(t *testing.T) {
	s := mustNew(t, "")
	for _, lang := range Languages() {
		for _, name := range []string{"Alice Martin", ""} {
			t.Run(lang+"/name "+name, func(t *testing.T) {
				if got := s.Resolve(lang, "contact"); got != lang {
					t.Fatalf("Resolve(%q, contact) = %q: the language has no own template", lang, got)
				}
				v := strangersView(name)
				if v.Subject != evil || v.Body != evil || v.Service != evil || v.Resolution != evil || v.Reason != evil ||
					v.ContactsRefused[0].Reason != evil || v.Commands[0].Line != evil {
					t.Fatalf("the view does not hold the marker: %+v", v)
				}
				subject, body, err := s.Render(lang, "contact", v)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(subject, evil) || strings.Contains(body, evil) {
					t.Errorf("the sender's words reached the mail:\n%s\n%s", subject, body)
				}
				if !strings.HasPrefix(subject, "[Case #1042] ") {
					t.Errorf("subject = %q, want the tag first", subject)
				}
				for _, want := range []string{"1042", "[Case #1042]", person(name, "alice@acme.example"), "DESK-NAME"} {
					if !strings.Contains(body, want) {
						t.Errorf("body lacks %q:\n%s", want, body)
					}
				}
			})
		}
	}
}

func TestConfirmationCountsInvalidAddresses(t *testing.T) {
	s := mustNew(t, "")
	want := map[string][]string{
		"en": {"1 entry in Cc was not a valid address and was left out.",
			"2 entries in Cc were not valid addresses and were left out."},
		"fr": {"Une entrée du champ Cc n'était pas une adresse valide et n'a pas été prise en compte.",
			"2 entrées du champ Cc n'étaient pas des adresses valides et n'ont pas été prises en compte."},
		"ja": {"Cc欄の1件は有効なメールアドレスではなかったため、ケースには追加いたしませんでした。",
			"Cc欄の2件は有効なメールアドレスではなかったため、ケースには追加いたしませんでした。"},
	}
	for _, lang := range Languages() {
		for i, sentence := range want[lang] {
			n := i + 1
			t.Run(fmt.Sprintf("%s/%d invalid entries are one sentence", lang, n), func(t *testing.T) {
				v := testView()
				v.InvalidAddresses = n
				_, body, err := s.Render(lang, "confirmation", v)
				if err != nil {
					t.Fatal(err)
				}
				v.InvalidAddresses = 0
				_, without, _ := s.Render(lang, "confirmation", v)
				if !strings.Contains(body, "\n\n"+sentence+"\n") {
					t.Errorf("body lacks the paragraph %q:\n%s", sentence, body)
				}
				if got := strings.Replace(body, "\n\n"+sentence, "", 1); got != without {
					t.Errorf("the count changed more than its own paragraph:\n%s", body)
				}
			})
		}
	}
}
