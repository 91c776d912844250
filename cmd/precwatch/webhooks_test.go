package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/webhook"
)

// Delivery (issue 11): webhook destinations in the config file.

func TestConfigWebhooks(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "soc.secret", "s3cr3t-soc-0123456789\n")
	t.Setenv("PW_TEST_CHAT_URL", "https://chat.example/hooks/abcdefSECRET")
	t.Setenv("PW_TEST_SECRET", "env-secret-0123456789")
	good := siteConfig(t, "", "") + `webhooks:
  - name: soc
    url: https://soc.example/precwatch
    secret_file: soc.secret
    min_severity: high
    sites: [a]
    regimes: [cwc-schedule-2]
    events: [raised, changed]
    timeout: 5s
  - name: chat
    shape: slack
    url: ${PW_TEST_CHAT_URL}
    console_url: https://precwatch.example/
  - name: siem
    url: http://127.0.0.1:9000/in
    secret_env: PW_TEST_SECRET
    from_start: true
`
	cfg, err := ParseConfig(filepath.Join(dir, "c.yaml"), []byte(good))
	if err != nil {
		t.Fatalf("good config: %v", err)
	}
	soc := cfg.Webhooks[0].dest
	if string(soc.Secret) != "s3cr3t-soc-0123456789" || soc.Filter.MinSeverity != precwatch.SeverityHigh || soc.Timeout != 5*time.Second ||
		len(soc.Filter.Regimes) != 1 || soc.Filter.Sites[0] != "a" || len(soc.Filter.Events) != 2 {
		t.Errorf("soc = %+v", soc)
	}
	if chat := cfg.Webhooks[1].dest; chat.Shape != webhook.ShapeSlack || chat.URL != "https://chat.example/hooks/abcdefSECRET" || chat.ConsoleURL == "" {
		t.Errorf("chat = %+v", chat)
	}
	if siem := cfg.Webhooks[2].dest; string(siem.Secret) != "env-secret-0123456789" || !siem.FromStart {
		t.Errorf("siem = %+v", siem)
	}

	for name, tc := range map[string]struct{ hooks, want string }{
		"no secret": {"  - {name: x, url: https://x.example/}\n",
			`:8:5: webhooks[0].secret: a secret of at least 16 bytes is required`},
		"short secret": {"  - {name: x, url: https://x.example/, secret_file: short.secret}\n",
			`:8:40: webhooks[0].secret: a secret of at least 16 bytes is required`},
		"unset env": {"  - {name: x, url: https://x.example/, secret_env: PW_TEST_UNSET}\n",
			`:8:40: webhooks[0].secret_env: the variable PW_TEST_UNSET is not set`},
		"missing file": {"  - {name: x, url: https://x.example/, secret_file: nope}\n",
			`:8:53: webhooks[0].secret_file: cannot read the file`},
		"bad url": {"  - name: x\n    url: /relative\n    secret_env: PW_TEST_SECRET\n",
			`:9:5: webhooks[0].url: want an absolute http(s) URL`},
		"bad shape": {"  - {name: x, url: https://x.example/, shape: teams, secret_env: PW_TEST_SECRET}\n",
			`:8:40: webhooks[0].shape: unknown shape "teams"`},
		"bad severity": {"  - {name: x, url: https://x.example/, min_severity: dire, secret_env: PW_TEST_SECRET}\n",
			`:8:40: webhooks[0].min_severity: unknown severity "dire"`},
		"bad regime": {"  - {name: x, url: https://x.example/, regimes: [cwc-schedule-2, annex-x], secret_env: PW_TEST_SECRET}\n",
			`:8:66: webhooks[0].regimes[1]: unknown regime "annex-x"`},
		"bad event": {"  - {name: x, url: https://x.example/, events: [raised, deleted], secret_env: PW_TEST_SECRET}\n",
			`:8:57: webhooks[0].events[1]: unknown event "deleted"`},
		"unknown site": {"  - {name: x, url: https://x.example/, sites: [zz], secret_env: PW_TEST_SECRET}\n",
			`:8:48: webhooks[0].sites[0]: no site "zz" in this config`},
		"duplicate": {"  - {name: x, url: https://x.example/, secret_env: PW_TEST_SECRET}\n  - {name: x, url: https://y.example/, secret_env: PW_TEST_SECRET}\n",
			`:9:6: webhooks[1].name: webhook "x" already defined at webhooks[0]`},
		"bad timeout": {"  - {name: x, url: https://x.example/, timeout: soon, secret_env: PW_TEST_SECRET}\n",
			`webhooks[0].timeout: want a duration`},
		"unknown field": {"  - {name: x, url: https://x.example/, secrte: abc, secret_env: PW_TEST_SECRET}\n",
			`webhooks[0].secrte: unknown field "secrte"`},
	} {
		writeFile(t, dir, "short.secret", "short")
		_, err := ParseConfig(filepath.Join(dir, "c.yaml"), []byte(siteConfig(t, "", "")+"webhooks:\n"+tc.hooks))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: the error shows a secret: %v", name, err)
		}
	}
}
