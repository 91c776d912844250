// Package deploy_test checks the files that install precwatch: the systemd
// unit with Debian's systemd-analyze, against the binary built from this tree.
package deploy_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// maxExposure is systemd-analyze security's overall exposure level, times
// ten, that the unit must stay within ("OK" is under 30; the unit scores 14).
const maxExposure = "20"

// unitWithBinary builds precwatch into a temporary folder and returns a copy
// of the unit whose ExecStart runs it, and the ExecStart arguments.
func unitWithBinary(t *testing.T) (unit string, bin string, args []string) {
	t.Helper()
	for _, tool := range []string{"systemd-analyze"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: apt-get install systemd", tool)
		}
	}
	dir := t.TempDir()
	bin = filepath.Join(dir, "precwatch")
	gocmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if out, err := exec.CommandContext(t.Context(), gocmd, "build", "-o", bin, "../cmd/precwatch").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	raw, err := os.ReadFile("precwatch.service")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^ExecStart=/usr/local/bin/precwatch (.*)$`).FindSubmatch(raw)
	if m == nil {
		t.Fatal("precwatch.service: no ExecStart=/usr/local/bin/precwatch line")
	}
	args = strings.Fields(string(m[1]))
	unit = filepath.Join(dir, "precwatch.service")
	if err := os.WriteFile(unit, bytes.ReplaceAll(raw, []byte("/usr/local/bin/precwatch"), []byte(bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	return unit, bin, args
}

// TestSystemdUnit verifies the unit with systemd-analyze: no error and no
// warning (an unknown or misspelt directive is only a warning there), and a
// sandbox whose exposure stays within maxExposure.
func TestSystemdUnit(t *testing.T) {
	unit, bin, args := unitWithBinary(t)
	out, err := exec.CommandContext(t.Context(), "systemd-analyze", "verify", "--man=no", unit).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.CommandContext(t.Context(), "systemd-analyze", "security", "--offline=true", "--threshold="+maxExposure, unit).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security over %s: %v\n%s", maxExposure, err, out)
	}
	for _, want := range []string{"DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=\n"} {
		if raw, _ := os.ReadFile("precwatch.service"); !bytes.Contains(raw, []byte(want)) {
			t.Errorf("precwatch.service lacks %q", strings.TrimSpace(want))
		}
	}

	// Every flag of ExecStart is one the binary knows: run it against a
	// config that does not exist, which fails on the config, not on a flag.
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Dir = t.TempDir()
	out, err = cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("precwatch %s with no config succeeded", strings.Join(args, " "))
	}
	if s := string(out); strings.Contains(s, "flag provided but not defined") || !strings.Contains(s, "/etc/precwatch/precwatch.yaml") {
		t.Errorf("precwatch %s: want a config error naming /etc/precwatch/precwatch.yaml, got:\n%s", strings.Join(args, " "), s)
	}
}
