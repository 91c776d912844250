package stixmisp

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// fakeMISP is a real HTTP server answering as MISP's REST API does for
// the three calls a push makes, keeping the events it was given and
// checking each request's shape.
type fakeMISP struct {
	t      *testing.T
	key    string
	schema *jsonschema.Schema

	mu       sync.Mutex
	events   map[string]string // event timestamp by UUID
	calls    []string          // "METHOD path"
	badAuths int               // requests without the key
}

func (f *fakeMISP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	if got := r.Header.Get("Authorization"); got != f.key {
		f.badAuths++
		http.Error(w, `{"message":"Authentication failed."}`, http.StatusForbidden)
		return
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		f.t.Errorf("%s %s: Accept %q", r.Method, r.URL.Path, got)
	}
	switch {
	case r.Method == http.MethodHead && strings.HasPrefix(r.URL.Path, "/misp/events/view/"):
		if _, ok := f.events[strings.TrimPrefix(r.URL.Path, "/misp/events/view/")]; !ok {
			w.WriteHeader(http.StatusNotFound)
		}
	case r.Method == http.MethodPost && (r.URL.Path == "/misp/events/add" || strings.HasPrefix(r.URL.Path, "/misp/events/edit/")):
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			f.t.Errorf("POST %s: Content-Type %q", r.URL.Path, ct)
		}
		doc, err := jsonschema.UnmarshalJSON(r.Body)
		if err != nil {
			f.t.Errorf("POST %s: %v", r.URL.Path, err)
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		if err := f.schema.Validate(doc); err != nil {
			f.t.Errorf("POST %s: body fails MISP's schema: %v", r.URL.Path, err)
		}
		uuid, _ := doc.(map[string]any)["Event"].(map[string]any)["uuid"].(string)
		ts, _ := doc.(map[string]any)["Event"].(map[string]any)["timestamp"].(string)
		stored, exists := f.events[uuid]
		if r.URL.Path == "/misp/events/add" && exists {
			// What MISP answers when an event with this UUID exists.
			w.Header().Set("Location", "/events/view/1")
			http.Error(w, `{"name":"Event already exists, if you would like to edit it, use the url in the location header."}`, http.StatusForbidden)
			return
		}
		if r.URL.Path != "/misp/events/add" && (!exists || r.URL.Path != "/misp/events/edit/"+uuid) {
			http.Error(w, `{"name":"Invalid event"}`, http.StatusNotFound)
			return
		}
		if exists && len(ts) == len(stored) && ts <= stored {
			// MISP's answer to an edit that is not newer than its copy.
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"saved":false,"name":"Could not edit Event","message":"Could not edit Event","url":"/events/edit","errors":"Event could not be saved: Event in the request not newer than the local copy."}`)
			return
		}
		f.events[uuid] = ts
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"Event":{"id":"1","uuid":"`+uuid+`"}}`)
	default:
		http.NotFound(w, r)
	}
}

// TestMISPPush pushes to a real HTTP server shaped as MISP: the first push
// adds the event, a second of the same alert leaves it (MISP refuses an
// edit that is not newer), a third after the alert changed edits it; the
// key travels in the Authorization header only; a refusal is an error
// naming the status and not the key.
func TestMISPPush(t *testing.T) {
	const key = "Zm9vYmFyLXRlc3Qta2V5LXRoYXQtaXMtbG9uZy1lbm91Z2g"
	f := &fakeMISP{t: t, key: key, schema: mispSchema(t), events: map[string]string{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	ctx := context.Background()
	e := newTestExporter(t)
	ev, err := e.MISP(ctx, testAlerts()[0])
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewMISPClient(srv.URL+"/misp/", key, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if res, err := c.Push(ctx, ev); err != nil || res != PushCreated {
		t.Fatalf("first push: %v, %v", res, err)
	}
	// The same alert again: MISP keeps its copy.
	if res, err := c.Push(ctx, ev); err != nil || res != PushUnchanged {
		t.Fatalf("second push, unchanged: %v, %v", res, err)
	}
	// The alert changed: the event is edited.
	a := testAlerts()[0]
	a.UpdatedAt = a.UpdatedAt.Add(time.Hour)
	ev2, _ := e.MISP(ctx, a)
	if res, err := c.Push(ctx, ev2); err != nil || res != PushUpdated {
		t.Fatalf("third push: %v, %v", res, err)
	}
	view, edit := "HEAD /misp/events/view/"+ev.UUID, "POST /misp/events/edit/"+ev.UUID
	want := []string{view, "POST /misp/events/add", view, edit, view, edit}
	if strings.Join(f.calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(f.calls, "\n"), strings.Join(want, "\n"))
	}
	if len(f.events) != 1 || f.badAuths != 0 {
		t.Errorf("%d events on the server, want 1; %d requests without the key", len(f.events), f.badAuths)
	}

	// A wrong key: refused, and the error does not carry the key.
	bad, _ := NewMISPClient(srv.URL+"/misp", "wrong-key-value", srv.Client())
	_, err = bad.Push(ctx, ev)
	if err == nil || !strings.Contains(err.Error(), "403") || strings.Contains(err.Error(), "wrong-key-value") || f.badAuths != 1 {
		t.Errorf("push with a wrong key: %v (%d refused)", err, f.badAuths)
	}
}

func TestNewMISPClient(t *testing.T) {
	for _, tc := range []struct {
		url, key string
		ok       bool
	}{
		{"https://misp.example.org", "k", true},
		{"https://misp.example.org/base/", "k", true},
		{"http://127.0.0.1:8443", "k", true},
		{"http://[::1]:8443", "k", true},
		{"http://misp.example.org", "k", false}, // the key in clear over a network
		{"https://user:pw@misp.example.org", "k", false},
		{"https://misp.example.org/?key=k", "k", false},
		{"ftp://misp.example.org", "k", false},
		{"misp.example.org", "k", false},
		{"https://misp.example.org", "  ", false},
	} {
		_, err := NewMISPClient(tc.url, tc.key, nil)
		if (err == nil) != tc.ok {
			t.Errorf("NewMISPClient(%q, %q): %v, want ok=%v", tc.url, tc.key, err, tc.ok)
		}
	}
}
