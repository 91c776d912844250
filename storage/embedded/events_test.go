package embedded

import (
	"path/filepath"
	"testing"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/storetest"
)

func TestEventsConformance(t *testing.T) {
	storetest.RunEvents(t, func(t *testing.T) func() precwatch.Store {
		path := filepath.Join(t.TempDir(), "precwatch.db")
		return func() precwatch.Store { return open(t, path) }
	})
}
