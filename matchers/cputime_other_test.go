//go:build !linux

package matchers_test

// threadCPUSeconds falls back to the process's CPU time where there is no
// per-thread figure.
func threadCPUSeconds() float64 { return cpuSeconds() }
