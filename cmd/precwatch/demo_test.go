//go:build demo

package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/embedded"
)

// TestDemo runs what `make run` runs, the demo build's `run --demo
// --run-on-start`, on a copy of configs/precwatch.yaml with a free proxy
// port: the fixture markets are crawled through the demo's SOCKS5 proxy
// and every expected alert, and no other, is raised.
func TestDemo(t *testing.T) {
	raw, err := os.ReadFile("../../configs/precwatch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	free := closedAddr(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "precwatch.yaml")
	if err := os.WriteFile(config, []byte(strings.ReplaceAll(string(raw), "127.0.0.1:19050", free)), 0o644); err != nil {
		t.Fatal(err)
	}
	wl, err := os.ReadFile(watchlistPath(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "watchlist.yaml"), wl, 0o644); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "precwatch.db")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errOut syncBuffer
	m := NewMain()
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(""), &out, &errOut
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, []string{"run", "--demo", "--run-on-start", "--addr", "", "--reload-interval", "0", "--config", config, "--store", store})
	}()
	deadline := time.After(3 * time.Minute)
	for !strings.Contains(out.String(), " alert(s)\n") {
		select {
		case err := <-done:
			t.Fatalf("demo exited before printing its alerts: %v\n%s\n%s", err, out.String(), errOut.String())
		case <-deadline:
			t.Fatalf("demo printed no alerts in 3 minutes:\n%s\n%s", out.String(), errOut.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil && ctx.Err() == nil {
		t.Errorf("demo: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	compareSets(t, alertSet(t, listAlerts(t, config, store)), expectedAlerts())
	demoVendorLinks(t, store)
	checkDemoWARCs(t, store) // issue 11
}

// demoVendorLinks: the demo read the vendor pages, so the seller with two
// handles is linked by its key and wallet (vendor profiles, issue 11).
func demoVendorLinks(t *testing.T, path string) {
	s, err := embedded.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := precwatch.LoadVendorProfile(t.Context(), s, precwatch.VendorRef{Site: "silkvault", Handle: "OxyDirect"})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, l := range p.Links {
		for _, r := range l.Reasons {
			kinds = append(kinds, l.Vendor.String()+" "+r.Kind)
		}
	}
	if want := []string{"dr_oxy@agora2 pgp-fingerprint", "dr_oxy@agora2 btc"}; !slices.Equal(kinds, want) {
		t.Errorf("OxyDirect's links in the demo: %q, want %q", kinds, want)
	}
}
