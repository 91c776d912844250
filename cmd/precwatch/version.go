package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// versionText is `precwatch --version`: the version injected with
// -ldflags "-X main.version=...", the Go toolchain, and the source revision
// the go command stamped into the binary (absent in a test binary).
func versionText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "precwatch %s\ngo: %s %s/%s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b.String()
	}
	if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		fmt.Fprintf(&b, "module: %s %s\n", bi.Main.Path, bi.Main.Version)
	}
	vcs := map[string]string{}
	for _, s := range bi.Settings {
		vcs[s.Key] = s.Value
	}
	if rev := vcs["vcs.revision"]; rev != "" {
		fmt.Fprintf(&b, "revision: %s", rev)
		if t := vcs["vcs.time"]; t != "" {
			fmt.Fprintf(&b, " (%s)", t)
		}
		if vcs["vcs.modified"] == "true" {
			b.WriteString(" with local changes")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// buildInfo is the precwatch_build_info gauge: always 1, its labels say
// which build is running, so that a dashboard can show a roll-out.
func buildInfo() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "precwatch_build_info",
		Help:        "Always 1; labelled with the running build's version and Go version.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	g.Set(1)
	return g
}
