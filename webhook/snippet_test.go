package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The receiver in these tests verifies signatures with the snippet the
// README gives (section "Webhooks"), between the markers below, copied
// verbatim: TestREADMESnippet fails when the two differ.

// snippet:begin
// verifySignature checks a precwatch webhook request: header is its
// Precwatch-Signature, body its raw body. It refuses a timestamp further
// than tolerance from now (the replay window; precwatch signs each
// attempt afresh, so 5 minutes is plenty).
func verifySignature(secret, body []byte, header string, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return errors.New("malformed signature header")
	}
	if age := now.Sub(time.Unix(sec, 0)); age > tolerance || age < -tolerance {
		return errors.New("timestamp outside the replay window")
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return errors.New("signature mismatch")
}

// snippet:end

func TestREADMESnippet(t *testing.T) {
	src, err := os.ReadFile("snippet_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(src), "// snippet:begin\n")
	code, _, ok := strings.Cut(rest, "\n// snippet:end")
	if !ok || !strings.Contains(code, "func verifySignature") {
		t.Fatal("snippet markers not found")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), code) {
		t.Errorf("README.md does not hold the verification snippet of snippet_test.go verbatim:\n%s", code)
	}
}

func TestVerifySignature(t *testing.T) {
	secret, body := []byte("0123456789abcdef-secret"), []byte(`{"id":"1"}`)
	now := time.Unix(1_800_000_000, 0)
	h := Sign(secret, body, now)
	if err := verifySignature(secret, body, h, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("a fresh signature: %v", err)
	}
	for name, tc := range map[string]struct {
		secret, body []byte
		header       string
		at           time.Time
	}{
		"other secret": {[]byte("another-secret-0123"), body, h, now},
		"other body":   {secret, []byte(`{"id":"2"}`), h, now},
		"replayed":     {secret, body, h, now.Add(6 * time.Minute)},
		"from future":  {secret, body, h, now.Add(-6 * time.Minute)},
		"malformed":    {secret, body, "v1=00", now},
		"no signature": {secret, body, "", now},
	} {
		if err := verifySignature(tc.secret, tc.body, tc.header, tc.at, 5*time.Minute); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}
