package matchers_test

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPUSeconds is the CPU time of the calling thread: the work of the
// goroutine locked to it, its share of garbage collection (the assists
// its allocations cost) included, the collector's background workers not.
func threadCPUSeconds() float64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return cpuSeconds()
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
