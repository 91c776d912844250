package redis

// Delivery (issue 11): the event outbox is the alert stream
// (P:alerts:stream, written in the transaction of each alert change, see
// writeRecord and UpdateAlert), read here with a cursor; beside it
//
//	P:delivery:cursors            hash: destination → last event ID handled
//	P:delivery:log:<destination>  list of delivery attempt JSON, newest first
//	P:delivery:log                the same, every destination's
//
// each list trimmed to precwatch.MaxDeliveryLog.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/precwatch/precwatch"
	"github.com/redis/go-redis/v9"
)

var _ precwatch.DeliveryStore = (*Store)(nil)

// validStreamID reports whether id is a complete stream ID, "ms-seq".
func validStreamID(id string) bool {
	ms, seq, ok := strings.Cut(id, "-")
	if !ok {
		return false
	}
	_, err1 := strconv.ParseUint(ms, 10, 64)
	_, err2 := strconv.ParseUint(seq, 10, 64)
	return err1 == nil && err2 == nil
}

// Events returns the stream's entries after ID after, oldest first; see
// precwatch.EventLog. Entries trimmed by stream_maxlen are gone: a cursor
// older than the first entry kept reads from it, the first entry marked
// Gap. The range starts at after itself, included, to see whether it is
// still kept, in the same round trip.
func (s *Store) Events(ctx context.Context, after string, limit int) ([]precwatch.Event, error) {
	start := "-"
	if after != "" {
		if !validStreamID(after) {
			return nil, fmt.Errorf("redis: events: %w: cursor %q", precwatch.ErrInvalid, after)
		}
		start = after
	}
	if limit <= 0 {
		limit = 100
	}
	var msgs []redis.XMessage
	err := s.retry(ctx, func() error {
		var err error
		msgs, err = s.rdb.XRangeN(ctx, s.StreamKey(), start, "+", int64(limit)+1).Result()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("redis: events after %q: %w", after, err)
	}
	gap := false
	switch {
	case after == "":
	case len(msgs) > 0 && msgs[0].ID == after:
		msgs = msgs[1:]
	default:
		// after is gone: trimmed, with perhaps entries after it.
		gap = len(msgs) > 0
	}
	msgs = msgs[:min(len(msgs), limit)]
	out := make([]precwatch.Event, 0, len(msgs))
	for _, msg := range msgs {
		se := streamEvent(msg)
		e := precwatch.Event{
			ID: se.ID, Event: se.Event, Key: se.Key, Site: se.Site, Substance: se.Substance,
			Severity: se.Severity, Actor: se.Actor, From: se.From, To: se.To,
		}
		if len(se.Alert) > 0 {
			if err := json.Unmarshal(se.Alert, &e.Alert); err != nil {
				return nil, fmt.Errorf("redis: events: decode %s: %w", msg.ID, err)
			}
		}
		e.At = precwatch.EventTime(e.Event, e.Alert)
		e.Gap = gap && len(out) == 0
		out = append(out, e)
	}
	return out, nil
}

func (s *Store) cursorsKey() string { return s.key("delivery", "cursors") }

// DeliveryCursor returns dest's cursor; see precwatch.DeliveryStore.
func (s *Store) DeliveryCursor(ctx context.Context, dest string) (string, error) {
	var c string
	err := s.retry(ctx, func() error {
		var err error
		c, err = s.rdb.HGet(ctx, s.cursorsKey(), dest).Result()
		return err
	})
	switch {
	case errors.Is(err, redis.Nil):
		return "", fmt.Errorf("redis: delivery cursor %q: %w", dest, precwatch.ErrNotFound)
	case err != nil:
		return "", fmt.Errorf("redis: delivery cursor %q: %w", dest, err)
	}
	return c, nil
}

// SaveDeliveryCursor records dest's cursor.
func (s *Store) SaveDeliveryCursor(ctx context.Context, dest, id string) error {
	if dest == "" {
		return fmt.Errorf("redis: save delivery cursor: %w: empty destination", precwatch.ErrInvalid)
	}
	err := s.retry(ctx, func() error { return s.rdb.HSet(ctx, s.cursorsKey(), dest, id).Err() })
	if err != nil {
		return fmt.Errorf("redis: save delivery cursor %q: %w", dest, err)
	}
	return nil
}

// LogDelivery keeps an attempt in its destination's log and the global one.
func (s *Store) LogDelivery(ctx context.Context, d precwatch.Delivery) error {
	if d.Destination == "" {
		return fmt.Errorf("redis: log delivery: %w: empty destination", precwatch.ErrInvalid)
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("redis: log delivery: %w", err)
	}
	err = s.retry(ctx, func() error {
		_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range []string{s.key("delivery", "log", d.Destination), s.key("delivery", "log")} {
				p.LPush(ctx, k, raw)
				p.LTrim(ctx, k, 0, precwatch.MaxDeliveryLog-1)
			}
			return nil
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("redis: log delivery to %q: %w", d.Destination, err)
	}
	return nil
}

// Deliveries returns the latest attempts, newest first.
func (s *Store) Deliveries(ctx context.Context, dest string, limit int) ([]precwatch.Delivery, error) {
	if limit <= 0 || limit > precwatch.MaxDeliveryLog {
		limit = precwatch.MaxDeliveryLog
	}
	k := s.key("delivery", "log")
	if dest != "" {
		k = s.key("delivery", "log", dest)
	}
	var vals []string
	err := s.retry(ctx, func() error {
		var err error
		vals, err = s.rdb.LRange(ctx, k, 0, int64(limit-1)).Result()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("redis: deliveries: %w", err)
	}
	out := make([]precwatch.Delivery, 0, len(vals))
	for _, v := range vals {
		var d precwatch.Delivery
		if err := json.Unmarshal([]byte(v), &d); err != nil {
			return nil, fmt.Errorf("redis: deliveries: decode: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}
