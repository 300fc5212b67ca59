package threading

import "testing"

func TestNewTaggerWord(t *testing.T) {
	tests := []struct {
		name string
		word string
		want string
	}{
		{"empty word means Case", "", "Case"},
		{"configured word is kept", "Ticket", "Ticket"},
		{"surrounding white space is trimmed", "  Dossier \t", "Dossier"},
		{"inner white space becomes one space", "Support   Case", "Support Case"},
		{"blank word means Case", " \t ", "Case"},
		{"non-ASCII word is kept", "問い合わせ", "問い合わせ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewTagger(tt.word).Word(); got != tt.want {
				t.Errorf("NewTagger(%q).Word() = %q, want %q", tt.word, got, tt.want)
			}
		})
	}
	t.Run("zero Tagger uses Case", func(t *testing.T) {
		var z Tagger
		if got := z.Format(3); got != "[Case #3]" {
			t.Errorf("Tagger{}.Format(3) = %q, want %q", got, "[Case #3]")
		}
	})
}

func TestTaggerFormat(t *testing.T) {
	tests := []struct {
		name string
		word string
		n    int64
		want string
	}{
		{"default word", "", 1042, "[Case #1042]"},
		{"configured word", "Ticket", 7, "[Ticket #7]"},
		{"word with a space", "Support Case", 12, "[Support Case #12]"},
		{"largest case number", "", 9223372036854775807, "[Case #9223372036854775807]"},
		{"Japanese word", "問い合わせ", 5, "[問い合わせ #5]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewTagger(tt.word).Format(tt.n); got != tt.want {
				t.Errorf("Format(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func TestTaggerFind(t *testing.T) {
	tests := []struct {
		name    string
		word    string
		subject string
		want    int64
		ok      bool
	}{
		{"plain tag at the start", "", "[Case #1042] ELB unreachable", 1042, true},
		{"tag after Re prefix", "", "Re: [Case #1042] ELB unreachable", 1042, true},
		{"tag after a chain of prefixes", "", "RE: AW: Fwd: [Case #7] ELB down", 7, true},
		{"tag after Chinese reply prefix", "", "回复： [Case #88] 数据库连接失败", 88, true},
		{"tag at the end", "", "ELB unreachable [Case #1042]", 1042, true},
		{"tag in the middle", "", "Update on ELB [Case #55] from ops", 55, true},
		{"word in lower case", "", "Re: [case #12] x", 12, true},
		{"word in upper case", "", "Re: [CASE #12] x", 12, true},
		{"tag with extra spaces is found", "", "Re: [ case # 12 ] hello", 12, true},
		{"tag without space before number sign", "", "[Case#12] hello", 12, true},
		{"tag with tabs inside", "", "[Case\t#\t12]", 12, true},
		{"full-width brackets and number sign", "", "Re: ［Case ＃12］ 障害について", 12, true},
		{"full-width digits", "", "［Case ＃１２］", 12, true},
		{"full-width letters in the word", "", "［Ｃａｓｅ ＃12］", 12, true},
		{"ideographic spaces inside", "", "［　Case　＃　12　］", 12, true},
		{"lenticular brackets", "", "【Case #12】 至急", 12, true},
		{"leading zeros are read as the number", "", "[Case #0012] x", 12, true},
		{"largest int64", "", "[Case #9223372036854775807]", 9223372036854775807, true},
		{"first of two tags wins", "", "[Case #3] was [Case #4]", 3, true},
		{"invalid first tag is skipped", "", "[Case #0] then [Case #5]", 5, true},
		{"other bracket before the tag", "", "[EXTERNAL] Re: [Case #9] x", 9, true},
		{"configured word", "Ticket", "Re: [Ticket #12] x", 12, true},
		{"configured word with a space matches a run of spaces", "Support Case", "[support   case #4]", 4, true},
		{"Japanese word", "問い合わせ", "Re: ［問い合わせ ＃31］ 請求書", 31, true},
		{"French accented word ignores case", "Énigme", "[éNIGME #2]", 2, true},

		{"zero is not a tag", "", "[Case #0] x", 0, false},
		{"negative number is not a tag", "", "[Case #-3] x", 0, false},
		{"plus sign is not a tag", "", "[Case #+3] x", 0, false},
		{"number past int64 is not a tag", "", "[Case #99999999999999999999]", 0, false},
		{"one past the largest int64 is not a tag", "", "[Case #9223372036854775808]", 0, false},
		{"another word is not our tag", "", "[Ticket #12] x", 0, false},
		{"our word as a prefix of another word", "", "[Cases #12] x", 0, false},
		{"missing number sign", "", "[Case 12] x", 0, false},
		{"missing number", "", "[Case #] x", 0, false},
		{"missing closing bracket", "", "[Case #12 x", 0, false},
		{"text after the number", "", "[Case #12a] x", 0, false},
		{"two numbers", "", "[Case #12 13] x", 0, false},
		{"decimal number", "", "[Case #12.5] x", 0, false},
		{"no brackets", "", "Case #12 x", 0, false},
		{"empty subject", "", "", 0, false},
		{"lone bracket at the end", "", "x [", 0, false},
		{"default word does not match configured word", "Ticket", "[Case #12]", 0, false},
		{"invalid UTF-8 around a tag", "", "\xff[Case #6]\xfe", 6, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := NewTagger(tt.word).Find(tt.subject)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Find(%q) = %d, %v; want %d, %v", tt.subject, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestTaggerSubject(t *testing.T) {
	tests := []struct {
		name    string
		word    string
		n       int64
		subject string
		want    string
	}{
		{"prefixes and our tag are removed", "", 7, "Re: AW: [Case #7] ELB down", "[Case #7] ELB down"},
		{"subject without tag gets one", "", 7, "ELB down", "[Case #7] ELB down"},
		{"empty subject gives just the tag", "", 7, "", "[Case #7]"},
		{"subject of only prefixes and tag gives just the tag", "", 7, "Re: [Case #7]", "[Case #7]"},
		{"tag at the end moves to the front", "", 42, "Re: ELB down [Case #42]", "[Case #42] ELB down"},
		{"prefix after the tag is removed", "", 7, "[Case #7] Re: ELB down", "[Case #7] ELB down"},
		{"tag with another number is removed", "", 8, "Re: [Case #3] ELB down", "[Case #8] ELB down"},
		{"sloppy tag of ours is removed", "", 12, "RE: [ case # 12 ] disk full", "[Case #12] disk full"},
		{"full-width tag is removed", "", 12, "Re: ［Case ＃12］ 障害について", "[Case #12] 障害について"},
		{"other bracket tags are kept", "", 5, "Re: [EXTERNAL] [Case #5] login", "[Case #5] [EXTERNAL] login"},
		{"other tag word is kept", "", 5, "Fwd: [Ticket #9] login", "[Case #5] [Ticket #9] login"},
		{"white space is collapsed", "", 5, "  Re:\tlogin   fails \r\n again ", "[Case #5] login fails again"},
		{"French prefixes", "", 9, "RE : TR : [Case #9] Facture", "[Case #9] Facture"},
		{"Japanese prefixes", "", 9, "返信: 転送: サーバー停止", "[Case #9] サーバー停止"},
		{"configured word", "Ticket", 3, "Re: [Ticket #3] printer", "[Ticket #3] printer"},
		{"text that is not a tag stays", "", 3, "Re: [Case #0] test", "[Case #3] [Case #0] test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewTagger(tt.word).Subject(tt.n, tt.subject); got != tt.want {
				t.Errorf("Subject(%d, %q) = %q, want %q", tt.n, tt.subject, got, tt.want)
			}
		})
	}
}
