package precwatch

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// ErrBodyNotStored is the error of a RecordPage whose page is Stored (a
// 304 answer read again from a kept body) when that body is not kept:
// deleted by a prune since the crawler read it, say. It is ErrInvalid too.
// The caller, who read the body, may write the page again with it.
var ErrBodyNotStored = errors.New("precwatch: stored body not kept")

// ErrNoBody is ErrBodyNotStored for stored page p.
func ErrNoBody(p Page) error {
	id := ""
	if p.Fetch != nil {
		id = p.Fetch.ID
	}
	return fmt.Errorf("%w: %w: fetch %s: body %s", ErrInvalid, ErrBodyNotStored, id, p.SHA256)
}

// Gone decisions and evidence (issue 9): what every Store checks before
// MarkGone and RecordPage, so that the backends decide alike.

// DecidesGone returns nil when r may mark listings gone: a run of a site
// that ended RunOK and saw the whole site. Partial, failed, abandoned,
// blocked, running and stopped-early runs never do.
func (r Run) DecidesGone() error {
	switch {
	case r.ID == "" || r.Site == "":
		return fmt.Errorf("%w: run without id or site", ErrInvalid)
	case r.Start.IsZero():
		return fmt.Errorf("%w: run %s without start", ErrInvalid, r.ID)
	case r.Status != RunOK:
		return fmt.Errorf("%w: run %s ended %s, only an ok run marks listings gone", ErrInvalid, r.ID, r.Status)
	case r.StoppedEarly:
		return fmt.Errorf("%w: run %s stopped early and did not see the whole site", ErrInvalid, r.ID)
	case r.GoneUndecided != "":
		return fmt.Errorf("%w: run %s decides nothing gone: %s", ErrInvalid, r.ID, r.GoneUndecided)
	}
	return nil
}

// GoneAfter reports whether complete run r (see Run.DecidesGone) makes the
// listing in st gone: r did not see it and no run saw it at or after r's
// start. A listing a parallel or later run saw is kept.
func GoneAfter(st ListingState, r Run) bool {
	return !st.Gone && st.Listing.Site == r.Site && st.LastRunID != r.ID && st.LastSeen.Before(r.Start)
}

// CheckPage returns nil when p can be kept as evidence: it has a SHA-256
// and it is that of its body.
func CheckPage(p Page) error {
	if p.SHA256 == "" {
		return fmt.Errorf("%w: page without sha256", ErrInvalid)
	}
	sum := sha256.Sum256(p.Body)
	if hex.EncodeToString(sum[:]) != p.SHA256 {
		return fmt.Errorf("%w: page %s: sha256 is not that of its body", ErrInvalid, p.SHA256)
	}
	return nil
}

// CheckBatch validates the arguments of Store.RecordPage.
func CheckBatch(p *Page, obs []Observation) error {
	if p != nil {
		if err := checkBatchPage(*p); err != nil {
			return err
		}
	}
	for i, o := range obs {
		if err := o.Validate(); err != nil {
			return fmt.Errorf("observation %d: %w", i, err)
		}
	}
	return nil
}

// EvidenceNeeded returns the evidence page an observation must have before
// its alert writes are stored: its listing's page, unless the batch carries
// it (p) or no alert is written. An empty result needs nothing.
func EvidenceNeeded(p *Page, o Observation, write []Alert) string {
	sha := o.Listing.PageSHA256
	if len(write) == 0 || sha == "" || (p != nil && p.SHA256 == sha) {
		return ""
	}
	return sha
}

// ErrNoEvidence is the error of an alert write whose evidence page is not
// stored.
func ErrNoEvidence(o Observation, sha string) error {
	return fmt.Errorf("%w: listing %s %q: evidence page %s is not stored", ErrInvalid, o.Listing.Site, o.Listing.Identity(), sha)
}

// checkBatchPage checks RecordPage's page: a body with its SHA-256, or a
// body already stored (Stored, issue 11) named by the fetch that got it
// again; and that fetch, when set, is of this body.
func checkBatchPage(p Page) error {
	if p.Stored {
		if p.SHA256 == "" || p.Body != nil || p.Fetch == nil {
			return fmt.Errorf("%w: stored page %s without fetch, or with a body", ErrInvalid, p.SHA256)
		}
	} else if err := CheckPage(p); err != nil {
		return err
	}
	if p.Fetch == nil {
		return nil
	}
	if err := CheckFetch(*p.Fetch); err != nil {
		return err
	}
	if p.Fetch.BodySHA256 != p.SHA256 {
		return fmt.Errorf("%w: fetch %s is of body %s, not of page %s", ErrInvalid, p.Fetch.ID, p.Fetch.BodySHA256, p.SHA256)
	}
	return nil
}
