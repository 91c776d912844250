package precwatch

import (
	"errors"
	"strings"
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

// TestApplyActionSeen: an action made on a view another's change has made
// stale is refused with ErrChanged, naming who changed it and when, and
// changes nothing; one made on the current state, or without a view, goes
// through, and a note never conflicts.
func TestApplyActionSeen(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	a := Alert{Key: "k", Status: StatusNew}
	unclaimedNew := &AlertSeen{Status: StatusNew}
	if err := ApplyAction(&a, AlertAction{Actor: "ann", At: at, Action: ActionClaim, Seen: unclaimedNew}); err != nil {
		t.Fatalf("first claim: %v", err)
	}
	// Bob opened the alert before Ann's claim: his claim is refused.
	err := ApplyAction(&a, AlertAction{Actor: "bob", At: at.Add(time.Second), Action: ActionClaim, Seen: unclaimedNew})
	if !errors.Is(err, ErrChanged) || errors.Is(err, ErrInvalid) {
		t.Fatalf("stale claim: err = %v, want ErrChanged", err)
	}
	for _, want := range []string{"ann claimed it", "2026-11-23 10:00:00 UTC"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("stale claim error %q lacks %q", err, want)
		}
	}
	if a.Assignee != "ann" || len(a.Timeline) != 1 {
		t.Fatalf("after the refused claim: assignee %q, timeline %+v", a.Assignee, a.Timeline)
	}
	// Seeing Ann as the assignee, Bob may take over.
	if err := ApplyAction(&a, AlertAction{Actor: "bob", At: at.Add(2 * time.Second), Action: ActionClaim, Seen: &AlertSeen{Status: StatusNew, Assignee: "ann"}}); err != nil || a.Assignee != "bob" {
		t.Fatalf("take over: err %v, assignee %q", err, a.Assignee)
	}
	// Ann dismisses; Carl, still seeing it new, cannot reopen or triage it.
	if err := ApplyAction(&a, AlertAction{Actor: "ann", At: at.Add(3 * time.Second), Action: ActionStatus, Status: StatusDismissed, Text: "hobby fuel", Seen: &AlertSeen{Status: StatusNew, Assignee: "bob"}}); err != nil {
		t.Fatalf("dismiss: %v", err)
	}
	err = ApplyAction(&a, AlertAction{Actor: "carl", At: at.Add(4 * time.Second), Action: ActionStatus, Status: StatusTriaged, Seen: &AlertSeen{Status: StatusNew, Assignee: "bob"}})
	if !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), "ann moved it to dismissed") {
		t.Fatalf("stale triage: err = %v, want ErrChanged naming ann's dismissal", err)
	}
	if a.Status != StatusDismissed {
		t.Fatalf("status %s after the refused triage, want dismissed", a.Status)
	}
	// A note on a stale view, and an action without one, go through.
	if err := ApplyAction(&a, AlertAction{Actor: "carl", At: at.Add(5 * time.Second), Action: ActionNote, Text: "seen", Seen: unclaimedNew}); err != nil {
		t.Errorf("note on a stale view: %v", err)
	}
	if err := ApplyAction(&a, AlertAction{Actor: "carl", At: at.Add(6 * time.Second), Action: ActionStatus, Status: StatusTriaged}); err != nil || a.Status != StatusTriaged {
		t.Errorf("reopen without a view: err %v, status %s", err, a.Status)
	}
}
