package precwatch

import (
	"errors"
	"testing"
	"time"
)

func TestApplyActionWorkflow(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	a := Alert{Key: "k", Status: StatusNew}
	steps := []struct {
		act     AlertAction
		wantErr bool
		status  AlertStatus
	}{
		{AlertAction{Actor: "ann", Action: ActionClaim}, false, StatusNew},
		{AlertAction{Actor: "ann", Action: ActionStatus, Status: StatusTriaged}, false, StatusTriaged},
		{AlertAction{Actor: "ann", Action: ActionStatus, Status: StatusNew}, true, StatusTriaged},
		{AlertAction{Actor: "ann", Action: ActionStatus, Status: StatusDismissed}, true, StatusTriaged},
		{AlertAction{Actor: "ann", Action: ActionStatus, Status: StatusDismissed, Text: "  "}, true, StatusTriaged},
		{AlertAction{Actor: "ann", Action: ActionNote, Text: ""}, true, StatusTriaged},
		{AlertAction{Actor: "ann", Action: ActionNote, Text: "vendor also on agora2"}, false, StatusTriaged},
		{AlertAction{Actor: "ann", Action: ActionStatus, Status: StatusDismissed, Text: "hair developer, 6 %"}, false, StatusDismissed},
		{AlertAction{Actor: "", Action: ActionNote, Text: "x"}, true, StatusDismissed},
		{AlertAction{Actor: "ann", Action: "delete"}, true, StatusDismissed},
	}
	for i, s := range steps {
		s.act.At = at.Add(time.Duration(i) * time.Minute)
		err := ApplyAction(&a, s.act)
		if (err != nil) != s.wantErr {
			t.Fatalf("step %d (%+v): err = %v, want error %v", i, s.act, err, s.wantErr)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("step %d: error %v does not wrap ErrInvalid", i, err)
		}
		if a.Status != s.status {
			t.Fatalf("step %d: status %s, want %s", i, a.Status, s.status)
		}
	}
	if a.Assignee != "ann" {
		t.Errorf("assignee = %q", a.Assignee)
	}
	if got, want := len(a.Timeline), 4; got != want {
		t.Fatalf("timeline has %d entries, want %d: %+v", got, want, a.Timeline)
	}
	last := a.Timeline[3]
	if last.From != "triaged" || last.To != "dismissed" || last.Text != "hair developer, 6 %" || last.Actor != "ann" {
		t.Errorf("dismissal entry = %+v", last)
	}
}
