package crawler

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
	"github.com/precwatch/precwatch/storage/redis"
	"github.com/precwatch/precwatch/storage/redis/redistest"
)

// sharedCrawler is a crawler of site on its own connection to the Redis at
// url, as one of several processes sharing a run, holding leases as holder.
func sharedCrawler(t *testing.T, url string, site precwatch.Site, holder string, opts ...Option) *Crawler {
	st, err := redis.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	opts = append([]Option{WithLease(holder, 2*time.Second), WithVisibilityTimeout(2 * time.Second)}, opts...)
	c, err := New(site, st, keywordMatcher{}, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Two crawlers (as two processes would) on one Redis start one site: the
// second joins the first's run as a worker, the page budget holds across
// both, and the one run recorded counts every page once.
func TestSharedFrontierJoinAndBudget(t *testing.T) {
	e := newEnv(t)
	url := redistest.Start(t) + "?prefix=shared"
	site := e.torSite("/trap/")
	site.Limits.MaxPages, site.Limits.MaxDepth = 9, 100
	site.Politeness.Delay = 40 * time.Millisecond
	first, second := sharedCrawler(t, url, site, "first"), sharedCrawler(t, url, site, "second")
	type result struct {
		run precwatch.Run
		err error
	}
	done := make(chan result, 1)
	go func() {
		run, err := first.Run(t.Context())
		done <- result{run, err}
	}()
	for e.m.requests("") == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	share, err := second.Run(t.Context())
	if err != nil {
		t.Fatalf("second Run: %v", err)
	}
	res := <-done
	if res.err != nil {
		t.Fatalf("first Run: %v", res.err)
	}
	if share.ID != res.run.ID || share.Status != precwatch.RunRunning {
		t.Errorf("second process's run = %s %s, want a share of %s", share.ID, share.Status, res.run.ID)
	}
	if got, want := e.m.requests(""), 9; got != want {
		t.Errorf("requests = %d, want the shared budget %d", got, want)
	}
	if share.Pages == 0 {
		t.Errorf("the joined worker fetched no page")
	}
	runs, err := first.store.Runs(t.Context(), site.Name, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("runs = %+v, want one", runs)
	}
	r := runs[0]
	if r.Status != precwatch.RunPartial || r.Pages != 9 || r.Requests != 9 ||
		!strings.Contains(strings.Join(r.Errors, "\n"), "page limit 9 reached (limits.max_pages)") {
		t.Errorf("run = %s, %d pages, %d requests, errors %q; want partial, 9 pages and requests, the page limit named",
			r.Status, r.Pages, r.Requests, r.Errors)
	}
}

// A run shared by two workers counts the throttled answers both got (and
// the time held for them) in its one record.
func TestSharedFrontierCountsThrottling(t *testing.T) {
	url := redistest.Start(t) + "?prefix=throttle"
	st, err := redis.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := newPagedEnvOn(t, st, 6, 0, nil)
	// Every third request is refused, with Retry-After: 0 so that the
	// refusals use up no retries.
	var mu sync.Mutex
	served, refused := 0, 0
	e.pm.setGate(func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		if served++; served%3 != 0 {
			return false
		}
		refused++
		w.Header().Set("Retry-After", "0")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return true
	})
	site := e.site("sharedthrottle", "")
	site.Politeness.Delay = 40 * time.Millisecond
	first := sharedCrawler(t, url, site, "first", WithThrottleFloor(time.Millisecond))
	second := sharedCrawler(t, url, site, "second", WithThrottleFloor(time.Millisecond))
	done := make(chan error, 1)
	go func() {
		_, err := first.Run(t.Context())
		done <- err
	}()
	for e.pm.requests() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	share, err := second.Run(t.Context())
	if err != nil {
		t.Fatalf("second Run: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("first Run: %v", err)
	}
	runs, err := st.Runs(t.Context(), site.Name, 0)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs = %+v, %v; want one", runs, err)
	}
	r := runs[0]
	mu.Lock()
	defer mu.Unlock()
	if r.Status != precwatch.RunOK || r.Pages != 18 || r.Requests != served || r.Throttled != refused {
		t.Errorf("run %s: %d pages, %d requests, %d throttled; want ok, 18 pages, the market's %d requests and %d refusals",
			r.Status, r.Pages, r.Requests, r.Throttled, served, refused)
	}
	if share.Pages == 0 {
		t.Errorf("the joined worker fetched no page")
	}
	t.Logf("%d of %d requests refused, %d of them to the joined worker", refused, served, share.Throttled)
	if r.ThrottleWait < share.ThrottleWait {
		t.Errorf("run held %v for throttling, less than its worker's %v", r.ThrottleWait, share.ThrottleWait)
	}
}

// A market paged by a POST form is read to its end on the shared frontier
// too: the pages it posts for travel through Redis with what they post.
func TestSharedFrontierPostPager(t *testing.T) {
	srv, take := tableMarket(t, "post")
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: srv.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	site := precwatch.Site{Name: "tablet", Tor: true, StartURLs: []string{"http://" + onionA + "/listings"}, Proxy: p.URL(),
		Extract: precwatch.Extraction{Listing: "table.listings tr:has(td)", Title: "td:nth-of-type(1) a", URL: "td:nth-of-type(1) a @href",
			NextPage: "form.pager input[type=submit][value^=Next]"},
		Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second}}
	c := sharedCrawler(t, redistest.Start(t)+"?prefix=post", site, "one")
	run, err := c.Run(t.Context())
	h := take()
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 8 || h["/listings"] != 3 || h["POST"] != 2 {
		t.Fatalf("run %q %q (%v): %d listings; fetched %v; want ok, 8 listings, 3 index pages, 2 of them POSTs", run.Status, run.Errors, err, run.Listings, h)
	}
}

// aheadStore is a Redis store whose frontiers check, as each task is
// pushed, that every fetch the task's listing names is stored already.
type aheadStore struct {
	*redis.Store
	mu            sync.Mutex
	named, absent []string // fetches named by pushed tasks, and those not stored then
}

func (s *aheadStore) Frontier(site, runID string) precwatch.Frontier {
	return &aheadFrontier{Frontier: s.Store.Frontier(site, runID), s: s}
}

type aheadFrontier struct {
	precwatch.Frontier
	s *aheadStore
}

func (f *aheadFrontier) Push(ctx context.Context, key string, data []byte, maxTasks int) (bool, bool, error) {
	var st sharedTask
	if err := json.Unmarshal(data, &st); err != nil {
		return false, false, err
	}
	for _, id := range st.Listing.FetchIDs() {
		_, err := f.s.Fetch(ctx, id)
		f.s.mu.Lock()
		f.s.named = append(f.s.named, id)
		if errors.Is(err, precwatch.ErrNotFound) {
			f.s.absent = append(f.s.absent, st.URL+" names "+id)
		}
		f.s.mu.Unlock()
	}
	return f.Frontier.Push(ctx, key, data, maxTasks)
}

// On a shared frontier an index page is written before the detail tasks
// it sends on are pushed: a worker that takes one, while the page's
// reader is still at it or after it died, finds the fetch its listing
// names. (A worker killed between pushing them and writing the page left
// tasks whose listing named a fetch never stored: each waited for it
// and the listing was refused.)
func TestSharedFrontierPageStoredBeforeItsTasks(t *testing.T) {
	e := newEnv(t)
	st, err := redis.Open(t.Context(), redistest.Start(t)+"?prefix=ahead", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	as := &aheadStore{Store: st}
	c, err := New(e.torSite("/"), as, keywordMatcher{}, nil, WithLease("one", 2*time.Second), WithVisibilityTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Run(t.Context())
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 3 {
		t.Fatalf("run %s %q (%v): %d listings; want ok, 3", run.Status, run.Errors, err, run.Listings)
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	if len(as.named) < 3 || len(as.absent) > 0 {
		t.Errorf("%d fetches named by pushed tasks; not stored when pushed: %q", len(as.named), as.absent)
	}
}
