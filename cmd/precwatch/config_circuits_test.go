package main

import (
	"strings"
	"testing"
)

func TestConfigCircuitsMirrors(t *testing.T) {
	head := "watchlist: w.yaml\nsites:\n  - name: a\n    start_urls: [http://a.onion/]\n    schedule: \"@every 1h\"\n"
	for name, tc := range map[string]struct{ extra, want string }{
		"ok":                   {"    circuits: 4\n    politeness: {parallelism: 2}\n    mirrors: [http://b.onion, 'https://c.onion:8443/']\n    limits: {max_retry_after: 1m}\n", ""},
		"negative circuits":    {"    circuits: -1\n", "c.yaml:6:5: sites[0].circuits: must be >= 0, got -1"},
		"parallelism too high": {"    circuits: 2\n    politeness: {parallelism: 3}\n", "c.yaml:7:18: sites[0].politeness.parallelism: parallelism 3 exceeds circuits 2"},
		"mirror with a path":   {"    mirrors:\n      - http://b.onion/\n      - http://c.onion/shop\n", `c.yaml:8:9: sites[0].mirrors[1]: mirror "http://c.onion/shop": want an origin`},
		"mirror is primary":    {"    mirrors: [http://A.onion:80]\n", `c.yaml:6:15: sites[0].mirrors[0]: mirror "http://A.onion:80": listed twice`},
		"not a url":            {"    mirrors: [b.onion]\n", `sites[0].mirrors[0]: mirror "b.onion": want an absolute http(s) url`},
		"negative retry cap":   {"    limits: {max_retry_after: -1s}\n", "sites[0].limits.max_retry_after: must be >= 0"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseConfig("c.yaml", []byte(head+tc.extra))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ParseConfig: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseConfig error = %v, want %q", err, tc.want)
			}
		})
	}
}
