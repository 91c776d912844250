//go:build !demo

package main

import (
	"context"
	"errors"
)

func (m *Main) startDemo(context.Context, *Config) error {
	return errors.New("demo: this binary was built without the demo; `make run` builds bin/precwatch-demo (go build -tags demo)")
}
