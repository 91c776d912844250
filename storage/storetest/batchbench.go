package storetest

// Throughput of RecordPage (issue 9): listings per second written a page
// at a time, the crawler's way.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// BenchPage is one index page of a benchmark: its evidence page (about
// 42 KB, as the shop pages of issue 9) and its listings' sightings.
type BenchPage struct {
	Page *precwatch.Page
	Obs  []precwatch.Observation
}

// BenchPages returns n pages of perPage Synthetic listings each, every
// page of one site and every listing naming its page as evidence.
func BenchPages(n, perPage int, start time.Time) []BenchPage {
	filler := strings.Repeat(`<div class="listing"><h2>Product</h2><p>Fast shipping worldwide. Escrow accepted.</p></div>`, 440)
	all := Synthetic(n*perPage, start)
	out := make([]BenchPage, n)
	for i := range out {
		obs := all[i*perPage : (i+1)*perPage]
		site := obs[0].Listing.Site
		body := []byte(fmt.Sprintf("<html><body><h1>%s page %d</h1>%s</body></html>", site, i, filler))
		sum := sha256.Sum256(body)
		p := &precwatch.Page{SHA256: hex.EncodeToString(sum[:]), Site: site, URL: fmt.Sprintf("http://%s.test/page/%d", site, i),
			FetchedAt: obs[0].At, ContentType: "text/html", Body: body}
		for k := range obs {
			obs[k].Listing.Site = site
			obs[k].Listing.PageSHA256 = p.SHA256
		}
		out[i] = BenchPage{Page: p, Obs: obs}
	}
	return out
}

// RecordPages writes pages with RecordPage from workers goroutines and
// returns the first error.
func RecordPages(ctx context.Context, s precwatch.Store, pages []BenchPage, workers int) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(pages) {
					return
				}
				if _, err := s.RecordPage(ctx, pages[i].Page, pages[i].Obs); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// ServerCPU is a store whose server's CPU time can be read (Redis, in its
// tests): benchmarks report it per listing, since the server's CPU is not
// the benchmark process's.
type ServerCPU interface {
	ServerCPU(ctx context.Context) (time.Duration, error)
}

// ServerMemory is a store whose server's memory can be read (Redis, in its
// tests): benchmarks report its growth per listing.
type ServerMemory interface {
	ServerMemory(ctx context.Context) (int64, error)
}

// ServerCommands is a store whose server counts the commands it has run
// (Redis, in its tests): benchmarks report them per page, a figure that
// does not depend on the machine's load at all.
type ServerCommands interface {
	ServerCommands(ctx context.Context) (int64, error)
}

// RoundTrips is a store that counts its round trips to its server (Redis,
// in its tests: a command or a pipeline each): benchmarks report them per
// page.
type RoundTrips interface {
	RoundTrips() int64
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter reports the CPU time spent per listing between its start and
// report, by this process (cpu_us/listing) and by the store's server
// (server_cpu_us/listing) when s is a ServerCPU: figures that depend far
// less than listings/s on what else the machine runs; and the growth of
// the server's memory (server_bytes/listing) when s is a ServerMemory;
// and per page, the server's commands (server_cmds/page) and the round
// trips (round_trips/page) when s counts them.
type cpuMeter struct {
	s              precwatch.Store
	proc, server   time.Duration
	serverReadable bool
	memory         int64
	memoryReadable bool
	commands       int64
	cmdsReadable   bool
	roundTrips     int64
}

func startCPU(b *testing.B, s precwatch.Store) *cpuMeter {
	m := &cpuMeter{s: s, proc: processCPU(b)}
	if sc, ok := s.(ServerCPU); ok {
		t, err := sc.ServerCPU(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		m.server, m.serverReadable = t, true
	}
	if sm, ok := s.(ServerMemory); ok {
		n, err := sm.ServerMemory(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		m.memory, m.memoryReadable = n, true
	}
	if sc, ok := s.(ServerCommands); ok {
		n, err := sc.ServerCommands(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		m.commands, m.cmdsReadable = n, true
	}
	// Last, and read first in report: the reads are round trips too.
	if rt, ok := s.(RoundTrips); ok {
		m.roundTrips = rt.RoundTrips()
	}
	return m
}

func (m *cpuMeter) report(b *testing.B, listings, pages int) {
	if rt, ok := m.s.(RoundTrips); ok {
		b.ReportMetric(float64(rt.RoundTrips()-m.roundTrips)/float64(pages), "round_trips/page")
	}
	if m.cmdsReadable {
		n, err := m.s.(ServerCommands).ServerCommands(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		// Less startCPU's own read, counted once it had run.
		b.ReportMetric(float64(n-m.commands-1)/float64(pages), "server_cmds/page")
	}
	b.ReportMetric(float64((processCPU(b)-m.proc).Microseconds())/float64(listings), "cpu_us/listing")
	if m.serverReadable {
		t, err := m.s.(ServerCPU).ServerCPU(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64((t-m.server).Microseconds())/float64(listings), "server_cpu_us/listing")
	}
	if m.memoryReadable {
		n, err := m.s.(ServerMemory).ServerMemory(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n-m.memory)/float64(listings), "server_bytes/listing")
	}
}

// MixPages makes pages a market's first crawl: only 1 listing in 20
// matches the watchlist and raises alerts, the others have no match.
func MixPages(pages []BenchPage) {
	n := 0
	for _, p := range pages {
		for k := range p.Obs {
			if n%20 != 0 {
				p.Obs[k].Matches = nil
			}
			n++
		}
	}
}

// BenchRecordPage measures RecordPage on s: b.N index pages of perPage
// listings written from workers goroutines: new listings (every one
// raising alerts), the same listings seen unchanged by a later run, and
// new listings of which 1 in 20 raises alerts (MixPages), reporting
// listings/s.
func BenchRecordPage(b *testing.B, s precwatch.Store, perPage, workers int) {
	ctx := context.Background()
	start := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	var pages []BenchPage
	// measure records pages as the timed part and reports listings/s and
	// the CPU per listing.
	measure := func(b *testing.B, pages []BenchPage) {
		b.ResetTimer()
		t, cpu := time.Now(), startCPU(b, s)
		if err := RecordPages(ctx, s, pages, workers); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(b.N*perPage)/time.Since(t).Seconds(), "listings/s")
		cpu.report(b, b.N*perPage, b.N)
	}
	b.Run(fmt.Sprintf("new/per_page=%d/workers=%d", perPage, workers), func(b *testing.B) {
		pages = BenchPages(b.N, perPage, start)
		start = start.Add(time.Duration(b.N*perPage) * time.Second)
		measure(b, pages)
	})
	b.Run(fmt.Sprintf("unchanged/per_page=%d/workers=%d", perPage, workers), func(b *testing.B) {
		pages = BenchPages(b.N, perPage, start)
		if err := RecordPages(ctx, s, pages, workers); err != nil {
			b.Fatal(err)
		}
		// The next run sees every listing again, unchanged.
		for _, p := range pages {
			for k := range p.Obs {
				p.Obs[k].At = p.Obs[k].At.Add(24 * time.Hour)
				p.Obs[k].RunID = "run-bench-2"
			}
		}
		measure(b, pages)
	})
	b.Run(fmt.Sprintf("mix/per_page=%d/workers=%d", perPage, workers), func(b *testing.B) {
		pages = BenchPages(b.N, perPage, start)
		// Listings of their own: the others' identities are stored.
		for _, p := range pages {
			for k := range p.Obs {
				p.Obs[k].Listing.ID = "mix-" + p.Obs[k].Listing.ID
			}
		}
		MixPages(pages)
		measure(b, pages)
	})
}
