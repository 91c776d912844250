package webhook

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// BenchmarkDeliver: events per second from the outbox to a receiver on
// loopback that verifies each signature, one destination, on each store.
// The events are written before the timer starts.
func BenchmarkDeliver(b *testing.B) {
	for _, name := range []string{"embedded", "redis"} {
		b.Run(name, func(b *testing.B) {
			s := benchStore(b, name)
			for i := range b.N {
				l := listing("silkvault", fmt.Sprint("B", i), 10, t0)
				if _, err := s.Record(context.Background(), precwatch.Observation{Listing: l, Matches: []precwatch.Match{thiodiglycol()}, RunID: "r", At: t0}); err != nil {
					b.Fatal(err)
				}
			}
			var got atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if err := verifySignature(secret, body, r.Header.Get(HeaderSignature), time.Now(), 5*time.Minute); err != nil {
					http.Error(w, err.Error(), http.StatusUnauthorized)
					return
				}
				got.Add(1)
			}))
			defer srv.Close()
			b.ResetTimer()
			m, err := New(&Options{Poll: time.Millisecond}, nil, s.(precwatch.DeliveryStore),
				[]Destination{{Name: "soc", URL: srv.URL, Secret: secret, FromStart: true}})
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan struct{})
			go func() { m.Run(context.Background()); close(done) }()
			for got.Load() < int64(b.N) {
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			m.Stop()
			<-done
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
