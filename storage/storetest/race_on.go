//go:build race

package storetest

// raceEnabled: the race detector slows the stores' writes tenfold, so the
// size-heavy suites run smaller under it.
const raceEnabled = true
