package main

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"

	"github.com/precwatch/precwatch/storage/redis/redistest"
)

// TestTwoProcessesOneCluster: two real crawler processes on one Redis
// Cluster at once converge on one alert per listing and substance, as
// they do on one Redis (Redis Cluster, issue 9).
func TestTwoProcessesOneCluster(t *testing.T) {
	markets := startMarkets(t)
	sites := markets.Sites()
	config := writeConfig(t, sites)
	dsn := redistest.StartCluster(t).URL() + "?prefix=two"

	var wg sync.WaitGroup
	errs := make(chan error, 2*len(sites))
	for p := range 2 {
		wg.Go(func() {
			order := slices.Clone(sites)
			if p == 1 {
				slices.Reverse(order)
			}
			for _, s := range order {
				cmd := exec.CommandContext(t.Context(), os.Args[0])
				cmd.Env = append(os.Environ(), "PRECWATCH_TEST_MAIN=1",
					"PRECWATCH_TEST_ARGS=crawl --site "+s.Name+" --config "+config+" --store "+dsn+" --log-level warn")
				if out, err := cmd.CombinedOutput(); err != nil {
					errs <- fmt.Errorf("process %d crawl %s: %v\n%s", p, s.Name, err, out)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	compareSets(t, alertSet(t, listAlerts(t, config, dsn)), expectedAlerts())
}
