package threading

import "testing"

func TestNormalizeSubject(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain subject is unchanged", "ELB unreachable", "ELB unreachable"},
		{"Re is removed", "Re: ELB unreachable", "ELB unreachable"},
		{"RE in upper case is removed", "RE: ELB unreachable", "ELB unreachable"},
		{"re in lower case is removed", "re: ELB unreachable", "ELB unreachable"},
		{"repeated prefixes are removed", "Re: RE: re: ELB", "ELB"},
		{"prefixes without spaces are removed", "Re:Fwd:AW:ELB", "ELB"},
		{"Outlook German reply and forward", "AW: WG: Rechnung März", "Rechnung März"},
		{"Outlook German in title case", "Aw: Wg: Rechnung", "Rechnung"},
		{"Fwd and FWD", "Fwd: FWD: logs", "logs"},
		{"Fw", "FW: logs", "logs"},
		{"French Outlook with space before colon", "RE : TR : Facture de mars", "Facture de mars"},
		{"French Réf and Rép", "Réf: Rép : RÉP: devis", "devis"},
		{"Spanish RV", "RV: RE: presupuesto", "presupuesto"},
		{"Nordic Sv and Finnish Vs", "SV: Vs: faktura", "faktura"},
		{"Dutch Antw", "Antw: offerte", "offerte"},
		{"Polish Odp", "Odp: faktura", "faktura"},
		{"Italian-style Tr", "Tr: fattura", "fattura"},
		{"Chinese simplified reply with full-width colon", "回复：数据库连接失败", "数据库连接失败"},
		{"Chinese traditional reply", "回覆: 資料庫", "資料庫"},
		{"Chinese Outlook reply and forward", "答复: 转发: 服务器", "服务器"},
		{"Chinese traditional forward", "轉寄: 服務", "服務"},
		{"Japanese reply and forward", "返信: 転送: サーバー停止", "サーバー停止"},
		{"full-width Re and colon", "Ｒｅ：障害", "障害"},
		{"numbered with brackets", "Re[2]: status", "status"},
		{"numbered with parentheses", "Re(3): status", "status"},
		{"numbered with caret", "Re^2: status", "status"},
		{"numbered with space before colon", "RE[12] : status", "status"},
		{"case tag is kept", "Re: [Case #7] ELB down", "[Case #7] ELB down"},
		{"prefix after the tag is kept", "[Case #7] Re: ELB down", "[Case #7] Re: ELB down"},
		{"white space runs are collapsed", "  Re:   ELB \t down\r\n now  ", "ELB down now"},
		{"ideographic space is white space", "返信:\u3000障害\u3000発生", "障害 発生"},
		{"no-break space is white space", "Re:\u00a0ELB\u00a0down", "ELB down"},
		{"word starting like a prefix stays", "Reply needed for ELB", "Reply needed for ELB"},
		{"Re without colon stays", "Re ELB", "Re ELB"},
		{"Fwd inside the subject stays", "ELB Re: Fwd: down", "ELB Re: Fwd: down"},
		{"Reb is no prefix", "Reb: x", "Reb: x"},
		{"counter without digits stays", "Re[]: x", "Re[]: x"},
		{"only a prefix gives empty", "Re:", ""},
		{"empty stays empty", "", ""},
		{"only white space gives empty", " \t\r\n", ""},
		{"invalid UTF-8 is kept", "Re: \xff\xfe", "\xff\xfe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalizeSubject(tt.in); got != tt.want {
				t.Errorf("NormalizeSubject(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
