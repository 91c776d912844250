// Package tortest holds the crawler's end-to-end tests through a real Tor
// client: a private Tor network on loopback (internal/tornet), a fixture
// market served as a v3 onion service, and the crawler fetching it through
// the client's SOCKS port. It has no code of its own.
package tortest
