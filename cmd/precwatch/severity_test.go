package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/precwatch/precwatch"
)

// TestSeverityConfigErrors: a bad `severity:` block is blamed on its own
// field, at its line and column, like every other config error.
func TestSeverityConfigErrors(t *testing.T) {
	for name, tc := range map[string]struct{ block, want string }{
		"bad severity name": {
			block: "severity:\n  base:\n    cwc-schedule-3: urgent\n",
			want:  `:9:21: severity.base.cwc-schedule-3: severity "urgent" (want one of none, low, medium, high, critical)`},
		"unknown class": {
			block: "severity:\n  base: {cwc-schedule-9: high}\n",
			want:  `:8:10: severity.base.cwc-schedule-9: unknown class "cwc-schedule-9"`},
		"none would drop alerts": {
			block: "severity:\n  base:\n    eu-2019-1148-annex-ii: none\n",
			want:  `:9:5: severity.base.eu-2019-1148-annex-ii: want low, medium, high or critical, got "none"`},
		"unknown raised class": {
			block: "severity:\n  raise: [cwc-schedule-3, schedule-4]\n",
			want:  `severity.raise[1]: unknown class "schedule-4"`},
		"negative steps": {
			block: "severity:\n  bulk: -1\n",
			want:  `:8:3: severity.bulk: want 0 to 4 steps, got -1`},
		"zero bulk amount": {
			block: "severity:\n  bulk_grams: 0\n",
			want:  `:8:3: severity.bulk_grams: want a positive amount`},
		"one-member family": {
			block: "severity:\n  families:\n    gases: [phosgene]\n",
			want:  `:9:5: severity.families.gases: want 2 to 64 substance ids, got 1`},
		"family member not in the watchlist": {
			block: "severity:\n  families:\n    amines: [triethanolamine, triethanolamin]\n",
			want:  `:9:31: severity.families.amines[1]: no substance "triethanolamin" in the watchlist`},
		"unknown key": {
			block: "severity:\n  dark_webb: 1\n",
			want:  `:8:3: severity.dark_webb: unknown field "dark_webb"`},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := configCheck(t, siteConfig(t, "", "")+tc.block)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Errorf("config check: %v\n%s\nwant %q", err, out, tc.want)
			}
		})
	}
}

// TestSeverityConfigMerges: what a deployment sets is merged over the
// default policy, and `precwatch match` applies it.
func TestSeverityConfigMerges(t *testing.T) {
	cfg, err := ParseConfig(filepath.Join(t.TempDir(), "c.yaml"), []byte(siteConfig(t, "", "")+
		"severity:\n  base: {cwc-schedule-3: medium}\n  dark_web: 0\n  families:\n    amines: [triethanolamine, methyldiethanolamine]\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Severity
	if p.Base[precwatch.ClassCWC3] != precwatch.SeverityMedium || p.Base[precwatch.ClassCWC1] != precwatch.SeverityCritical ||
		p.DarkWeb != 0 || p.Bulk != 1 || len(p.Families["amines"]) != 2 || len(p.Families["phosphorus"]) == 0 {
		t.Errorf("merged policy = %+v", p)
	}

	// `precwatch match`: the default policy raises Schedule 3 on an
	// .onion URL, the deployment's (dark_web: 0, base medium) does not.
	in := `{"id":"t1","url":"http://abc.onion/i/1","title":"Triethanolamine 99%, 500 ml"}` + "\n"
	severity := func(args ...string) []string {
		t.Helper()
		out, stderr, err := run(t, t.Context(), in, append([]string{"match"}, args...)...)
		if err != nil {
			t.Fatalf("match: %v\n%s", err, stderr)
		}
		var res struct{ Matches []precwatch.Match }
		if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Matches) == 0 {
			t.Fatalf("match output %q: %v", out, err)
		}
		return []string{res.Matches[0].Severity.String(), res.Matches[0].Reasons[0]}
	}
	if got := severity("--watchlist", watchlistPath(t)); got[0] != "medium" || got[1] != "severity medium: CWC Schedule 3, raised from low by dark-web market" {
		t.Errorf("default policy: %q", got)
	}
	path := writeFile(t, t.TempDir(), "c.yaml", siteConfig(t, "", "")+"severity:\n  base: {cwc-schedule-3: medium}\n  dark_web: 0\n")
	if got := severity("--config", path); got[0] != "medium" || got[1] != "severity medium: CWC Schedule 3, no raising context" {
		t.Errorf("configured policy: %q", got)
	}
}
