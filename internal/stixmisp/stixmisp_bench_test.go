package stixmisp

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/precwatch/precwatch"
)

// BenchmarkWrite exports 1,000 alerts (each with eleven seller
// identifiers) as MISP events and as one STIX bundle: the console's
// largest export is 10,000.
func BenchmarkWrite(b *testing.B) {
	base := testAlerts()[0]
	as := make([]precwatch.Alert, 1000)
	for i := range as {
		as[i] = base
		as[i].Key = fmt.Sprintf("%032x", i)
	}
	e, err := New(Options{Identifiers: testIdentifiers})
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range []Format{FormatMISP, FormatSTIX} {
		b.Run(string(f), func(b *testing.B) {
			for b.Loop() {
				if err := e.Write(context.Background(), io.Discard, f, as); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
