package mailin

import (
	"context"
	"fmt"
	"testing"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/internal/mailmix"
	"github.com/postdesk/postdesk/message"
)

// lastDesk keeps the last mail it is handed.
type lastDesk struct{ in *desk.Inbound }

func (d *lastDesk) Receive(_ context.Context, in *desk.Inbound) (desk.Result, error) {
	d.in = in
	return desk.Result{Outcome: desk.NewCase}, nil
}

func (d *lastDesk) Rehearse(ctx context.Context, in *desk.Inbound) (desk.Result, error) {
	return d.Receive(ctx, in)
}

func (d *lastDesk) Quarantine(context.Context, []byte, string, uint32, string) (desk.Result, error) {
	d.in = nil
	return desk.Result{Outcome: desk.Quarantined}, nil
}

func (d *lastDesk) TooLarge(context.Context, *desk.Inbound, int64, int64) (desk.Result, error) {
	d.in = nil
	return desk.Result{Outcome: desk.Quarantined}, nil
}

// TestIntakeAttachmentBytes: with AttachmentBytes set, the desk gets the
// size of a file over it and no data; without, the data.
func TestIntakeAttachmentBytes(t *testing.T) {
	raw := mailmix.BenchMail(benchAttach, 1) // a 1 MiB file, base64
	for _, tt := range []struct {
		limit int64
		held  bool
	}{{0, true}, {1 << 20, true}, {1<<20 - 1, false}} {
		d := &lastDesk{}
		it := &Intake{Desk: d, AttachmentBytes: tt.limit}
		if _, err := it.Process(context.Background(), raw, Source{}); err != nil || d.in == nil {
			t.Fatalf("Process: %v", err)
		}
		var files []desk.Attachment
		for _, a := range d.in.Attachments {
			if a.Filename == "diagnostics-1.zip" {
				files = append(files, a)
			}
		}
		if len(files) != 1 || files[0].Size != 1<<20 || (files[0].Data != nil) != tt.held ||
			(tt.held && len(files[0].Data) != 1<<20) || files[0].ContentType != "application/zip" {
			t.Errorf("AttachmentBytes %d: files %+v, want the 1 MiB zip, data held %v", tt.limit, attachmentSummary(files), tt.held)
		}
	}
}

// attachmentSummary is what the error of TestIntakeAttachmentBytes shows of each
// file: not its data.
func attachmentSummary(files []desk.Attachment) []string {
	out := make([]string, len(files))
	for i, a := range files {
		out[i] = fmt.Sprintf("%s %s %d bytes, data %d bytes", a.Filename, a.ContentType, a.Size, len(a.Data))
	}
	return out
}

// TestIntakeTextBytes: Intake.TextBytes reaches the parser, 0 meaning
// message.DefaultTextBytes; the raw mail is kept whole.
func TestIntakeTextBytes(t *testing.T) {
	raw := benchHTMLMail() // 24 MiB of HTML
	for _, tt := range []struct{ set, want int64 }{{0, message.DefaultTextBytes}, {4 << 10, 4 << 10}} {
		p := (&Intake{TextBytes: tt.set}).Prepare(raw, Source{})
		if p.msg == nil {
			t.Fatalf("TextBytes %d: quarantined: %s", tt.set, p.quarantine)
		}
		if n := int64(len(p.msg.HTML)); n > tt.want || n < tt.want/2 {
			t.Errorf("TextBytes %d: HTML of %d bytes, want at most %d and near it", tt.set, n, tt.want)
		}
		if len(p.msg.Raw) != len(raw) {
			t.Errorf("TextBytes %d: the raw mail is not kept whole", tt.set)
		}
	}
}
