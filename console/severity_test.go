package console

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// TestAlertPageSeverityReason: the alert detail shows why the alert has its
// severity, the policy's reason first (issue 12).
func TestAlertPageSeverityReason(t *testing.T) {
	e := newEnv(t)
	tea := precwatch.Match{Substance: "triethanolamine", Name: "Triethanolamine", Regime: precwatch.RegimeCWC3,
		Severity: precwatch.SeverityCritical, Term: "triethanolamine", Kind: "name", Field: "title", Start: 0, End: 15, Text: "Triethanolamine",
		Quantity: &precwatch.Quantity{Value: 25, Unit: "kg", Count: 1, Grams: 25000, Text: "25 kg"},
		Score:    62, Reasons: []string{"CWC Schedule 3", "25 kg", "dark-web market"}}
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	l := precwatch.Listing{Site: "silkvault", ID: "t1", URL: "http://silkvault.onion/item/t1", Title: "Triethanolamine 99%, 25 kg drum",
		Vendor: "drums", FetchedAt: at, Tor: true}
	policy := precwatch.DefaultSeverityPolicy()
	res, err := e.store.Record(context.Background(), precwatch.Observation{Listing: l, Matches: policy.Apply(l, []precwatch.Match{tea}), RunID: "run-1", At: at})
	if err != nil || len(res.NewAlerts) != 1 {
		t.Fatalf("record: %v, %+v", err, res)
	}
	doc := e.as(precwatch.RoleInvestigator).page(t, "/alerts/"+res.NewAlerts[0])
	if got := strings.TrimSpace(doc.Find("h1 span").First().Text()); got != "high" {
		t.Errorf("severity shown %q, want high", got)
	}
	want := "Score 62: severity high: CWC Schedule 3, raised from low by dark-web market, bulk amount 25 kg; CWC Schedule 3; 25 kg; dark-web market"
	if got := strings.Join(strings.Fields(doc.Find("#alert-score").Text()), " "); got != want {
		t.Errorf("score line %q, want %q", got, want)
	}
}
