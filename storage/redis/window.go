package redis

import (
	"math"
	"strconv"
	"time"
)

// window is a creation-time window as inclusive orderable bounds; a zero
// bound of the query is open.
type window struct {
	lo, hi           uint64 // orderable(since), orderable(until)
	loB, hiB         uint64 // the timeScore buckets they fall in
	checkLo, checkHi bool   // whether the bound is set
}

func newWindow(since, until time.Time) window {
	w := window{hi: math.MaxUint64, hiB: 1<<sevShift - 1}
	if !since.IsZero() {
		w.lo, w.checkLo = orderable(since), true
		w.loB = w.lo >> bucketShift
	}
	if !until.IsZero() {
		w.hi, w.checkHi = orderable(until), true
		w.hiB = w.hi >> bucketShift
	}
	return w
}

// has reports whether an order index member was created in the window,
// to the nanosecond.
func (w window) has(m string) bool {
	c, ok := memberCreated(m)
	return ok && c >= w.lo && c <= w.hi
}

// scoreArg is the time index score of a severity and bucket, as an exact
// integer argument.
func scoreArg(sev int, bucket uint64) string {
	return strconv.FormatUint(uint64(sev)<<sevShift|bucket, 10)
}

// sevLex is the lexicographic range of a severity's members in the all
// index.
func sevLex(sev int) (lo, hi string) {
	c := byte('9' - sev)
	return "[" + string(c), "(" + string(c+1)
}
