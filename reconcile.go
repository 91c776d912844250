package precwatch

import (
	"slices"
)

// Reconcile computes what a sighting does to a listing and its alerts. Every
// Store backend calls it inside its own transaction, with prev the stored
// state (nil for a listing never seen) and existing the listing's alerts by
// key, then writes back next and the alerts returned. Keeping the decision
// here is what makes the backends behave alike.
func Reconcile(prev *ListingState, existing map[string]Alert, obs Observation) (next ListingState, write []Alert, res RecordResult) {
	return ReconcileFingerprinted(prev, existing, obs, Fingerprint(obs.Listing))
}

// ReconcileFingerprinted is Reconcile for a caller that has computed the
// sighting's fingerprint already: fp must be Fingerprint(obs.Listing). A
// batch decides from it which alerts to read before reconciling, and
// hashing the listing twice was a tenth of a re-crawled listing's CPU.
func ReconcileFingerprinted(prev *ListingState, existing map[string]Alert, obs Observation, fp string) (next ListingState, write []Alert, res RecordResult) {
	// A sighting older than the last one (a delayed retry, a slow worker)
	// says nothing new; applying it would flip the listing back in time.
	if prev != nil && obs.At.Before(prev.LastSeen) {
		return *prev, nil, res
	}
	l := obs.Listing
	identity := l.Identity()
	alertable := make([]Match, 0, len(obs.Matches))
	for _, m := range obs.Matches {
		if m.Alertable() {
			alertable = append(alertable, m)
		}
	}
	mat := MaterialOf(l, alertable)

	if prev == nil {
		next = ListingState{
			Key: ListingKey(l.Site, identity), FirstSeen: obs.At,
		}
		res.NewListing = true
	} else {
		next = *prev
		next.AlertKeys = make(map[string]string, len(prev.AlertKeys))
		for k, v := range prev.AlertKeys {
			next.AlertKeys[k] = v
		}
	}
	unchanged := prev != nil && prev.Fingerprint == fp && !prev.Gone
	var event *AlertEvent
	if prev != nil && !unchanged {
		if changes := prev.Material.Diff(mat); len(changes) > 0 {
			event = &AlertEvent{At: obs.At, Kind: EventChanged, Changes: changes, PageSHA256: l.PageSHA256, Fetches: l.FetchIDs()}
		}
		if prev.Gone {
			if event == nil {
				event = &AlertEvent{At: obs.At, PageSHA256: l.PageSHA256, Fetches: l.FetchIDs()}
			}
			event.Kind = EventRelisted
		}
		res.Changed = event != nil
	}
	next.Listing = l
	next.Fingerprint = fp
	next.Material = mat
	next.LastSeen = obs.At
	next.LastRunID = obs.RunID
	next.Gone = false
	next.RowHash, next.DetailFetchedAt = obs.RowHash, obs.DetailFetchedAt

	for _, sub := range groupBySubstance(alertable) {
		key := AlertKey(l.Site, identity, sub[0].Substance)
		if next.AlertKeys == nil {
			next.AlertKeys = map[string]string{}
		}
		next.AlertKeys[sub[0].Substance] = key
		a, ok := existing[key]
		if !ok {
			a = Alert{
				Key: key, Site: l.Site, Identity: identity, Substance: sub[0].Substance,
				Status: StatusNew, CreatedAt: obs.At,
				History: []AlertEvent{{At: obs.At, Kind: EventRaised, PageSHA256: l.PageSHA256, Fetches: l.FetchIDs()}},
			}
			res.NewAlerts = append(res.NewAlerts, key)
		} else if unchanged {
			continue
		} else {
			if event != nil {
				a.History = append(slices.Clone(a.History), *event)
			}
			res.UpdatedAlerts = append(res.UpdatedAlerts, key)
		}
		top := sub[0]
		for _, m := range sub[1:] {
			if m.Severity > top.Severity || (m.Severity == top.Severity && m.Score > top.Score) {
				top = m
			}
		}
		a.Name, a.Regime, a.Severity = top.Name, top.Regime, top.Severity
		a.Score, a.Reasons = top.Score, top.Reasons
		a.Listing, a.Matches, a.UpdatedAt = l, sub, obs.At
		write = append(write, a)
	}
	// Alerts whose substance no longer matches keep their record but still
	// get the change in their history: the listing is the same listing.
	if !unchanged && prev != nil {
		for sub, key := range prev.AlertKeys {
			if slices.ContainsFunc(write, func(a Alert) bool { return a.Key == key }) {
				continue
			}
			a, ok := existing[key]
			if !ok {
				continue
			}
			if event != nil {
				a.History = append(slices.Clone(a.History), *event)
			}
			a.Listing, a.UpdatedAt = l, obs.At
			next.AlertKeys[sub] = key
			res.UpdatedAlerts = append(res.UpdatedAlerts, key)
			write = append(write, a)
		}
	}
	return next, write, res
}

// groupBySubstance groups matches by substance, in order of first appearance.
func groupBySubstance(ms []Match) [][]Match {
	var out [][]Match
	idx := map[string]int{}
	for _, m := range ms {
		i, ok := idx[m.Substance]
		if !ok {
			i = len(out)
			idx[m.Substance] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], m)
	}
	return out
}
