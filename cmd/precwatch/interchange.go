package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/console"
	"github.com/precwatch/precwatch/crawler/extract/vendorid"
	"github.com/precwatch/precwatch/internal/stixmisp"
	"github.com/precwatch/precwatch/internal/yamlfile"
)

// ExportConfig is the config's export section: how MISP events and STIX
// bundles name and mark what they carry.
type ExportConfig struct {
	// Organisation names the monitoring organisation: the STIX identity
	// and the MISP events' creator. Default "precwatch".
	Organisation string `yaml:"organisation"`
	// TLP marks every export: white, green, amber (default) or red.
	TLP string `yaml:"tlp"`
}

func checkExportConfig(doc *yamlfile.Doc, c ExportConfig) yamlfile.Errors {
	if _, err := stixmisp.New(stixmisp.Options{Organisation: c.Organisation, TLP: c.TLP}); err != nil {
		return yamlfile.Errors{doc.Errorf([]any{"export", "tlp"}, "unknown TLP level %q (want white, green, amber or red)", c.TLP)}
	}
	return nil
}

// mispKeyEnv holds the MISP API key when --misp-key-file is not given. The
// key is never a flag: flags show in the process list.
const mispKeyEnv = "PRECWATCH_MISP_KEY"

// listingIdentifiers finds the seller identifiers of an alert in its
// listing's text with vendorid, at export time. When listings keep their
// identifiers in the store, a source reading them replaces this one.
func listingIdentifiers(_ context.Context, a precwatch.Alert) ([]stixmisp.Identifier, error) {
	text := a.Listing.Title + "\n" + a.Listing.Description
	var out []stixmisp.Identifier
	for _, id := range vendorid.Find(text) {
		x := stixmisp.Identifier{Kind: string(id.Kind), Value: id.Value}
		if id.Kind == vendorid.KindPGP {
			x.Raw = text[id.Start:id.End] // the armored key block
		}
		out = append(out, x)
	}
	return out, nil
}

// interchange builds the MISP/STIX exporter from the config (nil: the
// defaults).
func interchange(cfg *Config) (*stixmisp.Exporter, error) {
	var c ExportConfig
	if cfg != nil {
		c = cfg.Export
	}
	return stixmisp.New(stixmisp.Options{Organisation: c.Organisation, TLP: c.TLP,
		Identifiers: stixmisp.IdentifierFunc(listingIdentifiers)})
}

// maxExportAlerts bounds one export, as the console's does.
const maxExportAlerts = 10000

// runExport is `precwatch export`: alerts as MISP events or a STIX bundle,
// selected by key or by the console queue's filters, written to stdout or
// a file, or pushed to a MISP instance.
func (m *Main) runExport(ctx context.Context, args []string) error {
	fs := m.flags("export")
	format := fs.String("format", "", "misp (MISP core format events) or stix (a STIX 2.1 bundle) (required)")
	var keys stringList
	fs.Var(&keys, "key", "export this alert (repeatable); default: every alert passing the filters")
	filters := map[string]*string{}
	for _, f := range [][2]string{
		{"status", "only alerts with this status: new, triaged, escalated, dismissed"},
		{"severity", "only alerts at least this severe: low, medium, high, critical"},
		{"substance", "only alerts of this substance id"},
		{"regime", "only alerts of this regime (e.g. cwc-schedule-1)"},
		{"site", "only alerts of this site"},
		{"vendor", "only alerts of this vendor handle"},
		{"assignee", "only alerts claimed by this investigator"},
		{"since", "only alerts raised on or after this date (YYYY-MM-DD)"},
		{"until", "only alerts raised on or before this date (YYYY-MM-DD)"},
		{"q", "only alerts whose listing title or description has these words"},
	} {
		filters[f[0]] = fs.String(f[0], "", f[1])
	}
	out := fs.String("out", "", "write to this file instead of stdout")
	mispURL := fs.String("misp-url", "", "push the events to this MISP instance (https; the key from --misp-key-file or $"+mispKeyEnv+")")
	keyFile := fs.String("misp-key-file", "", "file holding the MISP API key (default: $"+mispKeyEnv+")")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	f, err := stixmisp.ParseFormat(*format)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("export: --format: %w", err)}
	}
	v := url.Values{}
	for k, p := range filters {
		if *p != "" {
			v.Set(k, *p)
		}
	}
	if len(keys) > 0 && len(v) > 0 {
		return &exitError{code: 2, err: errors.New("export: --key and filters exclude each other")}
	}
	q, err := console.ParseQuery(v)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("export: %w", err)}
	}
	var client *stixmisp.MISPClient
	if *mispURL != "" {
		if f != stixmisp.FormatMISP {
			return &exitError{code: 2, err: errors.New("export: --misp-url needs --format misp")}
		}
		key, err := mispKey(*keyFile)
		if err != nil {
			return err
		}
		if client, err = stixmisp.NewMISPClient(*mispURL, key, nil); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	var cfg *Config
	if m.storeDSN(nil) == "" || fileExists(m.ConfigPath) {
		if cfg, err = LoadConfig(m.ConfigPath); err != nil {
			return err
		}
	}
	ex, err := interchange(cfg)
	if err != nil {
		return err
	}
	st, err := m.openStoreToRead(ctx, cfg)
	if err != nil {
		return err
	}
	alerts, err := exportAlerts(ctx, st, keys, q)
	if err != nil {
		return err
	}
	if client != nil {
		return m.pushMISP(ctx, client, ex, alerts, *out)
	}
	return writeExport(ctx, ex, f, alerts, *out, m.Stdout)
}

// exportAlerts reads the alerts named by keys, else those q selects, at
// most maxExportAlerts.
func exportAlerts(ctx context.Context, st precwatch.Store, keys []string, q precwatch.AlertQuery) ([]precwatch.Alert, error) {
	var alerts []precwatch.Alert
	if len(keys) > 0 {
		if len(keys) > maxExportAlerts {
			return nil, fmt.Errorf("export: at most %d alerts at once", maxExportAlerts)
		}
		for _, k := range keys {
			a, err := st.Alert(ctx, k)
			if err != nil {
				return nil, fmt.Errorf("export: alert %s: %w", k, err)
			}
			alerts = append(alerts, a)
		}
		return alerts, nil
	}
	cs, err := consoleStore(st)
	if err != nil {
		return nil, err
	}
	q.Offset = 0
	for len(alerts) < maxExportAlerts {
		q.Limit = min(precwatch.MaxPageSize, maxExportAlerts-len(alerts))
		page, err := cs.QueryAlerts(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("export: query alerts: %w", err)
		}
		alerts = append(alerts, page.Alerts...)
		if len(page.Alerts) < q.Limit {
			break
		}
		q.Offset += len(page.Alerts)
	}
	return alerts, nil
}

// writeExport writes the document to path (created 0600: it names
// sellers), or to stdout when path is empty.
func writeExport(ctx context.Context, ex *stixmisp.Exporter, f stixmisp.Format, alerts []precwatch.Alert, path string, stdout io.Writer) error {
	var buf bytes.Buffer
	if err := ex.Write(ctx, &buf, f, alerts); err != nil {
		return err
	}
	if path == "" {
		_, err := stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// pushMISP pushes one event per alert, printing what each push did; with
// out set, the collection is also written there.
func (m *Main) pushMISP(ctx context.Context, c *stixmisp.MISPClient, ex *stixmisp.Exporter, alerts []precwatch.Alert, out string) error {
	if out != "" {
		if err := writeExport(ctx, ex, stixmisp.FormatMISP, alerts, out, nil); err != nil {
			return err
		}
	}
	counts := map[stixmisp.PushResult]int{}
	for _, a := range alerts {
		ev, err := ex.MISP(ctx, a)
		if err != nil {
			return err
		}
		res, err := c.Push(ctx, ev)
		if err != nil {
			return fmt.Errorf("export: alert %s: %w", a.Key, err)
		}
		counts[res]++
		fmt.Fprintf(m.Stdout, "%s\t%s\t%s\n", res, ev.UUID, a.Key)
	}
	fmt.Fprintf(m.Stdout, "%d event(s) pushed: %d created, %d updated, %d unchanged\n", len(alerts),
		counts[stixmisp.PushCreated], counts[stixmisp.PushUpdated], counts[stixmisp.PushUnchanged])
	return nil
}

// mispKey reads the API key from file, else from $PRECWATCH_MISP_KEY.
func mispKey(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("export: misp key: %w", err)
		}
		if k := strings.TrimSpace(string(b)); k != "" {
			return k, nil
		}
		return "", fmt.Errorf("export: misp key file %s is empty", file)
	}
	if k := strings.TrimSpace(os.Getenv(mispKeyEnv)); k != "" {
		return k, nil
	}
	return "", &exitError{code: 2, err: fmt.Errorf("export: --misp-url needs the API key in --misp-key-file or $%s", mispKeyEnv)}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }
