package redis

import (
	"testing"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/redis/redistest"
	"github.com/precwatch/precwatch/storage/storetest"
)

func TestEventsConformance(t *testing.T) {
	storetest.RunEvents(t, func(t *testing.T) func() precwatch.Store {
		url := redistest.Start(t) + "?prefix=events"
		return func() precwatch.Store { return open(t, url) }
	})
}

func TestClusterEventsConformance(t *testing.T) {
	c := redistest.StartCluster(t)
	storetest.RunEvents(t, func(t *testing.T) func() precwatch.Store {
		url := clusterFactory(t, c)
		return func() precwatch.Store { return open(t, url) }
	})
}
