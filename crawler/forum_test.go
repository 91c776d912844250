package crawler

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
)

// forumMarket is a phpBB-style board: each listing is a thread,
// viewtopic.php?t=N, listed on viewforum.php?f=F pages that hold one thread
// each, and every link carries a session id (sid=, or vBulletin's s=) new
// on each request. The first post is the offer; a buyer's reply follows.
func forumMarket(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	threads := map[string]struct{ title, offer, reply string }{
		"11": {"Hydrogen peroxide 35% &ndash; 5 L", "Hydrogen peroxide 35%, 5 L, sealed. Escrow only.", "received, thanks"},
		"12": {"Hydrogen peroxide 50% &ndash; 1 L", "Hydrogen peroxide 50%, 1 L. Ships in 2 days.", "A+++"},
		"13": {"Beaker set 250 ml", "Borosilicate beakers, 5 pieces.", "got any peroxide?"},
	}
	forums := map[string]string{"1": "11", "2": "12", "3": "13"}
	sid := func() string {
		var b [16]byte
		rand.Read(b[:])
		return hex.EncodeToString(b[:])
	}
	var topics atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /index.php", func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		for f := range 3 {
			fmt.Fprintf(&b, `<a class="forumtitle" href="./viewforum.php?f=%d&amp;sid=%s">Forum %d</a>`, f+1, sid(), f+1)
		}
		fmt.Fprintf(w, `<html><body><div id="page-body">%s</div></body></html>`, b.String())
	})
	mux.HandleFunc("GET /viewforum.php", func(w http.ResponseWriter, r *http.Request) {
		tid := forums[r.URL.Query().Get("f")]
		// A vBulletin-style link on forum 3: its session hash is "s".
		link := fmt.Sprintf("./viewtopic.php?t=%s&amp;sid=%s", tid, sid())
		if tid == "13" {
			link = fmt.Sprintf("./viewtopic.php?s=%s&amp;t=%s", sid(), tid)
		}
		fmt.Fprintf(w, `<html><body><ul class="topiclist topics"><li class="row"><a href="%s" class="topictitle">%s</a>`+
			`<div class="topic-poster">by <a class="username" href="./memberlist.php?u=2&amp;sid=%s">seller%s</a></div></li></ul></body></html>`,
			link, threads[tid].title, sid(), tid)
	})
	mux.HandleFunc("GET /viewtopic.php", func(w http.ResponseWriter, r *http.Request) {
		topics.Add(1)
		th, ok := threads[r.URL.Query().Get("t")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `<html><body><div id="page-body"><div class="action-bar">Post Reply</div>`+
			`<div class="post"><h3 class="first">%s</h3><div class="content">%s</div></div>`+
			`<div class="post"><h3>Re: %s</h3><div class="content">%s</div></div></div></body></html>`,
			th.title, th.offer, th.title, th.reply)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &topics
}

// TestForumThreads: a board whose forum pages list one thread each, with
// session ids in every link, is crawled into one listing per thread,
// identified by its URL without the session id (not by the script name
// viewtopic, which every thread shares), each with its first post read;
// a second run finds the same three listings and raises nothing.
func TestForumThreads(t *testing.T) {
	srv, topics := forumMarket(t)
	e := proxiedEnv(t, srv, nil)
	p := e.proxy
	site := precwatch.Site{
		Name: "board", Tor: true, StartURLs: []string{"http://" + onionA + "/index.php"}, Proxy: p.URL(),
		Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second, MaxDepth: 1},
		Extract: precwatch.Extraction{
			Listing: "ul.topiclist li.row", Title: "a.topictitle", Vendor: "div.topic-poster a.username", URL: "a.topictitle @href",
			Links:  []string{"a.forumtitle @href"},
			Detail: &precwatch.Extraction{Description: "h3.first ~ div.content"},
		},
	}
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 3 || run.NewListings != 3 || run.Alerts != 2 || topics.Load() != 3 {
		t.Fatalf("run: %v %q %q, %d listings (%d new), %d alerts, %d threads read; want ok, 3 (3), 2, 3", err, run.Status, run.Errors, run.Listings, run.NewListings, run.Alerts, topics.Load())
	}
	got := map[string]string{}
	err = e.store.Listings(t.Context(), "", func(st precwatch.ListingState) error {
		got[st.Listing.Identity()] = st.Listing.Description
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"url:http://" + onionA + "/viewtopic.php?t=11": "Hydrogen peroxide 35%, 5 L, sealed. Escrow only.",
		"url:http://" + onionA + "/viewtopic.php?t=12": "Hydrogen peroxide 50%, 1 L. Ships in 2 days.",
		"url:http://" + onionA + "/viewtopic.php?t=13": "Borosilicate beakers, 5 pieces.",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("listings (identity: first post):\n%v\nwant\n%v", got, want)
	}
	run, err = e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 3 || run.NewListings != 0 || run.Alerts != 0 || run.DetailsSkipped != 3 {
		t.Errorf("second run: %v %q %q, %d listings (%d new), %d alerts, %d details skipped; want ok, 3 (0), 0, 3", err, run.Status, run.Errors, run.Listings, run.NewListings, run.Alerts, run.DetailsSkipped)
	}
	if e.directs.Load() != 0 {
		t.Errorf("direct dials = %d", e.directs.Load())
	}
}

// TestDetailRuleMatchingNothing: a detail rule that matches nothing on any
// detail page (phpBB puts an action bar before the posts, so
// "div.post:first-of-type" finds none) leaves the run ok, its listings
// read from the index, and says so in a warning naming the field and the
// rule; the right rule gives no warning. The warning comes also when the
// index rows give the field (a snippet): the detail rule is still wrong.
func TestDetailRuleMatchingNothing(t *testing.T) {
	srv, _ := forumMarket(t)
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: srv.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	for _, c := range []struct {
		rule, index string // the detail and the index description rules
		warn        bool
	}{
		{"div.post:first-of-type div.content", "", true}, {"h3.first ~ div.content", "", false},
		{"div.post:first-of-type div.content", "a.topictitle", true}, {"h3.first ~ div.content", "a.topictitle", false},
	} {
		site := precwatch.Site{
			Name: "board", Tor: true, StartURLs: []string{"http://" + onionA + "/index.php"}, Proxy: p.URL(),
			Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second, MaxDepth: 1},
			Extract: precwatch.Extraction{
				Listing: "ul.topiclist li.row", Title: "a.topictitle", URL: "a.topictitle @href",
				Description: c.index,
				Links:       []string{"a.forumtitle @href"},
				Detail:      &precwatch.Extraction{Description: c.rule},
			},
		}
		var mu sync.Mutex
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelWarn}))
		cr, err := New(site, openStore(t), keywordMatcher{}, logger, WithRetryBackoff(time.Millisecond, 5*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		run, err := cr.Run(t.Context())
		if err != nil || run.Status != precwatch.RunOK || run.Listings != 3 {
			t.Fatalf("%s: run %v %q %q, %d listings; want ok, 3", c.rule, err, run.Status, run.Errors, run.Listings)
		}
		mu.Lock()
		out := logs.String()
		mu.Unlock()
		warned := strings.Contains(out, "detail rules matched nothing") && strings.Contains(out, `description (\"`+c.rule+`\")`)
		if warned != c.warn || !c.warn && strings.Contains(out, "detail rules matched nothing") {
			t.Errorf("%s: warned %v, want %v; logs:\n%s", c.rule, warned, c.warn, out)
		}
	}
}
