package console

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// TestDeliveriesPage: operators see each destination's state (a failing
// one and its streak) and the attempts, error text escaped.
func TestDeliveriesPage(t *testing.T) {
	e := newEnv(t)
	ds := e.store.(precwatch.DeliveryStore)
	ctx := context.Background()
	key := e.keys["peroxide"]
	for _, d := range []precwatch.Delivery{
		{Destination: "soc", EventID: "1", Event: "raised", Key: key, At: t0, Attempt: 1, Status: 204, Delivered: true, Duration: 12 * time.Millisecond},
		{Destination: "chat", EventID: "1", Event: "raised", Key: key, At: t0, Attempt: 1, Status: 200, Delivered: true},
		{Destination: "chat", EventID: "2", Event: "changed", Key: key, At: t0.Add(time.Minute), Attempt: 1, Status: 503, Error: `503: <script>window.__pwned=1</script>`},
		{Destination: "chat", EventID: "2", Event: "changed", Key: key, At: t0.Add(2 * time.Minute), Attempt: 2, Error: "context deadline exceeded"},
	} {
		if err := ds.LogDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	doc := e.as(precwatch.RoleOperator).page(t, "/deliveries")
	if got := strings.TrimSpace(doc.Find("#dest-chat .failing").Text()); got != "2 attempts" {
		t.Errorf("chat failing = %q, want 2 attempts", got)
	}
	if got := strings.TrimSpace(doc.Find("#dest-soc .failing").Text()); got != "ok" {
		t.Errorf("soc failing = %q, want ok", got)
	}
	rows := doc.Find("#deliveries tbody tr")
	if rows.Length() != 4 {
		t.Fatalf("%d attempt rows, want 4", rows.Length())
	}
	if got := strings.TrimSpace(rows.First().Find(".status").Text()); got != "no answer" {
		t.Errorf("newest attempt status = %q, want no answer", got)
	}
	if doc.Find("#deliveries script").Length() != 0 || !strings.Contains(rows.Eq(1).Text(), "<script>window.__pwned=1</script>") {
		t.Errorf("the error text is not shown escaped: %q", rows.Eq(1).Text())
	}
	if href, _ := rows.First().Find("a").Attr("href"); href != "/alerts/"+key {
		t.Errorf("alert link = %q", href)
	}
	onlyOwnScripts(t, "/deliveries", doc)
	// One destination's log, and the API.
	if n := e.as(precwatch.RoleOperator).page(t, "/deliveries?destination=soc").Find("#deliveries tbody tr").Length(); n != 1 {
		t.Errorf("soc's attempts: %d rows, want 1", n)
	}
	resp := e.as(precwatch.RoleOperator).do("GET", "/api/deliveries?destination=chat", nil, nil)
	var body struct {
		Destinations []destinationRow     `json:"destinations"`
		Attempts     []precwatch.Delivery `json:"attempts"`
	}
	resp.json(t, &body)
	if resp.code != http.StatusOK || len(body.Attempts) != 3 || len(body.Destinations) != 1 || body.Destinations[0].Failing != 2 {
		t.Errorf("GET /api/deliveries: %d %s", resp.code, resp.body)
	}
}
