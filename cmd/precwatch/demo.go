//go:build demo

package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/precwatch/precwatch/fixtures"
)

// startDemo serves the fixture marketplaces behind a SOCKS5 proxy at the
// address the config's sites use.
func (m *Main) startDemo(ctx context.Context, cfg *Config) error {
	addr := ""
	for _, s := range cfg.Sites {
		u, err := url.Parse(s.ProxyURL())
		if err != nil || u.Host == "" {
			return fmt.Errorf("demo: site %q has no SOCKS5 proxy to serve the fixtures behind", s.Name)
		}
		if addr != "" && addr != u.Host {
			return fmt.Errorf("demo: sites use different proxies (%s, %s); the demo serves one", addr, u.Host)
		}
		addr = u.Host
	}
	markets, err := fixtures.Start(ctx, fixtures.Options{ProxyAddr: addr, Logger: m.logger})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	m.onClose(markets.Close)
	m.logger.Info("demo marketplaces serving", "proxy", markets.ProxyURL())
	return nil
}
