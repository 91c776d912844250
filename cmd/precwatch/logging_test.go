package main

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLogDurationsInSeconds: a duration is logged as seconds, in JSON and
// text; slog alone writes nanoseconds in JSON ("wait":1500000000).
func TestLogDurationsInSeconds(t *testing.T) {
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, logOptions(slog.LevelInfo))).Info("server asked to wait", "wait", 1500*time.Millisecond, "run_timeout_s", 2*time.Minute, "pages", 3)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["wait_s"] != 1.5 || rec["run_timeout_s"] != 120.0 || rec["pages"] != 3.0 || rec["wait"] != nil {
		t.Errorf("JSON log %s: want wait_s 1.5, run_timeout_s 120, pages 3", buf.Bytes())
	}
	buf.Reset()
	slog.New(slog.NewTextHandler(&buf, logOptions(slog.LevelInfo))).Info("x", "wait", 250*time.Millisecond)
	if !strings.Contains(buf.String(), " wait_s=0.25\n") {
		t.Errorf("text log %q: want wait_s=0.25", buf.String())
	}
}

// TestLogKeysOneName walks the tree's Go files: no log call names an error
// "err" (the key is "error" everywhere), so that one query finds them all.
func TestLogKeysOneName(t *testing.T) {
	logFuncs := map[string]bool{"Debug": true, "Info": true, "Warn": true, "Error": true, "DebugContext": true,
		"InfoContext": true, "WarnContext": true, "ErrorContext": true, "Log": true, "With": true}
	fset := token.NewFileSet()
	n := 0
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") && path != "../.." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(nd ast.Node) bool {
			call, ok := nd.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !logFuncs[sel.Sel.Name] {
				return true
			}
			n++
			for _, a := range call.Args {
				if lit, ok := a.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, _ := strconv.Unquote(lit.Value); s == "err" {
						t.Errorf("%s: log key \"err\"; use \"error\"", fset.Position(lit.Pos()))
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Errorf("found only %d log calls: the walk missed the tree", n)
	}
}
