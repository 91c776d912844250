package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/embedded"
	"github.com/precwatch/precwatch/storage/redis"
	"github.com/precwatch/precwatch/storage/redis/redistest"
	"github.com/precwatch/precwatch/storage/storetest"
)

var secret = []byte("test-secret-0123456789")

// benchStore opens an empty store of kind (embedded or redis) for b.
func benchStore(b *testing.B, kind string) precwatch.Store {
	var (
		s   precwatch.Store
		err error
	)
	if kind == "embedded" {
		s, err = embedded.Open(context.Background(), filepath.Join(b.TempDir(), "precwatch.db"), nil)
	} else {
		s, err = redis.Open(context.Background(), redistest.Start(b)+"?prefix=bench", nil)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// stores runs fn on each store: embedded and Redis.
func stores(t *testing.T, fn func(t *testing.T, open func() precwatch.Store)) {
	t.Run("embedded", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "precwatch.db")
		fn(t, func() precwatch.Store {
			s, err := embedded.Open(context.Background(), path, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
	t.Run("redis", func(t *testing.T) {
		url := redistest.Start(t) + "?prefix=webhook"
		fn(t, func() precwatch.Store {
			s, err := redis.Open(context.Background(), url, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
}

// receiver is an HTTP endpoint that verifies each request with the
// README's snippet and keeps the events it accepted; fail, when set,
// decides to fail a request (after verifying it).
type receiver struct {
	t    *testing.T
	srv  *httptest.Server
	mu   sync.Mutex
	got  []Payload // accepted, in arrival order
	raw  [][]byte
	hits int
	fail func(hit int, w http.ResponseWriter, r *http.Request) bool
	bad  []string // verification failures
}

func newReceiver(t *testing.T, fail func(hit int, w http.ResponseWriter, r *http.Request) bool) *receiver {
	rc := &receiver{t: t, fail: fail}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.hits++
	hit := rc.hits
	if err := verifySignature(secret, body, r.Header.Get(HeaderSignature), time.Now(), 5*time.Minute); err != nil {
		rc.bad = append(rc.bad, err.Error())
		rc.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	fail := rc.fail
	rc.mu.Unlock()
	if fail != nil && fail(hit, w, r) {
		return
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil || p.ID != r.Header.Get(HeaderEventID) || p.Event.Event != r.Header.Get(HeaderEvent) {
		rc.mu.Lock()
		rc.bad = append(rc.bad, fmt.Sprintf("body %s: %v", body, err))
		rc.mu.Unlock()
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.got, rc.raw = append(rc.got, p), append(rc.raw, body)
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) accepted() []Payload {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

// waitFor waits until the receiver accepted every event of want (by ID),
// failing after a generous bound (a hang, not a timing assertion).
func (rc *receiver) waitFor(t *testing.T, want []precwatch.Event) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ids := map[string]bool{}
		for _, p := range rc.accepted() {
			ids[p.ID] = true
		}
		missing := 0
		for _, e := range want {
			if !ids[e.ID] {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			rc.mu.Lock()
			defer rc.mu.Unlock()
			t.Fatalf("receiver is missing %d of %d events after 60s (hits %d, bad %v)", missing, len(want), rc.hits, rc.bad)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func thiodiglycol() precwatch.Match {
	return precwatch.Match{Substance: "thiodiglycol", Name: "Thiodiglycol", Regime: precwatch.RegimeCWC2,
		Severity: precwatch.SeverityCritical, Term: "111-48-8", Kind: "cas", Field: "description", Text: "111-48-8"}
}

func sulphuric() precwatch.Match {
	return precwatch.Match{Substance: "sulphuric-acid", Name: "Sulphuric acid", Regime: precwatch.RegimeEUAnnexII,
		Severity: precwatch.SeverityLow, Term: "sulphuric acid", Kind: "name", Field: "title", Text: "sulphuric acid"}
}

func listing(site, id string, price float64, at time.Time) precwatch.Listing {
	return precwatch.Listing{Site: site, ID: id, URL: "http://" + site + ".test/item/" + id, Title: "Listing " + id + " <b>bold</b> <!channel>",
		Description: "1 L bottle. Shipping worldwide.", Price: price, Currency: "EUR", FetchedAt: at}
}

// sight records a sighting of listing id on site at price.
func sight(t *testing.T, s precwatch.Store, site, id string, price float64, at time.Time, ms ...precwatch.Match) {
	t.Helper()
	l := listing(site, id, price, at)
	if _, err := s.Record(context.Background(), precwatch.Observation{Listing: l, Matches: ms, RunID: "r", At: at}); err != nil {
		t.Fatal(err)
	}
}

// workload writes alerts on two sites, material changes and an action, so
// that every alert has several events in order.
func workload(t *testing.T, s precwatch.Store, n int) {
	for i := range n {
		sight(t, s, "silkvault", fmt.Sprint("L", i), 100, t0.Add(time.Duration(i)*time.Minute), thiodiglycol())
		sight(t, s, "agora2", fmt.Sprint("M", i), 5, t0.Add(time.Duration(i)*time.Minute), sulphuric())
	}
	for i := range n {
		sight(t, s, "silkvault", fmt.Sprint("L", i), 120, t0.Add(time.Hour+time.Duration(i)*time.Minute), thiodiglycol())
	}
	key := precwatch.AlertKey("silkvault", listing("silkvault", "L0", 0, t0).Identity(), "thiodiglycol")
	if _, err := s.(precwatch.ConsoleStore).UpdateAlert(context.Background(), precwatch.AlertAction{
		Key: key, Actor: "otto", At: t0.Add(2 * time.Hour), Action: precwatch.ActionClaim}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		sight(t, s, "silkvault", fmt.Sprint("L", i), 140, t0.Add(3*time.Hour+time.Duration(i)*time.Minute), thiodiglycol())
	}
}

func fastOptions() *Options {
	return &Options{Poll: 10 * time.Millisecond, MinBackoff: 5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, LeaseTTL: 3 * time.Second}
}

func start(t *testing.T, m *Manager) (stop func()) {
	done := make(chan struct{})
	go func() { m.Run(context.Background()); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			m.Stop()
			<-done
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitCursor waits until dest's saved cursor is id.
func waitCursor(t *testing.T, ds precwatch.DeliveryStore, dest, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := ds.DeliveryCursor(context.Background(), dest)
		if err == nil && c == id {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("cursor of %s = %q, %v; want %s", dest, c, err, id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkOrder checks that the receiver's first receipts of each alert's
// events follow the log's order, and that it got each event at least once.
func checkOrder(t *testing.T, got []Payload, log []precwatch.Event) {
	t.Helper()
	pos := map[string]int{}
	for i, e := range log {
		pos[e.ID] = i
	}
	seen := map[string]bool{}
	last := map[string]int{}
	for _, p := range got {
		if seen[p.ID] {
			continue
		}
		seen[p.ID] = true
		i, ok := pos[p.ID]
		if !ok {
			t.Errorf("received event %s that is not in the log", p.ID)
			continue
		}
		if j, had := last[p.Key]; had && j > i {
			t.Errorf("alert %s: event %s arrived after a later one", p.Key, p.ID)
		}
		last[p.Key] = i
	}
	for _, e := range log {
		if !seen[e.ID] {
			t.Errorf("event %s (%s %s) never delivered", e.ID, e.Event, e.Key)
		}
	}
}

// TestFailingReceiverRecovers: a receiver that answers 5xx, hangs past the
// timeout and closes connections, then recovers, gets every event at
// least once, in order per alert, each signature verified; the delivery
// log shows the failures; the cursor ends at the last event.
func TestFailingReceiverRecovers(t *testing.T) {
	stores(t, func(t *testing.T, open func() precwatch.Store) {
		s := open()
		ds := s.(precwatch.DeliveryStore)
		rc := newReceiver(t, func(hit int, w http.ResponseWriter, r *http.Request) bool {
			switch {
			case hit <= 3, hit%7 == 0 && hit < 40:
				http.Error(w, "<html>upstream down</html>\x00", http.StatusServiceUnavailable)
				return true
			case hit == 4 || hit == 20:
				// Slower than the destination's timeout.
				select {
				case <-r.Context().Done():
				case <-time.After(2 * time.Second):
				}
				return true
			case hit == 5:
				// Accept, but drop the connection before answering.
				hj, ok := w.(http.Hijacker)
				if ok {
					if c, _, err := hj.Hijack(); err == nil {
						c.Close()
						return true
					}
				}
			}
			return false
		})
		m, err := New(fastOptions(), nil, ds, []Destination{{Name: "soc", URL: rc.srv.URL, Secret: secret, Timeout: 300 * time.Millisecond, FromStart: true}})
		if err != nil {
			t.Fatal(err)
		}
		start(t, m)
		workload(t, s, 6)
		log := storetest.AllEvents(t, ds, "", 50)
		if len(log) != 6*2+6+1+6 {
			t.Fatalf("%d events in the log", len(log))
		}
		rc.waitFor(t, log)
		checkOrder(t, rc.accepted(), log)
		rc.mu.Lock()
		if len(rc.bad) > 0 {
			t.Errorf("receiver refused requests: %v", rc.bad)
		}
		rc.mu.Unlock()
		// The cursor reaches the last event once it is accepted.
		deadline := time.Now().Add(30 * time.Second)
		for {
			c, err := ds.DeliveryCursor(context.Background(), "soc")
			if err == nil && c == log[len(log)-1].ID {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cursor = %q, %v; want %s", c, err, log[len(log)-1].ID)
			}
			time.Sleep(10 * time.Millisecond)
		}
		dl, err := ds.Deliveries(context.Background(), "soc", 0)
		if err != nil {
			t.Fatal(err)
		}
		var failed503, timedOut, delivered int
		for _, d := range dl {
			switch {
			case d.Delivered:
				delivered++
			case d.Status == 503:
				failed503++
				if !strings.Contains(d.Error, "upstream down") || strings.ContainsRune(d.Error, 0) {
					t.Errorf("503 logged as %q", d.Error)
				}
			case d.Status == 0 && d.Error != "":
				timedOut++
			}
		}
		if delivered < len(log) || failed503 < 3 || timedOut < 2 {
			t.Errorf("delivery log: %d delivered, %d 503, %d without answer; want %d, >= 3, >= 2", delivered, failed503, timedOut, len(log))
		}
		if dl[len(dl)-1].Attempt != 1 || !slices.ContainsFunc(dl, func(d precwatch.Delivery) bool { return d.Attempt >= 4 }) {
			t.Errorf("attempts not counted per event: %+v", dl[len(dl)-1])
		}
	})
}

// TestRestartResumes: a new manager on the same store resumes after the
// saved cursor: nothing delivered twice, nothing missed.
func TestRestartResumes(t *testing.T) {
	stores(t, func(t *testing.T, open func() precwatch.Store) {
		s := open()
		ds := s.(precwatch.DeliveryStore)
		rc := newReceiver(t, nil)
		dest := []Destination{{Name: "soc", URL: rc.srv.URL, Secret: secret, FromStart: true}}
		m, err := New(fastOptions(), nil, ds, dest)
		if err != nil {
			t.Fatal(err)
		}
		stop := start(t, m)
		workload(t, s, 2)
		first := storetest.AllEvents(t, ds, "", 50)
		rc.waitFor(t, first)
		// Stopped once the last answer is read and passed: an answer
		// cut off by the stop would rightly be sent again.
		waitCursor(t, ds, "soc", first[len(first)-1].ID)
		stop()
		// Written while no dispatcher runs, read by a reopened store.
		sight(t, s, "silkvault", "L9", 10, t0.Add(5*time.Hour), thiodiglycol())
		s2 := open()
		m2, err := New(fastOptions(), nil, s2.(precwatch.DeliveryStore), dest)
		if err != nil {
			t.Fatal(err)
		}
		start(t, m2)
		all := storetest.AllEvents(t, ds, "", 50)
		rc.waitFor(t, all)
		got := rc.accepted()
		if len(got) != len(all) {
			t.Errorf("received %d requests for %d events: some twice", len(got), len(all))
		}
		checkOrder(t, got, all)
	})
}

// TestFilters: only the events a destination's filter passes are sent;
// the others move its cursor on.
func TestFilters(t *testing.T) {
	stores(t, func(t *testing.T, open func() precwatch.Store) {
		s := open()
		ds := s.(precwatch.DeliveryStore)
		rc := newReceiver(t, nil)
		f := Filter{MinSeverity: precwatch.SeverityHigh, Sites: []string{"silkvault"}, Regimes: []precwatch.Regime{precwatch.RegimeCWC2},
			Events: []string{precwatch.EventRaised, precwatch.ActionClaim}}
		m, err := New(fastOptions(), nil, ds, []Destination{{Name: "cwc", URL: rc.srv.URL, Secret: secret, Filter: f, FromStart: true}})
		if err != nil {
			t.Fatal(err)
		}
		start(t, m)
		workload(t, s, 3)
		log := storetest.AllEvents(t, ds, "", 50)
		var want []precwatch.Event
		for _, e := range log {
			if f.Match(e) {
				want = append(want, e)
			}
		}
		if len(want) != 3+1 {
			t.Fatalf("filter passes %d events, want 3 raised and 1 claim", len(want))
		}
		rc.waitFor(t, want)
		deadline := time.Now().Add(30 * time.Second)
		for c, _ := ds.DeliveryCursor(context.Background(), "cwc"); c != log[len(log)-1].ID; c, _ = ds.DeliveryCursor(context.Background(), "cwc") {
			if time.Now().After(deadline) {
				t.Fatalf("cursor %q did not move past the skipped events to %s", c, log[len(log)-1].ID)
			}
			time.Sleep(10 * time.Millisecond)
		}
		for _, p := range rc.accepted() {
			if p.Site != "silkvault" || (p.Event.Event != precwatch.EventRaised && p.Event.Event != precwatch.ActionClaim) {
				t.Errorf("filtered-out event sent: %s %s %s", p.Event.Event, p.Site, p.Substance)
			}
		}
	})
}

// TestNewDestinationStartsAfterNewest: without from_start, a new
// destination gets only the events written after it started.
func TestNewDestinationStartsAfterNewest(t *testing.T) {
	stores(t, func(t *testing.T, open func() precwatch.Store) {
		s := open()
		ds := s.(precwatch.DeliveryStore)
		workload(t, s, 2)
		old := storetest.AllEvents(t, ds, "", 50)
		rc := newReceiver(t, nil)
		m, err := New(fastOptions(), nil, ds, []Destination{{Name: "late", URL: rc.srv.URL, Secret: secret}})
		if err != nil {
			t.Fatal(err)
		}
		start(t, m)
		// Wait for it to have placed its cursor, then write.
		deadline := time.Now().Add(30 * time.Second)
		for c, _ := ds.DeliveryCursor(context.Background(), "late"); c != old[len(old)-1].ID; c, _ = ds.DeliveryCursor(context.Background(), "late") {
			if time.Now().After(deadline) {
				t.Fatalf("cursor %q, want the newest event %s", c, old[len(old)-1].ID)
			}
			time.Sleep(10 * time.Millisecond)
		}
		sight(t, s, "silkvault", "N1", 10, t0.Add(9*time.Hour), thiodiglycol())
		fresh := storetest.AllEvents(t, ds, old[len(old)-1].ID, 50)
		rc.waitFor(t, fresh)
		if got := rc.accepted(); len(got) != 1 || got[0].ID != fresh[0].ID {
			t.Errorf("received %d events, want only the new one", len(got))
		}
	})
}

// TestOneDispatcherPerDestination: two processes' managers on one store
// share a destination through its lease: every event once.
func TestOneDispatcherPerDestination(t *testing.T) {
	stores(t, func(t *testing.T, open func() precwatch.Store) {
		s := open()
		rc := newReceiver(t, nil)
		dest := []Destination{{Name: "soc", URL: rc.srv.URL, Secret: secret, FromStart: true}}
		for _, holder := range []string{"a", "b"} {
			o := fastOptions()
			o.Holder, o.LeaseTTL = holder, 30*time.Second // no expiry on a loaded machine
			m, err := New(o, nil, open().(precwatch.DeliveryStore), dest)
			if err != nil {
				t.Fatal(err)
			}
			start(t, m)
		}
		workload(t, s, 4)
		log := storetest.AllEvents(t, s.(precwatch.EventLog), "", 50)
		rc.waitFor(t, log)
		time.Sleep(100 * time.Millisecond) // room for a duplicate to show
		if got := rc.accepted(); len(got) != len(log) {
			t.Errorf("received %d requests for %d events", len(got), len(log))
		}
	})
}

func TestSlackShape(t *testing.T) {
	e := precwatch.Event{ID: "7", Event: precwatch.EventRaised, Key: "k1", Site: "silk<vault>", Substance: "thiodiglycol", Severity: "critical",
		Alert: precwatch.Alert{Key: "k1", Name: "Thiodiglycol", Regime: precwatch.RegimeCWC2, Score: 91,
			Listing: precwatch.Listing{Title: "<!channel> 1 L <https://evil.test|click> & more", Price: 0.0019, Currency: "BTC"}}}
	body, err := Body(ShapeSlack, e, "https://console.example/")
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text struct{ Type, Text string }
		} `json:"blocks"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"*New alert*", "CRITICAL", "Thiodiglycol on silk&lt;vault&gt;", "&lt;!channel&gt;", "&lt;https://evil.test|click&gt; &amp; more",
		"0.0019 BTC", "score 91", "<https://console.example/alerts/k1|Open in precwatch>"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("slack text %q lacks %q", msg.Text, want)
		}
	}
	if strings.Contains(msg.Text, "<!channel>") || len(msg.Blocks) != 1 || msg.Blocks[0].Text.Type != "mrkdwn" || msg.Blocks[0].Text.Text != msg.Text {
		t.Errorf("slack message %s", body)
	}
	// A slack destination needs no secret; a generic one does.
	if err := (Destination{Name: "chat", URL: "https://hooks.example/x", Shape: ShapeSlack}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestValidate(t *testing.T) {
	ok := Destination{Name: "soc", URL: "https://soc.example/hook", Secret: secret}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(d *Destination){
		"no name":      func(d *Destination) { d.Name = "" },
		"relative url": func(d *Destination) { d.URL = "/hook" },
		"ftp url":      func(d *Destination) { d.URL = "ftp://soc.example/" },
		"short secret": func(d *Destination) { d.Secret = []byte("short") },
		"no secret":    func(d *Destination) { d.Secret = nil },
		"bad shape":    func(d *Destination) { d.Shape = "teams" },
	} {
		d := ok
		change(&d)
		if err := d.Validate(); !errors.Is(err, precwatch.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := New(nil, nil, nil, []Destination{ok, ok}); err == nil {
		t.Error("two destinations of one name accepted")
	}
}

func TestBackoff(t *testing.T) {
	m, err := New(&Options{MinBackoff: time.Second, MaxBackoff: time.Minute}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for attempt, full := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 6: 32 * time.Second, 7: time.Minute, 60: time.Minute} {
		for range 50 {
			if d := m.backoff(attempt); d < full/2 || d > full {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", attempt, d, full/2, full)
			}
		}
	}
}

// TestNewDestinationOnEmptyLog: a new destination (not from_start) on an
// empty outbox gets every event written after it started, the first ones
// included.
func TestNewDestinationOnEmptyLog(t *testing.T) {
	stores(t, func(t *testing.T, open func() precwatch.Store) {
		s := open()
		ds := s.(precwatch.DeliveryStore)
		rc := newReceiver(t, nil)
		m, err := New(fastOptions(), nil, ds, []Destination{{Name: "new", URL: rc.srv.URL, Secret: secret}})
		if err != nil {
			t.Fatal(err)
		}
		start(t, m)
		deadline := time.Now().Add(30 * time.Second)
		for _, err := ds.DeliveryCursor(context.Background(), "new"); err != nil; _, err = ds.DeliveryCursor(context.Background(), "new") {
			if time.Now().After(deadline) {
				t.Fatalf("no cursor saved: %v", err)
			}
			time.Sleep(5 * time.Millisecond)
		}
		workload(t, s, 2)
		all := storetest.AllEvents(t, ds, "", 50)
		rc.waitFor(t, all)
		checkOrder(t, rc.accepted(), all)
	})
}

// TestTrimmedEventsReported: a destination that fails while the capped
// outbox trims events it has not read reports the loss in the delivery
// log (and resumes at the oldest event kept).
func TestTrimmedEventsReported(t *testing.T) {
	s, err := redis.Open(context.Background(), redistest.Start(t)+"?prefix=trim&stream_maxlen=5", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var down atomic.Bool
	down.Store(true)
	rc := newReceiver(t, func(hit int, w http.ResponseWriter, r *http.Request) bool {
		if !down.Load() {
			return false
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
		return true
	})
	m, err := New(fastOptions(), nil, s, []Destination{{Name: "soc", URL: rc.srv.URL, Secret: secret, FromStart: true}})
	if err != nil {
		t.Fatal(err)
	}
	start(t, m)
	sight(t, s, "silkvault", "T0", 10, t0, thiodiglycol())
	for i := range 400 {
		sight(t, s, "silkvault", fmt.Sprint("T", i+1), 10, t0, thiodiglycol())
	}
	down.Store(false)
	kept := storetest.AllEvents(t, s, "", 1000)
	rc.waitFor(t, kept)
	dl, err := s.Deliveries(context.Background(), "soc", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(dl, func(d precwatch.Delivery) bool {
		return d.Event == "gap" && !d.Delivered && strings.Contains(d.Error, "trimmed") && d.EventID == kept[0].ID
	}) {
		t.Errorf("no gap reported in the delivery log: %+v", dl[:min(len(dl), 5)])
	}
}
