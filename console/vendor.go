package console

// Vendor profiles (issue 11): one seller account's listings and alerts
// across markets, its strong identifiers, timeline, the accounts it is
// linked to by a shared identifier (with each reason), and those that share
// only its handle, shown as weak hints.

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/precwatch/precwatch"
)

// vendorView is the vendor page.
type vendorView struct {
	Profile precwatch.VendorProfile
}

func (v *vendorView) PageTitle() string { return "Vendor: " + v.Profile.Vendor.String() }

// vendorStore is the store's vendor side, or an error when it keeps none.
func (s *Server) vendorStore() (precwatch.VendorReader, error) {
	vs, ok := s.store.(precwatch.VendorReader)
	if !ok {
		return nil, errorf(ENOTFOUND, "this store keeps no vendor profiles")
	}
	return vs, nil
}

// vendorRef reads ?site=&handle= (an empty handle is the site itself).
func vendorRef(r *http.Request) (precwatch.VendorRef, error) {
	q := r.URL.Query()
	v := precwatch.VendorRef{Site: strings.TrimSpace(q.Get("site")), Handle: q.Get("handle")}
	if v.Site == "" {
		return v, errorf(EINVALID, "a vendor is named by site and handle")
	}
	return v, nil
}

func (s *Server) loadVendor(ctx context.Context, r *http.Request) (*vendorView, error) {
	vs, err := s.vendorStore()
	if err != nil {
		return nil, err
	}
	ref, err := vendorRef(r)
	if err != nil {
		return nil, err
	}
	p, err := precwatch.LoadVendorProfile(ctx, vs, ref)
	if err != nil {
		return nil, err
	}
	return &vendorView{Profile: p}, nil
}

func (s *Server) vendorPage(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	v, err := s.loadVendor(r.Context(), r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "vendor", v)
	return nil
}

func (s *Server) apiVendor(w http.ResponseWriter, r *http.Request, _ *precwatch.User) error {
	v, err := s.loadVendor(r.Context(), r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v.Profile)
	return nil
}

// vendorURL is the console path of vendor v's page.
func vendorURL(v precwatch.VendorRef) string {
	return "/vendor?" + url.Values{"site": {v.Site}, "handle": {v.Handle}}.Encode()
}

// alertVendor is what the alert detail shows of the listing's vendor: its
// links to other accounts with their reasons, and the weak hints.
type alertVendor struct {
	Ref   precwatch.VendorRef
	Links []precwatch.VendorLink
	Hints []precwatch.VendorHint
}

// loadAlertVendor returns the vendor side of alert a, nil when the store
// keeps no vendor profiles.
func (s *Server) loadAlertVendor(ctx context.Context, a precwatch.Alert) (*alertVendor, error) {
	vs, ok := s.store.(precwatch.VendorReader)
	if !ok {
		return nil, nil
	}
	ref := precwatch.VendorOf(a.Listing)
	p, err := precwatch.LoadVendorLinks(ctx, vs, ref)
	if err != nil && !errors.Is(err, precwatch.ErrNotFound) {
		return nil, err
	}
	return &alertVendor{Ref: ref, Links: p.Links, Hints: p.Hints}, nil
}
