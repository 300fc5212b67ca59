package main

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/internal/demo"
)

// Headers as mail clients and filters expect them (DESIGN §10): the
// requester's name kept and greeted, References chaining the case's mails,
// the tag in plain ASCII before a Japanese subject's encoded words.
func TestOutboundHeadersChainAndKeepNames(t *testing.T) {
	e := newEnv(t)
	subject := "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte("障害報告：サーバーが応答しません")) + "?="
	e.ingestText("ja.eml", "From: =?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte("山田 花子"))+"?= <hanako@acme.example>\n"+
		"To: support@example.com\nSubject: "+subject+"\nMessage-ID: <ja-1@acme.example>\n\nサーバーが応答しません。\n")
	conf := e.flush()[0]
	raw := string(conf.Data)
	if !strings.Contains(raw, "\r\nSubject: [Case #1]") {
		t.Errorf("the Japanese subject does not start with the plain tag:\n%s", raw[:strings.Index(raw, "\r\n\r\n")])
	}
	if to := headerOf(conf, "To"); !strings.Contains(to, "=?") || !strings.Contains(to, "<hanako@acme.example>") {
		t.Errorf("To %q lacks the requester's encoded name", to)
	}
	if !strings.Contains(demo.Readable(conf.Data), "山田 花子 様") {
		t.Errorf("the confirmation does not greet the requester by name:\n%s", demo.Readable(conf.Data))
	}

	e.must("ご確認ください。\n", "case", "reply", "1", "-from", "agent@example.com", "-file", "-")
	answer := e.flush()[0]
	refs := headerOf(answer, "References")
	if !strings.Contains(refs, "<ja-1@acme.example>") || !strings.Contains(refs, headerOf(conf, "Message-ID")) ||
		strings.Index(refs, "<ja-1@acme.example>") > strings.Index(refs, headerOf(conf, "Message-ID")) {
		t.Errorf("References %q do not chain the first mail, then the confirmation", refs)
	}
	if got := headerOf(answer, "In-Reply-To"); got != "<ja-1@acme.example>" {
		t.Errorf("In-Reply-To %q, want the customer's mail", got)
	}
}
