package console

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// TestSiteMirrors shows each mirror's last success and latency on the
// sites page, the site page and /api/sites, from the latest run that
// recorded them (a run still going has none yet).
func TestSiteMirrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	start := time.Now().Add(-time.Hour)
	done := precwatch.Run{ID: "m1", Site: "silkvault", Start: start, End: start.Add(time.Minute), Status: precwatch.RunOK, Pages: 3, CircuitsReplaced: 2,
		Mirrors: []precwatch.MirrorStatus{
			{URL: "http://primaryaaaa.onion", Requests: 2, Failures: 2},
			{URL: "http://mirrorbbbb.onion", Requests: 9, LastSuccess: start.Add(30 * time.Second), Latency: 1500 * time.Millisecond, Active: true},
		}}
	running := precwatch.Run{ID: "m2", Site: "silkvault", Start: time.Now(), Status: precwatch.RunRunning}
	for _, r := range []precwatch.Run{done, running} {
		if err := e.store.SaveRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	otto := e.as(precwatch.RoleOperator)

	doc := otto.page(t, "/sites")
	items := doc.Find("#site-silkvault ul.mirrors li")
	if items.Length() != 2 {
		t.Fatalf("sites page shows %d mirrors, want 2", items.Length())
	}
	if a := items.Eq(1); !a.HasClass("active") || !strings.Contains(a.Text(), "in use") || !strings.Contains(a.Text(), "1.5s") {
		t.Errorf("active mirror shown as %q", a.Text())
	}
	if p := items.Eq(0).Text(); !strings.Contains(p, "never") || strings.Contains(p, "in use") {
		t.Errorf("failed primary shown as %q", p)
	}

	doc = otto.page(t, "/sites/silkvault")
	rows := doc.Find("table#mirrors tbody tr")
	if rows.Length() != 2 || !strings.Contains(rows.Eq(1).Text(), "mirrorbbbb.onion") || !strings.Contains(rows.Eq(1).Text(), "1.5s") {
		t.Errorf("site page mirrors: %q", rows.Text())
	}
	if got := doc.Find("small.circuits").Text(); got != "2 circuits replaced" {
		t.Errorf("circuits replaced shown as %q", got)
	}

	var sites []siteRow
	otto.do("GET", "/api/sites?proxy=0", nil, nil).json(t, &sites)
	for _, r := range sites {
		if r.Name == "silkvault" {
			if len(r.Mirrors) != 2 || !r.Mirrors[1].Active || r.Mirrors[1].Latency != 1500*time.Millisecond {
				t.Errorf("api mirrors: %+v", r.Mirrors)
			}
			return
		}
	}
	t.Error("silkvault not in /api/sites")
}
