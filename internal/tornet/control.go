package tornet

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// Control is an authenticated connection to a tor's control port (the
// text protocol of control-spec.txt), enough for GETINFO, SIGNAL, onion
// services and events. It is not safe for concurrent use.
type Control struct {
	conn   net.Conn
	r      *bufio.Reader
	events []string // asynchronous 650 lines read while waiting for a reply
}

// DialControl connects to addr and authenticates with the cookie file.
func DialControl(ctx context.Context, addr, cookieFile string) (*Control, error) {
	cookie, err := os.ReadFile(cookieFile)
	if err != nil {
		return nil, fmt.Errorf("tornet: control %s: %w", addr, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tornet: control %s: %w", addr, err)
	}
	c := &Control{conn: conn, r: bufio.NewReader(conn)}
	if _, err := c.Do(ctx, "AUTHENTICATE "+hex.EncodeToString(cookie)); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// Close closes the connection.
func (c *Control) Close() error { return c.conn.Close() }

// Do sends one command and returns its reply lines, without status codes
// ("key=value", data blocks folded into the line of their key with their
// lines joined by "\n"). A status other than 250 is an error.
func (c *Control) Do(ctx context.Context, cmd string) ([]string, error) {
	stop := c.deadline(ctx)
	defer stop()
	if _, err := c.conn.Write([]byte(cmd + "\r\n")); err != nil {
		return nil, fmt.Errorf("tornet: control %s: %w", verb(cmd), err)
	}
	for {
		code, lines, err := c.readReply()
		if err != nil {
			return nil, fmt.Errorf("tornet: control %s: %w", verb(cmd), err)
		}
		if code == "650" {
			c.events = append(c.events, lines...)
			continue
		}
		if code != "250" {
			return nil, fmt.Errorf("tornet: control %s: %s %s", verb(cmd), code, strings.Join(lines, "; "))
		}
		return lines, nil
	}
}

// GetInfo returns the value of one GETINFO key, e.g. "circuit-status".
func (c *Control) GetInfo(ctx context.Context, key string) (string, error) {
	lines, err := c.Do(ctx, "GETINFO "+key)
	if err != nil {
		return "", err
	}
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			return strings.TrimPrefix(v, "\n"), nil
		}
	}
	return "", fmt.Errorf("tornet: control GETINFO %s: no value in %q", key, lines)
}

// NextEvent returns the next asynchronous event line (after SETEVENTS),
// e.g. "HS_DESC UPLOADED ...", waiting until ctx is done.
func (c *Control) NextEvent(ctx context.Context) (string, error) {
	if len(c.events) > 0 {
		ev := c.events[0]
		c.events = c.events[1:]
		return ev, nil
	}
	stop := c.deadline(ctx)
	defer stop()
	for {
		code, lines, err := c.readReply()
		if err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			return "", fmt.Errorf("tornet: control event: %w", err)
		}
		if code != "650" {
			continue
		}
		c.events = append(c.events, lines[1:]...)
		return lines[0], nil
	}
}

// deadline makes reads and writes fail once ctx is done.
func (c *Control) deadline(ctx context.Context) (stop func()) {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.conn.SetDeadline(dl)
	} else {
		_ = c.conn.SetDeadline(time.Time{})
	}
	s := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Unix(1, 0)) })
	return func() { s() }
}

// readReply reads one reply: "NNN-" middle lines, "NNN+" data blocks
// ending in ".", and a final "NNN " line.
func (c *Control) readReply() (code string, lines []string, err error) {
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return "", nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		if len(line) < 4 {
			return "", nil, fmt.Errorf("short reply line %q", line)
		}
		code, sep, text := line[:3], line[3], line[4:]
		switch sep {
		case '-':
			lines = append(lines, text)
		case '+':
			var data []string
			for {
				d, err := c.r.ReadString('\n')
				if err != nil {
					return "", nil, err
				}
				d = strings.TrimRight(d, "\r\n")
				if d == "." {
					break
				}
				data = append(data, strings.TrimPrefix(d, "."))
			}
			lines = append(lines, text+"\n"+strings.Join(data, "\n"))
		case ' ':
			if text != "OK" || len(lines) == 0 {
				lines = append(lines, text)
			}
			return code, lines, nil
		default:
			return "", nil, fmt.Errorf("bad reply line %q", line)
		}
	}
}

// verb is a command's first word, so that errors never echo arguments
// such as keys or cookies.
func verb(cmd string) string {
	v, _, _ := strings.Cut(cmd, " ")
	return v
}
