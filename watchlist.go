package precwatch

import "time"

// Watchlist is the set of substances a matcher looks for. It holds names,
// identifiers and regulatory thresholds only.
type Watchlist struct {
	Version    string      `yaml:"version" json:"version"`
	Substances []Substance `yaml:"substances" json:"substances"`
	// Suppressions are analysts' false-positive rulings.
	Suppressions []Suppression `yaml:"suppressions,omitempty" json:"suppressions,omitempty"`
}

// Suppression silences matches an analyst ruled false positives: a term on
// a site (Term and Site), or one listing (Site and Listing, its identity or
// URL), optionally for one substance. Who and why are kept with it.
type Suppression struct {
	Term      string    `yaml:"term,omitempty" json:"term,omitempty"`
	Substance string    `yaml:"substance,omitempty" json:"substance,omitempty"`
	Site      string    `yaml:"site,omitempty" json:"site,omitempty"`
	Listing   string    `yaml:"listing,omitempty" json:"listing,omitempty"`
	By        string    `yaml:"by" json:"by"`
	Reason    string    `yaml:"reason" json:"reason"`
	At        time.Time `yaml:"at" json:"at"`
}

// Substance is one watchlist entry: a compound or a family of compounds.
type Substance struct {
	ID        string `yaml:"id" json:"id"`
	EntryType string `yaml:"entry_type" json:"entry_type"`
	// Names maps a language code (en, fr, de, es, ...) to the substance's name.
	Names map[string]string `yaml:"names" json:"names"`
	// Synonyms are full-word alternative names in any language.
	Synonyms []string `yaml:"synonyms" json:"synonyms,omitempty"`
	// Abbreviations are short codes that are ambiguous on their own and only
	// match with supporting chemical context.
	Abbreviations []string `yaml:"abbreviations" json:"abbreviations,omitempty"`
	// Excludes are phrases that hold one of the substance's terms but
	// name something else ("huile de ricin" is castor oil): a term found
	// inside one names nothing.
	Excludes []string `yaml:"excludes,omitempty" json:"excludes,omitempty"`
	// ProductTerms are consumer or trade contexts: weak signals only.
	ProductTerms []string      `yaml:"product_terms" json:"product_terms,omitempty"`
	Formula      string        `yaml:"formula" json:"formula,omitempty"`
	CAS          string        `yaml:"cas" json:"cas,omitempty"`
	EC           string        `yaml:"ec" json:"ec,omitempty"`
	UN           []string      `yaml:"un" json:"un,omitempty"`
	Regimes      []RegimeEntry `yaml:"regimes" json:"regimes"`
}

// RegimeEntry places a substance in one regime with its thresholds.
type RegimeEntry struct {
	Regime Regime `yaml:"regime" json:"regime"`
	// LimitPercent is the EU Annex I limit (% w/w; % nitrogen for ammonium
	// nitrate, see LimitBasis); nil where the regime sets no limit.
	LimitPercent *float64 `yaml:"limit_percent_w_w" json:"limit_percent_w_w,omitempty"`
	LimitBasis   string   `yaml:"limit_basis" json:"limit_basis,omitempty"`
	// UpperLimitLicensing is the Annex I upper limit for a Member-State licence.
	UpperLimitLicensing *float64 `yaml:"upper_limit_licensing_percent_w_w" json:"upper_limit_licensing_percent_w_w,omitempty"`
	Item                string   `yaml:"item" json:"item,omitempty"`
}

// DisplayName is the substance's English name, else its ID.
func (s Substance) DisplayName() string {
	if n := s.Names["en"]; n != "" {
		return n
	}
	return s.ID
}
