// Package matchers loads the watchlist and finds its substances in listings.
//
// # Watchlist
//
// ParseWatchlist and LoadWatchlist read configs/watchlist.yaml strictly
// (unknown fields are errors) and validate it: unique ids, known regimes,
// CAS check digits, at least one name, limits in (0,100]. Every error names
// the file, line and field: "configs/watchlist.yaml:123: substances[4].cas:
// check digit wrong in "7722-84-2"".
//
// # Matching
//
// Compile builds one Aho-Corasick automaton over the normalised form of
// every term of every substance; Match normalises each field (title, then
// description) once and scans it once, whatever the number of terms.
//
// Normalisation (see Normalize): NFKC compatibility forms, full case folding,
// diacritics and invisible format characters removed, non-alphanumerics
// collapsed to one space; an offset map leads every normalised byte back to
// the original text, so each Match carries Start/End/Text in the original
// field. Common obfuscations are undone word by word: homoglyphs (Cyrillic
// or Greek look-alikes in Latin words and the reverse), letters spaced out
// with one repeated separator ("n.i.t.r.o..."), leetspeak digits and "@",
// "!", "$" between letters, except in words that read as formulas.
// Disguises that ordinary text also uses are read by a repair pass
// (repair.go) only where the watchlist's vocabulary confirms them: digits
// and symbols for letters at a word's edges and zero for O in formulas,
// masked letters ("*", "#", "_", "?", "•"), pieces joined by "-" or ".",
// one dropped, doubled or swapped letter in long words, clipped names and
// disguised negators; formulas and clipped names so read need a strength
// or amount beside them.
//
// Terms are the names in every language, synonyms, formulas of four or more
// characters (case-insensitive; a formula shared by isomers is dropped as it
// identifies none) and CAS numbers (with or without hyphens, check digit
// verified on the text). Abbreviations and any term of three characters or
// fewer ("AN", "VX", "HCN") match only when written in upper case and
// directly preceded or followed by a strength or a quantity ("AN 34.5% N",
// "TEA 25 kg").
//
// A term matches at word boundaries only; a term of eight or more
// characters may also start a compound ("Ammoniumnitratdünger"), unless the
// rest makes another substance (an acid, ester or ether: "Salpeterzuur" is
// not saltpetre; a short suffix: "thiodiglycolic"; a German acid's
// adjective, which names its salt: "schwefelsaures Ammoniak") or negates it
// ("-frei").
// Of overlapping matches the longest wins ("white fuming nitric acid" over
// "nitric acid"). A negated term ("acetone-free", "sans acétone", "ohne
// Wasserstoffperoxid", "sin amoníaco ni agua oxigenada") or one turned into another salt by a metal before it
// ("ceric ammonium nitrate") is dropped.
//
// # Strength
//
// The strength stated for a match is the nearest one within a few words in
// the same sentence that is not nearer to, or separated by, another
// substance: "35%", "35 % w/w", "@ 98%", "98% purity", "purity: 99", ranges
// (upper bound), lists ("3%, 12% and 35%": the highest), peroxide volumes
// ("130 vol" ≈ 39 %, % ≈ vol × 0.3), "% N", "% nitrogen" and NPK grades
// ("34-0-0") for ammonium nitrate, whose limit is on nitrogen (a purity
// above 35 % or a stated "% w/w" is converted at 35 % N). Discounts, ratings
// and taxes ("20% off", "100% reship", "VAT 20%") are not strengths.
// "34.5N" and "N 34,4" are nitrogen grades; a solution's % is by weight.
// OverLimit compares the strength with the substance's limit; it is nil when
// no strength is stated or the regime sets no limit. A mention with no
// strength takes the one stated for the substance elsewhere in the listing
// (alerting.go), and every match ends its Reasons with the alerting rule:
// under the limit it is reported but raises no alert.
//
// # Quantity, context, score, suppressions
//
// The amount stated next to a match ("25kg", "2,5 Liter", "10 x 1 L",
// "1 L x10", "1 lb") becomes Match.Quantity, in grams or millilitres.
// Abbreviations and trade slang ("AN", "TEA", "HP", "nitro") need context:
// a strength or amount next to them, or a chemical or shop word, strength
// or amount within a few words of the sentence; a word giving the code an
// everyday sense ("TEA tree", "HP laptop", "CAN bus", "cold brew") or
// neighbouring words that spell it out as another chemical ("DMP dimethyl
// phthalate") defeat it. Every match gets Steps (the normalisation steps
// its text needed), a Score in [0,100] with Reasons, from the whole
// listing: regime, strength against the limit, amount, several precursors,
// a Tor source and obfuscation. Watchlist suppressions mark matches
// Suppressed ("by alice: reason") instead of dropping them.
//
// # Speed
//
// A plain field (ASCII and Latin letters such as "é" that fold to ASCII;
// one normalisation would only fold: no symbol or digit standing for a
// letter, no spaced or cut word) is first scanned on its own bytes, each
// read as its fold (plain.go), in a walk that also asks whether the repair
// pass could read anything (a word of letters and digits is asked as the
// repair asks it); when nothing is found and it could not, the field is
// done, unnormalised. A hit that the full path would drop at once, a word
// that is only an upper-case abbreviation not written in upper case
// ("Tea", "an"), does not stop the walk. Otherwise the scan is a DFA
// (automaton.go) run once per field: dense rows for the
// states near the root, 8-byte chain states deeper, so the table stays in
// a core's cache (0.47 MB for the configured watchlist). It skips the rest
// of a word from the root state, since every pattern starts with a space,
// and skips a whole word whose first three bytes start no pattern (a
// bitset over byte-class triples). ASCII letters, digits and separators
// take a branchless path through normalisation, which tracks the
// deobfuscation decision with a small automaton of its own; lower-case
// ASCII words are tokenized without a copy, and strengths and amounts are
// looked for from number tokens only; word flags come from an
// open-addressing table; what scoring needs of a substance (severities,
// limit text) is computed at Compile. Buffers come from a sync.Pool, so a listing without matches
// allocates nothing and the rules stay linear on a 10 MB field; a listing
// with matches allocates its result and what their pointer and slice
// fields point to (strengths, limits, amounts, reasons), together in one
// block for up to four matches, and one string for the formatted
// reasons. The repair pass (repair.go) reads the text again: eight bytes
// at a time for a byte that may start a disguise (looking through the
// rest of a chunk that may hold one before loading the next), word by
// word for the one-letter corrections (words of eight bytes or more,
// filtered on their first and last four bytes, then by a Bloom filter of
// the long words and their one-deletion forms, near.go), at full stops
// and hyphens for clipped names and pieces; it allocates only for what
// it rewrites, into buffers it keeps.
//
// # Severity
//
// Any CWC schedule is critical; EU Annex I over its limit is high, under it
// or without a stated strength medium; Annex II is low. A substance in
// several regimes reports the most severe. Matches are ordered by field
// (title first) then position, deterministically.
package matchers
