package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/precwatch/precwatch"
)

// Headers of a delivery request.
const (
	// HeaderSignature carries "t=<unix seconds>,v1=<hex HMAC-SHA256>" (see Sign).
	HeaderSignature = "Precwatch-Signature"
	// HeaderEventID is the event's ID: a receiver drops one it has seen
	// (delivery is at least once).
	HeaderEventID = "Precwatch-Event-Id"
	// HeaderEvent is the event's kind.
	HeaderEvent = "Precwatch-Event"
)

// PayloadVersion is the version of the generic body's shape.
const PayloadVersion = 1

// Payload is the generic body: the event, its fields at the top level.
type Payload struct {
	Version int `json:"version"`
	precwatch.Event
}

// Body encodes e in shape (ShapeGeneric or ShapeSlack); consoleURL, when
// set, links a chat message to the alert's page.
func Body(shape string, e precwatch.Event, consoleURL string) ([]byte, error) {
	switch shape {
	case "", ShapeGeneric:
		return json.Marshal(Payload{Version: PayloadVersion, Event: e})
	case ShapeSlack:
		return json.Marshal(slackMessage(e, consoleURL))
	}
	return nil, fmt.Errorf("unknown shape %q", shape)
}

// slackEscape escapes the three characters Slack's mrkdwn gives meaning
// to, so that a listing's text cannot make links or mentions.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// slackText is s, escaped and cut to n runes.
func slackText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return slackEscape.Replace(s)
}

func slackMessage(e precwatch.Event, consoleURL string) map[string]any {
	a := e.Alert
	what := e.Event
	switch e.Event {
	case precwatch.EventRaised:
		what = "New alert"
	case precwatch.EventChanged:
		what = "Listing changed"
	case precwatch.EventRelisted:
		what = "Listing relisted"
	default:
		what = "Alert " + e.Event
		if e.Actor != "" {
			what += " by " + e.Actor
		}
		if e.To != "" {
			what += " → " + e.To
		}
	}
	name := a.Name
	if name == "" {
		name = e.Substance
	}
	head := fmt.Sprintf("*%s* · %s · %s on %s", slackText(what, 80), strings.ToUpper(e.Severity), slackText(name, 80), slackText(e.Site, 80))
	var lines []string
	lines = append(lines, head)
	if t := a.Listing.Title; t != "" {
		lines = append(lines, "> "+slackText(t, 200))
	}
	detail := []string{"regime " + slackText(string(a.Regime), 40), "score " + strconv.FormatFloat(a.Score, 'f', 0, 64)}
	if p := precwatch.FormatPrice(a.Listing.Price, a.Listing.Currency); p != "" {
		detail = append(detail, "price "+slackText(p, 40))
	}
	lines = append(lines, strings.Join(detail, " · "))
	if consoleURL != "" {
		if u, err := url.JoinPath(consoleURL, "alerts", a.Key); err == nil {
			lines = append(lines, "<"+slackEscape.Replace(u)+"|Open in precwatch>")
		}
	}
	text := strings.Join(lines, "\n")
	return map[string]any{
		"text": text,
		"blocks": []any{
			map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": text}},
		},
	}
}

// Sign returns the signature header value of body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<unix seconds>.<body>">".
func Sign(secret, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// NewRequest builds the POST of body for event e to rawURL, signed at t
// when secret is set.
func NewRequest(ctx context.Context, rawURL string, secret []byte, e precwatch.Event, body []byte, t time.Time) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("webhook: new request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderEventID, e.ID)
	req.Header.Set(HeaderEvent, e.Event)
	if len(secret) > 0 {
		req.Header.Set(HeaderSignature, Sign(secret, body, t))
	}
	return req, nil
}

// sanitize makes a response body snippet fit for a log line.
func sanitize(b []byte) string {
	s := strings.ToValidUTF8(string(b), "?")
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}

// redactURL shows err without the destination's path and query, which
// for a chat webhook is the secret.
func redactURL(err error, rawURL string) string {
	msg := err.Error()
	if u, perr := url.Parse(rawURL); perr == nil && u.Host != "" {
		msg = strings.ReplaceAll(msg, rawURL, u.Scheme+"://"+u.Host+"/…")
	}
	return msg
}
