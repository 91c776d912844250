package precwatch

// Delivery (issue 11): events leave through one outbox. Every store appends
// an event, in the same transaction as the alert change, for each alert
// raised, each event added to an alert's history (changed, relisted) and
// each investigator's action; the webhook dispatcher, `alerts follow` and
// exports read that log with a cursor.

import (
	"context"
	"time"
)

// Event is one entry of a store's event outbox. Its JSON is that of a line
// of `precwatch alerts follow`.
type Event struct {
	// ID is the event's position in the log: opaque, increasing in the
	// order the events were written. Events(ctx, ID, n) reads after it.
	ID string `json:"id"`
	// Event is raised, changed, relisted (EventRaised...) or an action of
	// the console (ActionClaim...).
	Event     string `json:"event"`
	Key       string `json:"key"`
	Site      string `json:"site"`
	Substance string `json:"substance"`
	Severity  string `json:"severity"`
	// Actor, From and To say who did what, for an action.
	Actor string `json:"actor,omitempty"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
	// At is when the event happened (see EventTime).
	At time.Time `json:"at"`
	// Gap is set, by Events, on the first event it returns when the
	// event its cursor named is no longer kept: events written after the
	// cursor were trimmed from the log (it is capped) before being read.
	Gap bool `json:"gap,omitempty"`
	// Alert is the alert as the event left it.
	Alert Alert `json:"alert"`
}

// EventTime is when event happened to a: the time of its latest timeline
// entry for an action, of its latest history entry otherwise.
func EventTime(event string, a Alert) time.Time {
	switch event {
	case EventRaised, EventChanged, EventRelisted:
		if n := len(a.History); n > 0 {
			return a.History[n-1].At
		}
	default:
		if n := len(a.Timeline); n > 0 {
			return a.Timeline[n-1].At
		}
	}
	return a.UpdatedAt
}

// RecordEvent is the event, if any, that writing a makes: raised when it
// is new (not had), the kind of its latest history entry when its history
// grew from old's, "" otherwise. Both stores decide alike with it.
func RecordEvent(old Alert, had bool, a Alert) string {
	switch {
	case !had:
		return EventRaised
	case len(a.History) > len(old.History):
		return a.History[len(a.History)-1].Kind
	}
	return ""
}

// EventLog is a store's event outbox, read with a cursor. Both stores
// implement it: the Redis store's log is its alert Stream (capped by
// stream_maxlen), the embedded store's a table capped alike.
type EventLog interface {
	// Events returns at most limit events written after the event whose ID
	// is after ("" for the oldest one kept), oldest first. When the event
	// after names is no longer kept, it reads from the oldest kept and
	// marks the first event returned Gap. An after that is not an ID of
	// this store fails with ErrInvalid.
	Events(ctx context.Context, after string, limit int) ([]Event, error)
}

// Delivery is one attempt to deliver an event to a destination.
type Delivery struct {
	Destination string    `json:"destination"`
	EventID     string    `json:"event_id"`
	Event       string    `json:"event"`
	Key         string    `json:"key"`
	At          time.Time `json:"at"`
	// Attempt counts the attempts at this event, from 1.
	Attempt int `json:"attempt"`
	// Status is the HTTP status answered, 0 when none came.
	Status int `json:"status,omitempty"`
	// Error says why the attempt failed; empty when delivered.
	Error     string        `json:"error,omitempty"`
	Duration  time.Duration `json:"duration"`
	Delivered bool          `json:"delivered"`
}

// DeliveryStore is an EventLog that also keeps, per destination, the
// cursor of the last event delivered (so that a restart resumes after it)
// and the log of delivery attempts operators read. Both stores implement
// it.
type DeliveryStore interface {
	EventLog
	// DeliveryCursor returns the ID of the last event handled for dest,
	// or ErrNotFound when none was saved.
	DeliveryCursor(ctx context.Context, dest string) (string, error)
	// SaveDeliveryCursor records that dest handled every event up to id.
	SaveDeliveryCursor(ctx context.Context, dest, id string) error
	// LogDelivery keeps an attempt; each destination's log keeps its
	// newest MaxDeliveryLog attempts.
	LogDelivery(ctx context.Context, d Delivery) error
	// Deliveries returns dest's latest attempts (every destination's when
	// dest is empty), newest first, at most limit (MaxDeliveryLog when
	// limit <= 0).
	Deliveries(ctx context.Context, dest string, limit int) ([]Delivery, error)
}

// MaxDeliveryLog bounds each destination's delivery log.
const MaxDeliveryLog = 1000
