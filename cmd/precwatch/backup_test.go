package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/embedded"
	"github.com/precwatch/precwatch/storage/storetest"
)

// TestBackupWhileCrawling, with real processes: `precwatch backup` run
// again and again while `precwatch crawl` processes write the same
// embedded store. Every backup opens as a store whose alerts each have
// their evidence page and fetches; a backup taken mid-run, restored in
// place of the store, is crawled into again: the run it caught running is
// settled (resumed or abandoned), none stays running, and the alerts
// converge on the reference set.
func TestBackupWhileCrawling(t *testing.T) {
	t.Parallel() // see TestMain
	markets := startMarkets(t)
	site := scaleSite(markets)
	config := writeConfig(t, []precwatch.Site{site})
	dir := t.TempDir()
	store := filepath.Join(dir, "precwatch.db")
	crawl := func(st string) *daemonProc {
		return startProc(t, crawlArgs(site, config, st, "--lease-ttl 2s"))
	}

	var backups []embedded.BackupInfo
	midRun := ""
	for round := 0; round < 3; round++ {
		c := crawl(store)
		// A few backups a round, each checked whole, keep the test short;
		// more until one catches a run with alerts, as on a loaded machine
		// the crawl may spend the first few still starting.
		for i := 0; !c.exited() && (i < 6 || midRun == "" && i < 40); i++ {
			out := filepath.Join(dir, fmt.Sprintf("backup-%d-%d.db", round, i))
			// Looked at before the backup starts: the crawl may create the
			// store between the backup's own look and a later one.
			_, statErr := os.Stat(store)
			b := startProc(t, "backup --store "+store+" --out "+out+" --json")
			<-b.done
			if b.err != nil {
				if statErr != nil && round == 0 {
					continue // the first crawl had not created the store yet
				}
				t.Fatalf("backup: %v\n%s", b.err, strings.Join(b.lines(true), "\n"))
			}
			var info embedded.BackupInfo
			if err := json.Unmarshal([]byte(strings.Join(b.lines(false), "")), &info); err != nil {
				t.Fatalf("backup --json: %v: %q", err, b.lines(false))
			}
			backups = append(backups, info)
			if midRun == "" && runningRuns(t, out) > 0 && info.Alerts > 0 {
				midRun = out
			}
		}
		<-c.done
		if c.err != nil {
			t.Fatalf("crawl round %d: %v\n%s", round, c.err, strings.Join(c.lines(true), "\n"))
		}
	}
	if len(backups) < 3 || midRun == "" {
		t.Fatalf("%d backups, one mid-run: %v; want several taken while the crawls ran", len(backups), midRun != "")
	}
	for _, b := range backups {
		checkEvidence(t, b.Path)
	}
	t.Logf("%d backups while crawling; last: %+v", len(backups), backups[len(backups)-1])

	// Restore the mid-run backup in place of a store and crawl into it.
	restored := filepath.Join(dir, "restored.db")
	raw, err := os.ReadFile(midRun)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(restored, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // the copied lease's time to live
	c := crawl(restored)
	<-c.done
	if c.err != nil {
		t.Fatalf("crawl of the restored store: %v\n%s", c.err, strings.Join(c.lines(true), "\n"))
	}
	if n := runningRuns(t, restored); n != 0 {
		t.Errorf("restored store: %d runs still running after a crawl", n)
	}
	compareSets(t, alertSet(t, listAlerts(t, config, restored)), siteAlerts(site.Name))
	checkEvidence(t, restored)
}

// runningRuns counts the runs the store at path holds as running.
func runningRuns(t *testing.T, path string) int {
	t.Helper()
	st, err := embedded.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(t.Context(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range runs {
		if r.Status == precwatch.RunRunning {
			n++
		}
	}
	return n
}

// checkEvidence fails unless every alert and listing of the store at
// path has its evidence: pages, fetch records and their bodies
// (storetest.EvidenceIntact).
func checkEvidence(t *testing.T, path string) {
	t.Helper()
	st, err := embedded.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	storetest.EvidenceIntact(t, st)
}
