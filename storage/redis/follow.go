package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// StreamEvent is one entry of the alert stream: an alert raised, changed,
// or acted on in the console (then Actor, From and To say who did what).
type StreamEvent struct {
	ID        string          `json:"id"`
	Event     string          `json:"event"`
	Key       string          `json:"key"`
	Site      string          `json:"site"`
	Substance string          `json:"substance"`
	Severity  string          `json:"severity"`
	Actor     string          `json:"actor,omitempty"`
	From      string          `json:"from,omitempty"`
	To        string          `json:"to,omitempty"`
	Alert     json.RawMessage `json:"alert"`
}

// FollowOptions tune Follow; the zero value is usable.
type FollowOptions struct {
	// FromStart makes a new group read the stream from its first entry;
	// otherwise it starts with the entries added after it was created.
	FromStart bool
	// ClaimIdle is how long an entry may stay unacknowledged by another
	// consumer of the group (one that died) before this one takes it
	// over; default one minute.
	ClaimIdle time.Duration
	// Max stops Follow after that many events (0: until ctx is done).
	Max int
	// Block bounds each wait for new entries, so that a cancelled ctx is
	// seen within it; default one second.
	Block time.Duration
}

// errMaxReached ends the loop once FollowOptions.Max events are handled.
var errMaxReached = errors.New("max events handled")

// Follow delivers the alert stream to handle as consumer of group, at
// least once: an entry is acknowledged only after handle returned nil for
// it, so one that a crashed consumer (this one under the same name, or
// another of the group) left unacknowledged is delivered again: its own on
// start, another's once idle for ClaimIdle. Consumers of one group share
// the entries; each group gets every entry. Follow returns nil when ctx is
// done or Max events were handled, and handle's error otherwise (the
// entry stays pending, for a retry).
func (s *Store) Follow(ctx context.Context, group, consumer string, opts FollowOptions, handle func(StreamEvent) error) error {
	if group == "" || consumer == "" {
		return errors.New("redis: follow: a group and a consumer name are required")
	}
	if opts.ClaimIdle <= 0 {
		opts.ClaimIdle = time.Minute
	}
	if opts.Block <= 0 {
		opts.Block = time.Second
	}
	stream := s.StreamKey()
	start := "$"
	if opts.FromStart {
		start = "0"
	}
	if err := s.rdb.XGroupCreateMkStream(ctx, stream, group, start).Err(); err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("redis: follow: create group %q: %w", group, err)
	}
	handled := 0
	deliver := func(msgs []redis.XMessage) error {
		for _, msg := range msgs {
			if err := handle(streamEvent(msg)); err != nil {
				return fmt.Errorf("redis: follow: handle %s: %w", msg.ID, err)
			}
			if err := s.rdb.XAck(ctx, stream, group, msg.ID).Err(); err != nil {
				return fmt.Errorf("redis: follow: ack %s: %w", msg.ID, err)
			}
			handled++
			if opts.Max > 0 && handled >= opts.Max {
				return errMaxReached
			}
		}
		return nil
	}
	err := s.followLoop(ctx, stream, group, consumer, opts, deliver)
	// Ended by ctx: whatever was handled and not acknowledged stays
	// pending, to be delivered again.
	if errors.Is(err, errMaxReached) || ctx.Err() != nil {
		return nil
	}
	return err
}

func (s *Store) followLoop(ctx context.Context, stream, group, consumer string, opts FollowOptions, deliver func([]redis.XMessage) error) error {
	// This consumer's own pending entries first: it may have died between
	// handling an entry and acknowledging it.
	for {
		res, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: consumer, Streams: []string{stream, "0"}, Count: 100}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("redis: follow: read own pending: %w", err)
		}
		if len(res) == 0 || len(res[0].Messages) == 0 {
			break
		}
		if err := deliver(res[0].Messages); err != nil {
			return err
		}
	}
	for ctx.Err() == nil {
		// Entries another consumer left unacknowledged for too long.
		for next := "0-0"; ; {
			msgs, n, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
				Stream: stream, Group: group, Consumer: consumer, MinIdle: opts.ClaimIdle, Start: next, Count: 100,
			}).Result()
			if err != nil {
				return fmt.Errorf("redis: follow: claim: %w", err)
			}
			if err := deliver(msgs); err != nil {
				return err
			}
			if next = n; next == "0-0" {
				break
			}
		}
		res, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: group, Consumer: consumer, Streams: []string{stream, ">"}, Count: 100, Block: opts.Block,
		}).Result()
		switch {
		case errors.Is(err, redis.Nil):
			continue
		case err != nil:
			return fmt.Errorf("redis: follow: read: %w", err)
		}
		for _, r := range res {
			if err := deliver(r.Messages); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// streamEvent decodes a stream entry.
func streamEvent(msg redis.XMessage) StreamEvent {
	str := func(k string) string { v, _ := msg.Values[k].(string); return v }
	e := StreamEvent{
		ID: msg.ID, Event: str("event"), Key: str("key"), Site: str("site"), Substance: str("substance"),
		Severity: str("severity"), Actor: str("actor"), From: str("from"), To: str("to"),
	}
	if raw := str("json"); json.Valid([]byte(raw)) {
		e.Alert = json.RawMessage(raw)
	}
	return e
}
