package threading_test

import (
	"fmt"

	"github.com/postdesk/postdesk/threading"
)

func ExampleTagger() {
	tg := threading.NewTagger("Case")
	n, ok := tg.Find("AW: Re: ［case ＃1042］ ELB unreachable")
	fmt.Println(n, ok)
	fmt.Println(tg.Subject(n, "AW: Re: ［case ＃1042］ ELB unreachable"))
	// Output:
	// 1042 true
	// [Case #1042] ELB unreachable
}

func ExampleIDs() {
	ids, err := threading.NewIDs([]byte("a secret of at least 16 bytes"), "desk.example", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	id := ids.New(1042)
	// A reply that lost the subject tag still names our Message-ID.
	n, ok := ids.FindCase(nil, threading.ParseMessageIDs("<CAKx1@mail.gmail.com> <"+id+">"))
	fmt.Println(n, ok)
	// Output: 1042 true
}

func ExampleParseMessageIDs() {
	fmt.Printf("%q\n", threading.ParseMessageIDs("<a1@Mail.Example> (Alice's mail)\r\n <b2@mail.example>, c3@mail.example"))
	// Output: ["a1@mail.example" "b2@mail.example" "c3@mail.example"]
}

func ExampleStripQuoted() {
	reply := "Thanks, it works again.\r\n\r\n" +
		"On Mon, 3 Feb 2025 at 10:12, Support <support@desk.example> wrote:\r\n" +
		"> Hello Alice,\r\n" +
		"> we restarted the load balancer.\r\n"
	fmt.Printf("%q\n", threading.StripQuoted(reply))
	// Output: "Thanks, it works again."
}

func ExampleIDs_SentTo() {
	ids, err := threading.NewIDs([]byte("a secret of at least 16 bytes"), "desk.example", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The notice about message 31 of case 1042 sent to Lee.
	id := ids.NewFor(1042, 31, "lee@example.com")
	fmt.Println(ids.SentTo(id, "Lee@Example.com"))
	fmt.Println(ids.SentTo(id, "kim@example.com"))
	fmt.Println(ids.Case(id))
	// Output:
	// 1042 31 true
	// 0 0 false
	// 1042 true
}

func ExampleCutAgentReply() {
	reply := "We restarted the load balancer.\r\n\r\n" +
		"On Wed, Dec 2, 2026 at 9:12 AM Example Support <support@example.com> wrote:\r\n" +
		"> ##- Reply above this line to answer Alice Martin -##\r\n"
	fmt.Printf("%q\n", threading.CutAgentReply(reply))
	// A reply with nothing above the notice has no new text.
	fmt.Printf("%q\n", threading.CutAgentReply("\r\n> ##- Reply above this line -##\r\n> New case\r\n"))
	// Output:
	// "We restarted the load balancer."
	// ""
}
