package main

import (
	"os"

	"github.com/precwatch/precwatch/internal/yamlfile"
)

// configSources lets any config value come from the environment (${VAR},
// $$ for a literal $) and any string field X from a file (X_file: path,
// relative to the config's directory), so that secrets such as proxy and
// Redis passwords need not be written in the config.
var configSources = yamlfile.Options{LookupEnv: os.LookupEnv, Files: true}

// storeEnv names the store like --store does, without showing its
// credentials in the process list.
const storeEnv = "PRECWATCH_STORE"

// storeDSN is the store to open: --store, else $PRECWATCH_STORE, else the
// config's store (cfg may be nil); empty when none names one.
func (m *Main) storeDSN(cfg *Config) string {
	if m.StoreDSN != "" {
		return m.StoreDSN
	}
	if dsn := os.Getenv(storeEnv); dsn != "" {
		return dsn
	}
	if cfg != nil {
		return cfg.Store
	}
	return ""
}

// redacted shows a store or proxy URL without its password.
func redacted(s string) string { return yamlfile.RedactURLs(s) }
