package redis

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/storetest"
)

// fill sets v (a settable value) to random contents, every field of every
// struct included: a field added to ListingState or what it holds gets
// values, so that appendState, which does not know it, fails the test.
func fill(r *rand.Rand, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(randString(r))
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Float64:
		v.SetFloat(randFloat(r))
	case reflect.Int, reflect.Int64:
		v.SetInt(r.Int64N(12) - 2) // a Severity's names and beyond
	case reflect.Pointer:
		if r.IntN(3) == 0 {
			v.SetZero()
			return
		}
		e := reflect.New(v.Type().Elem())
		fill(r, e.Elem())
		v.Set(e)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(randTime(r)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(r, v.Field(i))
			}
		}
	case reflect.Slice:
		switch r.IntN(4) {
		case 0: // nil
			v.SetZero()
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			s := reflect.MakeSlice(v.Type(), 1+r.IntN(3), 3)
			for i := range s.Len() {
				fill(r, s.Index(i))
			}
			v.Set(s)
		}
	case reflect.Map:
		switch r.IntN(4) {
		case 0:
			v.SetZero()
		case 1:
			v.Set(reflect.MakeMap(v.Type()))
		default:
			m := reflect.MakeMap(v.Type())
			for range 1 + r.IntN(4) {
				k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
				fill(r, k)
				fill(r, e)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	default:
		panic("fill: no generator for " + v.Type().String())
	}
}

func randString(r *rand.Rand) string {
	pieces := []string{"", "a", "Hydrogen peroxide 30%", "Fish & chips", "<b>x</b>", `quote " and \ back`,
		"tab\tnew\nline", "\x00\x01\x1f\x7f", "Schwefelsäure", "日本語", "\u2028\u2029", "\xff\xfe bad utf8",
		"emoji 😀", "\ud7ff", "id:B0000001", "2ee88335195b0767c72b8fbb004d418d", "/slash/", "caf\u00e9"}
	if r.IntN(8) == 0 {
		return ""
	}
	var b strings.Builder
	for range 1 + r.IntN(3) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func randFloat(r *rand.Rand) float64 {
	fs := []float64{0, math.Copysign(0, -1), 1, -1, 12.5, 0.1, 1e-6, 9.99e-7, 1e20, 1e21, 123456789.125,
		math.SmallestNonzeroFloat64, math.MaxFloat64, -3.3e-9, 4.5e22, 2e-7, math.Inf(1), math.NaN()}
	if r.IntN(3) == 0 {
		return (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(30)-10))
	}
	return fs[r.IntN(len(fs))]
}

func randTime(r *rand.Rand) time.Time {
	base := time.Date(2026, 2, 1, 12, 34, 56, r.IntN(3)*123456789, time.UTC)
	switch r.IntN(7) {
	case 0:
		return time.Time{}
	case 1:
		return base.In(time.FixedZone("", 5*3600+1800))
	case 2:
		return base.In(time.FixedZone("odd", -(3*3600 + 17)))
	case 3:
		return time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) // json.Marshal refuses it
	case 4:
		return base.Local()
	}
	return base.Add(time.Duration(r.Int64N(1e15)))
}

// TestStateJSON: appendState writes what json.Marshal writes, and
// parseState reads what json.Unmarshal reads, on random states and on
// their JSON respaced, reordered, with an unknown field, a repeated one,
// a null and escapes.
func TestStateJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	decodeBoth := func(t *testing.T, raw []byte) {
		t.Helper()
		var want precwatch.ListingState
		wantErr := json.Unmarshal(raw, &want)
		got, err := parseState(string(raw))
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("parseState(%s): error %v, json.Unmarshal: %v", raw, err, wantErr)
		}
		if err == nil && !reflect.DeepEqual(*got, want) {
			t.Fatalf("parseState(%s) =\n%#v\njson.Unmarshal:\n%#v", raw, *got, want)
		}
	}
	encoded := 0
	for i := range 20000 {
		var st precwatch.ListingState
		fill(r, reflect.ValueOf(&st).Elem())
		want, wantErr := json.Marshal(st)
		got, err := appendState([]byte("prefix"), &st)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("state %d: appendState error %v, json.Marshal error %v", i, err, wantErr)
		}
		if err != nil {
			continue
		}
		encoded++
		if !bytes.Equal(got[len("prefix"):], want) {
			t.Fatalf("state %d:\nappendState %s\njson.Marshal %s", i, got[len("prefix"):], want)
		}
		decodeBoth(t, want)
		if i%10 != 0 {
			continue
		}
		var indented bytes.Buffer
		if err := json.Indent(&indented, want, " ", "\t"); err != nil {
			t.Fatal(err)
		}
		decodeBoth(t, indented.Bytes())
		var generic map[string]any
		if err := json.Unmarshal(want, &generic); err != nil {
			t.Fatal(err)
		}
		reordered, _ := json.Marshal(generic) // keys sorted: another order
		decodeBoth(t, reordered)
		s := string(want)
		for _, variant := range []string{
			strings.Replace(s, `{"key":`, `{"extra":1,"key":`, 1),
			strings.Replace(s, `{"key":`, `{"Key":`, 1),
			strings.Replace(s, `"gone":`, `"last_run_id":"again","gone":`, 1),
			strings.Replace(s, `{"site":`, `{"title":null,"site":`, 1),
			strings.Replace(s, `"fingerprint":"`, `"fingerprint":"\/\u00e9\n\ud83d\ude00`, 1),
			strings.Replace(s, `"fingerprint":"`, `"fingerprint":"\x41`, 1),
			strings.Replace(s, `"material":{`, `"material":{"currency":"X",`, 1),
			strings.Replace(s, `"listing":{`, `"listing":{"price":1.5e3,`, 1),
			strings.Replace(s, `"listing":{`, `"listing":{"price":01,`, 1),
			s + " ",
			s + "x",
			s[:len(s)/2],
		} {
			decodeBoth(t, []byte(variant))
		}
	}
	if encoded < 5000 {
		t.Fatalf("only %d of 20000 random states encoded: the generator makes too many invalid ones", encoded)
	}
	// The benchmark's states, as RecordPage writes them.
	for _, o := range storetest.Synthetic(50, time.Now()) {
		st, _, _ := precwatch.Reconcile(nil, nil, o)
		want, _ := json.Marshal(st)
		got, err := appendState(nil, &st)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("appendState(%s) = %s, %v", want, got, err)
		}
		decodeBoth(t, want)
	}
}

// TestAlertJSON: appendAlert writes what json.Marshal writes, on random
// alerts (every field filled, so that a field appendAlert does not know
// fails it) and on the benchmark's.
func TestAlertJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	encoded := 0
	for i := range 20000 {
		var a precwatch.Alert
		fill(r, reflect.ValueOf(&a).Elem())
		want, wantErr := json.Marshal(a)
		got, err := appendAlert([]byte("prefix"), &a)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("alert %d: appendAlert error %v, json.Marshal error %v", i, err, wantErr)
		}
		if err != nil {
			continue
		}
		encoded++
		if !bytes.Equal(got[len("prefix"):], want) {
			t.Fatalf("alert %d:\nappendAlert  %s\njson.Marshal %s", i, got[len("prefix"):], want)
		}
	}
	if encoded < 2000 {
		t.Fatalf("only %d of 20000 random alerts encoded", encoded)
	}
	if testing.Verbose() {
		t.Logf("%d of 20000 random alerts encoded", encoded)
	}
	for _, o := range storetest.Synthetic(50, time.Now()) {
		_, write, _ := precwatch.Reconcile(nil, nil, o)
		for _, a := range write {
			want, _ := json.Marshal(a)
			got, err := appendAlert(nil, &a)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("appendAlert(%s) = %s, %v", want, got, err)
			}
		}
	}
}

// TestGoneFields: on random states and runs, goneFields decides as the
// whole state does (so GoneAfter reads nothing it skips: a field GoneAfter
// starts reading, filled at random here, fails this), and reads what
// parseState reads.
func TestGoneFields(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	agree := 0
	for i := range 20000 {
		var st precwatch.ListingState
		fill(r, reflect.ValueOf(&st).Elem())
		if r.IntN(2) == 0 {
			st.Gone = false // more states GoneAfter can make gone
		}
		raw, err := json.Marshal(st)
		if err != nil {
			continue
		}
		var run precwatch.Run
		fill(r, reflect.ValueOf(&run).Elem())
		switch r.IntN(3) {
		case 0:
			run.Site = st.Listing.Site
		case 1:
			run.Site, run.ID = st.Listing.Site, st.LastRunID
		}
		if r.IntN(2) == 0 {
			run.Start = st.LastSeen.Add(time.Duration(r.IntN(3)-1) * time.Nanosecond)
		}
		whole, err := parseState(string(raw))
		if err != nil {
			t.Fatalf("parseState(%s): %v", raw, err)
		}
		s := string(raw)
		if i%3 == 0 { // spaced and reordered: read all the same
			var generic map[string]any
			_ = json.Unmarshal(raw, &generic)
			b, _ := json.MarshalIndent(generic, "", " ")
			s = string(b)
		}
		probe, ok := goneFields(s)
		if !ok {
			t.Fatalf("goneFields(%s) did not read a state parseState reads", s)
		}
		if got, want := precwatch.GoneAfter(probe, run), precwatch.GoneAfter(*whole, run); got != want {
			t.Fatalf("GoneAfter on goneFields(%s) = %v, on the whole state %v (run %+v)", s, got, want, run)
		}
		if probe.Listing.Site != whole.Listing.Site || !probe.LastSeen.Equal(whole.LastSeen) || probe.LastRunID != whole.LastRunID || probe.Gone != whole.Gone {
			t.Fatalf("goneFields(%s) = %+v", s, probe)
		}
		agree++
	}
	if agree < 5000 {
		t.Fatalf("goneFields read only %d of 20000 random states", agree)
	}
	// Edge cases of the format: read as the whole state reads them, or
	// not at all (a state that does not decode).
	run := precwatch.Run{Site: "b", ID: "r2", Start: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	for _, s := range []string{`{"listing":{"site":"b"},"gone":null}`, `{"listing":{"site":"a","site":"b"}}`,
		`{"Listing":{"SITE":"b"},"Last_Seen":"2026-01-01T00:00:00Z"}`, `{"gone":false} x`, `{"listing":{"site":"b"}`,
		`{"listing":{"site":"b"},"last_seen":"2026-01-01T00:00:00Z","last_seen":"2027-01-01T00:00:00Z"}`} {
		probe, ok := goneFields(s)
		whole, err := parseState(s)
		if ok != (err == nil) {
			t.Fatalf("goneFields(%s): ok %v, parseState error %v", s, ok, err)
		}
		if ok && (probe.Listing.Site != whole.Listing.Site || !probe.LastSeen.Equal(whole.LastSeen) || probe.Gone != whole.Gone ||
			precwatch.GoneAfter(probe, run) != precwatch.GoneAfter(*whole, run)) {
			t.Fatalf("goneFields(%s) = %+v, parseState %+v", s, probe, *whole)
		}
	}
}

func BenchmarkStateJSON(b *testing.B) {
	o := storetest.Synthetic(5, time.Now())[4]
	st, _, _ := precwatch.Reconcile(nil, nil, o)
	raw, _ := json.Marshal(st)
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(st)
		}
	})
	b.Run("appendState", func(b *testing.B) {
		buf := make([]byte, 0, 2048)
		for b.Loop() {
			buf, _ = appendState(buf[:0], &st)
		}
	})
	b.Run("json.Unmarshal", func(b *testing.B) {
		for b.Loop() {
			var x precwatch.ListingState
			_ = json.Unmarshal(raw, &x)
		}
	})
	b.Run("parseState", func(b *testing.B) {
		s := string(raw)
		for b.Loop() {
			_, _ = parseState(s)
		}
	})
	b.Run("goneFields", func(b *testing.B) {
		s := string(raw)
		for b.Loop() {
			_, _ = goneFields(s)
		}
	})
}
