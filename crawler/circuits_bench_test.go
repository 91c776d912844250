package crawler

import (
	"fmt"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// BenchmarkCircuits crawls a market whose every answer takes 150ms to its
// first byte, as a Tor circuit's do, over 1, 4 and 8 circuits: 8 index
// pages and 16 detail pages a crawl.
func BenchmarkCircuits(b *testing.B) {
	for _, circuits := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("circuits=%d", circuits), func(b *testing.B) {
			pm := newPagedMarket(b, 8, 150*time.Millisecond, nil)
			rp := startRecordingProxy(b, map[string]string{onionA: pm.addr()})
			pages := 0
			for b.Loop() {
				b.StopTimer()
				store := openStore(b)
				site := precwatch.Site{
					Name: "bench", StartURLs: []string{"http://" + onionA + "/p/1"}, Proxy: rp.url(""), Extract: rules,
					Circuits: circuits, Limits: precwatch.Limits{RequestTimeout: 10 * time.Second, RunTimeout: time.Minute},
				}
				c, err := New(site, store, keywordMatcher{}, nil)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				run, err := c.Run(b.Context())
				if err != nil || run.Status != precwatch.RunOK {
					b.Fatalf("run: %v %+v", err, run)
				}
				pages += run.Pages
			}
			b.ReportMetric(float64(pages)/b.Elapsed().Seconds(), "pages/s")
		})
	}
}
