package stixmisp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// MISPClient pushes events to a MISP instance through its REST API, the
// way PyMISP does: HEAD /events/view/{uuid} to learn whether the event is
// there, then POST /events/edit/{uuid} or POST /events/add, with the API
// key in the Authorization header.
type MISPClient struct {
	base *url.URL
	key  string
	http *http.Client
}

// maxMISPAnswer bounds how much of an answer is read.
const maxMISPAnswer = 1 << 20

// NewMISPClient returns a client for the instance at baseURL. The URL must
// be https, or http to a loopback address (a local test instance): the key
// is never sent in clear over a network. A nil client gets one with a
// 30-second timeout.
func NewMISPClient(baseURL, key string, client *http.Client) (*MISPClient, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(baseURL), "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("stixmisp: misp url %q: want https://host[/path]", baseURL)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return nil, fmt.Errorf("stixmisp: misp url %q: plain http only to a loopback address; use https", baseURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("stixmisp: misp url %q: no credentials, query or fragment (the key comes from a file or the environment)", baseURL)
	}
	key = strings.TrimSpace(key)
	if key == "" {
		return nil, errors.New("stixmisp: empty MISP API key")
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &MISPClient{base: u, key: key, http: client}, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// PushResult says what a push did.
type PushResult string

// Push results. Unchanged: MISP kept its copy because the event's
// timestamp (the alert's last change) is not newer than the one it has.
const (
	PushCreated   PushResult = "created"
	PushUpdated   PushResult = "updated"
	PushUnchanged PushResult = "unchanged"
)

// notNewer is how MISP refuses an edit whose event timestamp is not newer
// than its copy's (Event::_edit).
const notNewer = "not newer than the local copy"

// Push adds the event, or edits it when the instance already has an event
// with its UUID (an earlier export of the same alert); an edit MISP refuses
// as not newer than its copy is PushUnchanged, not an error.
func (c *MISPClient) Push(ctx context.Context, ev MISPEvent) (PushResult, error) {
	exists, err := c.exists(ctx, ev.UUID)
	if err != nil {
		return "", err
	}
	var body bytes.Buffer
	if err := encode(&body, MISPDocument{Event: ev}); err != nil {
		return "", err
	}
	path, res := "/events/add", PushCreated
	if exists {
		path, res = "/events/edit/"+ev.UUID, PushUpdated
	}
	resp, err := c.do(ctx, http.MethodPost, path, &body)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxMISPAnswer))
	if exists && resp.StatusCode/100 == 4 && bytes.Contains(answer, []byte(notNewer)) {
		return PushUnchanged, nil
	}
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("stixmisp: misp: POST %s: %s: %s", path, resp.Status, excerpt(answer))
	}
	return res, nil
}

func (c *MISPClient) exists(ctx context.Context, uuid string) (bool, error) {
	path := "/events/view/" + uuid
	resp, err := c.do(ctx, http.MethodHead, path, nil)
	if err != nil {
		return false, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxMISPAnswer))
	resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2:
		return true, nil
	case resp.StatusCode == http.StatusNotFound:
		return false, nil
	}
	return false, fmt.Errorf("stixmisp: misp: HEAD %s: %s", path, resp.Status)
}

func (c *MISPClient) do(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("stixmisp: misp: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", c.key)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "precwatch")
	resp, err := c.http.Do(req)
	if err != nil {
		// The URL error names the URL, never the key, which is in a header.
		return nil, fmt.Errorf("stixmisp: misp: %s %s: %w", method, path, err)
	}
	return resp, nil
}

// excerpt is the start of an answer, printable, for an error message.
func excerpt(b []byte) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, string(b))
	return truncate(strings.TrimSpace(s), 300)
}
