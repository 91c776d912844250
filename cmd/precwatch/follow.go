package main

// Delivery (issue 11): `alerts follow` on a store without the Redis
// stream reads the same events from the store's outbox, the group's
// cursor kept in the store.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/redis"
)

// followPoll is how often a caught-up follower looks for new events.
const followPoll = time.Second

// followLog prints ds's events after group's cursor as JSON lines, saving
// the cursor after each line is written: at least once, like the stream's
// consumer groups, with one consumer per group.
func (m *Main) followLog(ctx context.Context, ds precwatch.DeliveryStore, group string, opts redis.FollowOptions) error {
	name := "follow:" + group
	cursor, err := ds.DeliveryCursor(ctx, name)
	switch {
	case errors.Is(err, precwatch.ErrNotFound):
		cursor = ""
		if !opts.FromStart { // a new group starts after the newest event
			for {
				es, err := ds.Events(ctx, cursor, 1000)
				if err != nil {
					return fmt.Errorf("alerts follow: %w", err)
				}
				if len(es) == 0 {
					break
				}
				cursor = es[len(es)-1].ID
			}
		}
		if err := ds.SaveDeliveryCursor(ctx, name, cursor); err != nil {
			return fmt.Errorf("alerts follow: %w", err)
		}
	case err != nil:
		return fmt.Errorf("alerts follow: %w", err)
	}
	out := bufio.NewWriter(m.Stdout)
	enc := json.NewEncoder(out)
	handled := 0
	for ctx.Err() == nil {
		es, err := ds.Events(ctx, cursor, 100)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return fmt.Errorf("alerts follow: %w", err)
		}
		for _, e := range es {
			if err := enc.Encode(e); err != nil {
				return err
			}
			if err := out.Flush(); err != nil { // written before it is passed
				return err
			}
			if err := ds.SaveDeliveryCursor(context.WithoutCancel(ctx), name, e.ID); err != nil {
				return fmt.Errorf("alerts follow: %w", err)
			}
			cursor = e.ID
			if handled++; opts.Max > 0 && handled >= opts.Max {
				return nil
			}
		}
		if len(es) == 0 {
			select {
			case <-ctx.Done():
			case <-time.After(followPoll):
			}
		}
	}
	return nil
}
