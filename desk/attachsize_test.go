package desk_test

import (
	"context"
	"slices"
	"testing"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/store"
)

// TestAttachmentSize: the desk judges a file by its decoded Size, which
// mailin sets when it did not hold the data of a file over its limit, and
// never keeps a file whose data was dropped.
func TestAttachmentSize(t *testing.T) {
	f := newFixture(t)
	in := f.mail("alice@acme.example", "Files", "x")
	small := []byte("log line\n")
	in.Attachments = []desk.Attachment{
		{Filename: "a.log", ContentType: "text/plain", Data: small},
		{Filename: "full-logs.zip", ContentType: "application/zip", Size: 19 << 20},
		{Filename: "b.log", ContentType: "text/plain", Data: small, Size: int64(len(small))},
		{Filename: "cut.bin", ContentType: "application/octet-stream", Data: small[:4], Size: 4 << 10},
	}
	n := f.receive(in).Case
	msgs, err := f.db.Messages(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, a := range msgs[0].Attachments {
		kept = append(kept, a.Filename)
		if a.Size != int64(len(small)) {
			t.Errorf("%s kept with size %d, want %d", a.Filename, a.Size, len(small))
		}
	}
	if want := []string{"a.log", "b.log"}; !slices.Equal(kept, want) {
		t.Errorf("kept %v, want %v", kept, want)
	}
	want := []store.Rejected{
		{Filename: "full-logs.zip", Size: 19 << 20, Reason: "larger than 5 MiB"},
		{Filename: "cut.bin", Size: 4 << 10, Reason: "too large to keep"},
	}
	rej := msgs[0].Rejected
	if len(rej) != len(want) {
		t.Fatalf("rejected %+v, want %+v", rej, want)
	}
	for i, r := range rej {
		if r.Filename != want[i].Filename || r.Size != want[i].Size || r.Reason != want[i].Reason {
			t.Errorf("rejected %+v, want %+v", r, want[i])
		}
	}
	if got := f.outbox()[0].Notice.Rejected; len(got) != 2 || got[0].Code != store.CodeFileTooLarge || got[0].Size != 19<<20 {
		t.Errorf("confirmation lists rejected files %+v", got)
	}
}
