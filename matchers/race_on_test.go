//go:build race

package matchers_test

// raceEnabled: the race detector slows matching tenfold, so size-heavy
// tests scale down.
const raceEnabled = true
