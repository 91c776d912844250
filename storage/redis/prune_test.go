package redis

import (
	"testing"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/redis/redistest"
	"github.com/precwatch/precwatch/storage/storetest"
)

func TestPruneConformance(t *testing.T) {
	storetest.RunPrune(t, func(t *testing.T) func() precwatch.Store {
		url := redistest.Start(t) + "?prefix=prune"
		return func() precwatch.Store { return open(t, url) }
	})
}

func TestClusterPruneConformance(t *testing.T) {
	c := redistest.StartCluster(t)
	storetest.RunPrune(t, func(t *testing.T) func() precwatch.Store {
		url := clusterFactory(t, c)
		return func() precwatch.Store { return open(t, url) }
	})
}
