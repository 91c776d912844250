package embedded

// Vendor profiles (issue 11): vendor pages, and an index of every listing's
// and vendor page's identifiers kept by triggers, so that Record and
// RecordPage write it in their own transaction without knowing of it.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/precwatch/precwatch"
)

var _ precwatch.VendorStore = (*Store)(nil)

// vendorSchema is migration 10. vendor_ids holds precwatch.VendorIndexEntries
// of each listing (holder: its key) and vendor page (holder: ”). The
// handle is folded with lower(), ASCII only, as precwatch.FoldHandle does.
const vendorSchema = `
CREATE TABLE vendor_pages (
	site   TEXT NOT NULL,
	handle TEXT NOT NULL,
	json   TEXT NOT NULL,
	PRIMARY KEY (site, handle)
) WITHOUT ROWID;
CREATE TABLE vendor_ids (
	kind   TEXT NOT NULL,
	value  TEXT NOT NULL,
	site   TEXT NOT NULL,
	handle TEXT NOT NULL,
	holder TEXT NOT NULL,
	PRIMARY KEY (kind, value, site, handle, holder)
) WITHOUT ROWID;
CREATE INDEX vendor_ids_holder ON vendor_ids(holder);
CREATE INDEX listings_vendor ON listings(site, coalesce(json_extract(json, '$.listing.vendor'), ''));
CREATE TRIGGER listings_vendor_ids_insert AFTER INSERT ON listings BEGIN
` + vendorIDsOfNew + `
END;
CREATE TRIGGER listings_vendor_ids_update AFTER UPDATE OF json ON listings
WHEN json_extract(old.json, '$.listing.identifiers') IS NOT json_extract(new.json, '$.listing.identifiers')
	OR json_extract(old.json, '$.listing.vendor') IS NOT json_extract(new.json, '$.listing.vendor')
	OR old.site IS NOT new.site BEGIN
	DELETE FROM vendor_ids WHERE holder = old.key;
` + vendorIDsOfNew + `
END;
INSERT OR IGNORE INTO vendor_ids (kind, value, site, handle, holder)
	SELECT json_extract(i.value, '$.kind'), json_extract(i.value, '$.value'), l.site,
		coalesce(json_extract(l.json, '$.listing.vendor'), ''), l.key
	FROM listings AS l, json_each(l.json, '$.listing.identifiers') AS i;
INSERT OR IGNORE INTO vendor_ids (kind, value, site, handle, holder)
	SELECT 'handle', lower(json_extract(json, '$.listing.vendor')), site, json_extract(json, '$.listing.vendor'), key
	FROM listings WHERE coalesce(json_extract(json, '$.listing.vendor'), '') != '';
`

// vendorIDsOfNew indexes the listing row new.
const vendorIDsOfNew = `
	INSERT OR IGNORE INTO vendor_ids (kind, value, site, handle, holder)
		SELECT json_extract(i.value, '$.kind'), json_extract(i.value, '$.value'), new.site,
			coalesce(json_extract(new.json, '$.listing.vendor'), ''), new.key
		FROM json_each(new.json, '$.listing.identifiers') AS i
		WHERE coalesce(json_extract(i.value, '$.value'), '') != '';
	INSERT OR IGNORE INTO vendor_ids (kind, value, site, handle, holder)
		SELECT 'handle', lower(json_extract(new.json, '$.listing.vendor')), new.site, json_extract(new.json, '$.listing.vendor'), new.key
		WHERE coalesce(json_extract(new.json, '$.listing.vendor'), '') != '';`

// vendorColumns is migration 11 (issue 9, the write path): a listing's
// vendor and identifiers get columns of their own, written with its JSON,
// and the vendor index and its triggers read them instead of the JSON.
// Before, every write of a listing parsed its JSON, old and new, up to six
// times (the triggers' conditions and the expression index), a seen-again
// listing included; now an unchanged listing costs two comparisons. The
// index's entries are unchanged, so vendor_ids is kept as it is.
const vendorColumns = `
DROP TRIGGER listings_vendor_ids_insert;
DROP TRIGGER listings_vendor_ids_update;
DROP INDEX listings_vendor;
ALTER TABLE listings ADD COLUMN vendor TEXT NOT NULL DEFAULT '';
-- The listing's identifiers as a JSON array; NULL when it has none.
ALTER TABLE listings ADD COLUMN identifiers TEXT;
UPDATE listings SET vendor = coalesce(json_extract(json, '$.listing.vendor'), ''),
	identifiers = json_extract(json, '$.listing.identifiers');
CREATE INDEX listings_vendor ON listings(site, vendor);
CREATE TRIGGER listings_vendor_ids_insert AFTER INSERT ON listings BEGIN
` + vendorIDsOfNewColumns + `
END;
CREATE TRIGGER listings_vendor_ids_update AFTER UPDATE OF site, vendor, identifiers ON listings
WHEN old.identifiers IS NOT new.identifiers OR old.vendor IS NOT new.vendor OR old.site IS NOT new.site BEGIN
	DELETE FROM vendor_ids WHERE holder = old.key;
` + vendorIDsOfNewColumns + `
END;
`

// vendorIDsOfNewColumns indexes the listing row new, as vendorIDsOfNew
// does, from its columns.
const vendorIDsOfNewColumns = `
	INSERT OR IGNORE INTO vendor_ids (kind, value, site, handle, holder)
		SELECT json_extract(i.value, '$.kind'), json_extract(i.value, '$.value'), new.site, new.vendor, new.key
		FROM json_each(new.identifiers) AS i
		WHERE coalesce(json_extract(i.value, '$.value'), '') != '';
	INSERT OR IGNORE INTO vendor_ids (kind, value, site, handle, holder)
		SELECT 'handle', lower(new.vendor), new.site, new.vendor, new.key
		WHERE new.vendor != '';`

// RecordVendorPage stores p and merges s into the vendor's page record in
// one transaction; see precwatch.VendorStore.
func (s *Store) RecordVendorPage(ctx context.Context, p *precwatch.Page, sg precwatch.VendorPageSighting) (precwatch.VendorPage, error) {
	if err := precwatch.CheckVendorPage(p, sg); err != nil {
		return precwatch.VendorPage{}, fmt.Errorf("embedded: record vendor page %s: %w", sg.Vendor, err)
	}
	var next precwatch.VendorPage
	err := s.write(ctx, func(tx *sql.Tx) error {
		if p != nil {
			if err := s.insertPage(ctx, tx, *p); err != nil {
				return err
			}
			if err := s.touchPage(ctx, tx, p.SHA256, p.FetchedAt); err != nil { // retention
				return err
			}
		}
		prev, err := vendorPage(ctx, tx, sg.Vendor)
		switch {
		case errors.Is(err, precwatch.ErrNotFound):
			next = precwatch.MergeVendorPage(nil, sg)
		case err != nil:
			return err
		default:
			next = precwatch.MergeVendorPage(&prev, sg)
		}
		raw, err := json.Marshal(next)
		if err != nil {
			return fmt.Errorf("encode: %w", err)
		}
		v := sg.Vendor
		if _, err := tx.ExecContext(ctx, `INSERT INTO vendor_pages (site, handle, json) VALUES (?, ?, ?)
ON CONFLICT (site, handle) DO UPDATE SET json = excluded.json`, v.Site, v.Handle, string(raw)); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM vendor_ids WHERE site = ? AND handle = ? AND holder = ''", v.Site, v.Handle); err != nil {
			return fmt.Errorf("unindex: %w", err)
		}
		ids := make([]precwatch.VendorID, len(next.Identifiers))
		for i, id := range next.Identifiers {
			ids[i] = id.VendorID
		}
		for _, e := range precwatch.VendorIndexEntries(v, ids) {
			if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO vendor_ids (kind, value, site, handle, holder) VALUES (?, ?, ?, ?, '')",
				e.Kind, e.Value, v.Site, v.Handle); err != nil {
				return fmt.Errorf("index: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return precwatch.VendorPage{}, fmt.Errorf("embedded: record vendor page %s: %w", sg.Vendor, err)
	}
	return next, nil
}

type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func vendorPage(ctx context.Context, q rowQuerier, v precwatch.VendorRef) (precwatch.VendorPage, error) {
	var raw string
	err := q.QueryRowContext(ctx, "SELECT json FROM vendor_pages WHERE site = ? AND handle = ?", v.Site, v.Handle).Scan(&raw)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return precwatch.VendorPage{}, precwatch.ErrNotFound
	case err != nil:
		return precwatch.VendorPage{}, err
	}
	var p precwatch.VendorPage
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return p, fmt.Errorf("decode: %w", err)
	}
	return p, nil
}

// VendorPage returns a vendor's page record, or ErrNotFound.
func (s *Store) VendorPage(ctx context.Context, v precwatch.VendorRef) (precwatch.VendorPage, error) {
	p, err := vendorPage(ctx, s.db, v)
	if err != nil {
		return p, fmt.Errorf("embedded: vendor page %s: %w", v, err)
	}
	return p, nil
}

// VendorListings returns the stored listings of v, by key.
func (s *Store) VendorListings(ctx context.Context, v precwatch.VendorRef, limit int) ([]precwatch.ListingState, error) {
	if limit <= 0 {
		limit = precwatch.MaxVendorListings
	}
	rows, err := s.db.QueryContext(ctx, "SELECT json FROM listings WHERE site = ? AND vendor = ? ORDER BY key LIMIT ?", v.Site, v.Handle, limit)
	if err != nil {
		return nil, fmt.Errorf("embedded: vendor listings %s: %w", v, err)
	}
	defer rows.Close()
	var out []precwatch.ListingState
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("embedded: vendor listings %s: %w", v, err)
		}
		var st precwatch.ListingState
		if err := json.Unmarshal([]byte(raw), &st); err != nil {
			return nil, fmt.Errorf("embedded: vendor listings %s: decode: %w", v, err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("embedded: vendor listings %s: %w", v, err)
	}
	return out, nil
}

// VendorsWith returns the vendors carrying index entry id.
func (s *Store) VendorsWith(ctx context.Context, id precwatch.VendorID, limit int) ([]precwatch.VendorRef, error) {
	if limit <= 0 {
		limit = precwatch.MaxLinkedVendors
	}
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT site, handle FROM vendor_ids
WHERE kind = ? AND value = ? ORDER BY site, handle LIMIT ?`, id.Kind, id.Value, limit)
	if err != nil {
		return nil, fmt.Errorf("embedded: vendors with %s: %w", id, err)
	}
	defer rows.Close()
	var out []precwatch.VendorRef
	for rows.Next() {
		var v precwatch.VendorRef
		if err := rows.Scan(&v.Site, &v.Handle); err != nil {
			return nil, fmt.Errorf("embedded: vendors with %s: %w", id, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("embedded: vendors with %s: %w", id, err)
	}
	return out, nil
}
