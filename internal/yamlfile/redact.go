package yamlfile

import (
	"regexp"
	"strings"
)

// Redacted replaces a password.
const Redacted = "xxxxx"

// urlPassword finds the password of a URL's user information anywhere in
// a text, parsed or not: "scheme://user:" then everything up to the last
// "@" before a space or quote. It errs towards hiding too much (a host's
// port and path when an "@" follows them) rather than too little.
var urlPassword = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://[^\s"'<>/?#@:]*):([^\s"'<>]*)@`)

// RedactURLs hides the password of every URL in s as url.URL.Redacted
// does: socks5://bob:xxxxx@127.0.0.1:3128.
func RedactURLs(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	s = urlPassword.ReplaceAllString(s, "${1}:"+Redacted+"@")
	return queryPassword.ReplaceAllString(s, "${1}"+Redacted)
}

// queryPassword finds a password given as a URL query parameter, such as
// a Redis URL's password= or sentinel_password= (issue 9).
var queryPassword = regexp.MustCompile(`([?&][A-Za-z_]*password=)[^&\s"'<>#]*`)

// Redact hides, in s, the password of every URL and every value the file
// took from another file or the environment.
func (d *Doc) Redact(s string) string {
	if d == nil {
		return RedactURLs(s)
	}
	for _, v := range d.secrets { // longest first: one may contain another
		s = strings.ReplaceAll(s, v, Redacted)
	}
	return RedactURLs(s)
}

// redactError is err with its text redacted; errors.Is and As see err.
type redactError struct{ err error }

func (e redactError) Error() string { return RedactURLs(e.err.Error()) }
func (e redactError) Unwrap() error { return e.err }

// RedactError returns err with the password of every URL in its text hidden.
func RedactError(err error) error {
	if err == nil {
		return nil
	}
	return redactError{err}
}
