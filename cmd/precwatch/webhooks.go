package main

// Delivery (issue 11): webhook destinations in the config file, and the
// dispatcher the daemon runs.

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/yamlfile"
	"github.com/precwatch/precwatch/webhook"
)

// WebhookConfig is one webhook destination of the config file.
type WebhookConfig struct {
	// Name identifies the destination (its cursor and delivery log).
	Name string `yaml:"name"`
	// URL receives a POST per event; for a chat webhook, whose URL is its
	// secret, give it as url_file or ${VAR}.
	URL string `yaml:"url"`
	// Secret keys the signature: from a file (secret_file, relative to
	// the config's directory), ${VAR}, or the variable named by SecretEnv.
	Secret    string `yaml:"secret"`
	SecretEnv string `yaml:"secret_env"`
	// Shape is generic (default) or slack.
	Shape string `yaml:"shape"`
	// Filters; empty selects everything.
	MinSeverity string   `yaml:"min_severity"`
	Sites       []string `yaml:"sites"`
	Substances  []string `yaml:"substances"`
	Regimes     []string `yaml:"regimes"`
	Events      []string `yaml:"events"`
	// Timeout bounds one attempt (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// ConsoleURL, when set, links chat messages to the alert's page in
	// the console (its external address).
	ConsoleURL string `yaml:"console_url"`
	// FromStart: a new destination starts at the oldest event kept
	// rather than after the newest.
	FromStart bool `yaml:"from_start"`

	dest webhook.Destination // resolved by checkWebhooks
}

var webhookEvents = []string{precwatch.EventRaised, precwatch.EventChanged, precwatch.EventRelisted,
	precwatch.ActionClaim, precwatch.ActionUnclaim, precwatch.ActionStatus, precwatch.ActionNote}

var webhookRegimes = []precwatch.Regime{precwatch.RegimeEUAnnexI, precwatch.RegimeEUAnnexII,
	precwatch.RegimeCWC1, precwatch.RegimeCWC2, precwatch.RegimeCWC3}

// checkWebhooks validates the webhook destinations and resolves each into
// its webhook.Destination.
func checkWebhooks(doc *yamlfile.Doc, cfg *Config) yamlfile.Errors {
	var errs yamlfile.Errors
	names := map[string]int{}
	for i := range cfg.Webhooks {
		w := &cfg.Webhooks[i]
		at := func(field ...any) []any { return append([]any{"webhooks", i}, field...) }
		bad := func(path []any, format string, args ...any) { errs = append(errs, doc.Errorf(path, format, args...)) }
		d := webhook.Destination{Name: w.Name, URL: w.URL, Shape: w.Shape, Timeout: w.Timeout, FromStart: w.FromStart, ConsoleURL: w.ConsoleURL,
			Filter: webhook.Filter{Sites: w.Sites, Substances: w.Substances, Events: w.Events}}
		if w.Name == "" {
			bad(at("name"), "required")
		} else if j, dup := names[w.Name]; dup {
			bad(at("name"), "webhook %q already defined at webhooks[%d]", w.Name, j)
		}
		names[w.Name] = i
		// Validate names what is wrong; the URL is not repeated (a chat
		// webhook's URL is its secret).
		if err := (webhook.Destination{Name: "x", URL: w.URL, Shape: webhook.ShapeSlack}).Validate(); err != nil {
			bad(at("url"), "want an absolute http(s) URL")
		}
		switch w.Shape {
		case "", webhook.ShapeGeneric, webhook.ShapeSlack:
		default:
			bad(at("shape"), "unknown shape %q (want generic or slack)", w.Shape)
		}
		envMissing := false
		switch {
		case w.Secret != "" && w.SecretEnv != "":
			bad(at("secret_env"), "give one of secret (secret_file) or secret_env")
		case w.SecretEnv != "":
			v, ok := os.LookupEnv(w.SecretEnv)
			if !ok || v == "" {
				bad(at("secret_env"), "the variable %s is not set", w.SecretEnv)
				envMissing = true
			}
			d.Secret = []byte(v)
		default:
			d.Secret = []byte(w.Secret)
		}
		if (w.Shape == "" || w.Shape == webhook.ShapeGeneric) && len(d.Secret) < webhook.MinSecretLen && !envMissing {
			bad(at("secret"), "a secret of at least %d bytes is required (secret_file: FILE or secret_env: VAR)", webhook.MinSecretLen)
		}
		if w.MinSeverity != "" {
			sev, err := precwatch.ParseSeverity(w.MinSeverity)
			if err != nil {
				bad(at("min_severity"), "unknown severity %q (want low, medium, high or critical)", w.MinSeverity)
			}
			d.Filter.MinSeverity = sev
		}
		for j, r := range w.Regimes {
			if !slices.Contains(webhookRegimes, precwatch.Regime(r)) {
				bad(at("regimes", j), "unknown regime %q (want one of %v)", r, webhookRegimes)
			}
			d.Filter.Regimes = append(d.Filter.Regimes, precwatch.Regime(r))
		}
		for j, e := range w.Events {
			if !slices.Contains(webhookEvents, e) {
				bad(at("events", j), "unknown event %q (want one of %v)", e, webhookEvents)
			}
		}
		for j, s := range w.Sites {
			if _, ok := cfg.Site(s); !ok {
				bad(at("sites", j), "no site %q in this config", s)
			}
		}
		if w.Timeout < 0 {
			bad(at("timeout"), "must not be negative")
		}
		w.dest = d
	}
	return errs
}

// webhookMetrics count delivery attempts for /metrics.
type webhookMetrics struct {
	attempts  *prometheus.CounterVec
	delivered *prometheus.GaugeVec
}

func newWebhookMetrics(reg prometheus.Registerer) *webhookMetrics {
	wm := &webhookMetrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "precwatch_webhook_attempts_total", Help: "Webhook delivery attempts, by destination and result (delivered, failed).",
		}, []string{"destination", "result"}),
		delivered: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "precwatch_webhook_last_delivered_timestamp_seconds", Help: "When the destination last accepted an event (Unix time).",
		}, []string{"destination"}),
	}
	reg.MustRegister(wm.attempts, wm.delivered)
	return wm
}

func (wm *webhookMetrics) observe(d precwatch.Delivery) {
	result := "failed"
	if d.Delivered {
		result = "delivered"
		wm.delivered.WithLabelValues(d.Destination).Set(float64(d.At.Add(d.Duration).UnixMilli()) / 1000)
	}
	wm.attempts.WithLabelValues(d.Destination, result).Inc()
}

// webhookRunner runs the dispatcher of the config's webhooks and replaces
// it when a reload changes them. Cursors live in the store, so the new
// dispatcher resumes where the old one stopped, and a destination's lease
// is released when its loop ends.
type webhookRunner struct {
	m     *Main
	ctx   context.Context
	store precwatch.Store

	mu      sync.Mutex
	applied bool
	dests   []webhook.Destination
	stop    func() // stops the running dispatcher; nil when none runs
}

// startWebhooks runs the dispatcher of cfg's webhooks on store, if any;
// the runner's Stop waits for it to end (before the store closes).
func (m *Main) startWebhooks(ctx context.Context, cfg *Config, store precwatch.Store) (*webhookRunner, error) {
	r := &webhookRunner{m: m, ctx: ctx, store: store}
	if err := r.apply(cfg); err != nil {
		return nil, err
	}
	return r, nil
}

// apply puts cfg's webhooks in force: nothing happens when they did not
// change; otherwise the running dispatcher stops and one for the new
// destinations starts.
func (r *webhookRunner) apply(cfg *Config) error {
	dests := make([]webhook.Destination, len(cfg.Webhooks))
	for i, w := range cfg.Webhooks {
		dests[i] = w.dest
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.applied && reflect.DeepEqual(dests, r.dests) {
		return nil
	}
	var ds precwatch.DeliveryStore
	if len(dests) > 0 {
		var ok bool
		if ds, ok = r.store.(precwatch.DeliveryStore); !ok {
			return fmt.Errorf("webhooks: store %T keeps no event outbox", r.store)
		}
	}
	m := r.m
	// Destinations' leases share the runs' holder id and lease life, so
	// --lease-ttl also bounds how soon another daemon takes over a
	// destination whose holder died.
	opts := &webhook.Options{UserAgent: "precwatch/" + version + " webhook", Holder: m.scale.holder, LeaseTTL: m.scale.leaseTTL}
	if m.metrics != nil {
		if r.m.webhookMetrics == nil {
			r.m.webhookMetrics = newWebhookMetrics(m.metrics.reg)
		}
		opts.OnAttempt = r.m.webhookMetrics.observe
	}
	var wh *webhook.Manager
	if len(dests) > 0 {
		var err error
		if wh, err = webhook.New(opts, m.logger, ds, dests); err != nil {
			return err
		}
	}
	if r.stop != nil {
		r.stop()
		r.stop = nil
	}
	r.applied, r.dests = true, dests
	if wh == nil {
		return nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = wh.Run(r.ctx)
	}()
	r.stop = func() { wh.Stop(); <-done }
	m.logger.Info("webhooks running", "destinations", len(dests))
	return nil
}

// Stop stops the running dispatcher and waits for it.
func (r *webhookRunner) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stop != nil {
		r.stop()
		r.stop = nil
	}
}
