package embedded

import (
	"path/filepath"
	"testing"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/storetest"
)

func TestPruneConformance(t *testing.T) {
	storetest.RunPrune(t, func(t *testing.T) func() precwatch.Store {
		path := filepath.Join(t.TempDir(), "precwatch.db")
		return func() precwatch.Store { return open(t, path) }
	})
}
