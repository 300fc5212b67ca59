package mailin

import (
	"context"
	"testing"

	"github.com/postdesk/postdesk/desk"
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
	raw := benchMail(benchAttach, 1) // a 1 MiB file, base64
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
			t.Errorf("AttachmentBytes %d: files %+v, want the 1 MiB zip, data held %v", tt.limit, attachmentsOf(files), tt.held)
		}
	}
}
