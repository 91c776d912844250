package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one entry of the top-level help: its name (with its
// subcommand), its arguments and what it does.
type command struct {
	name, args, summary string
}

// commands lists every command `precwatch help` shows; each also answers
// `precwatch <name> -h` with its arguments and flags.
var commands = []command{
	{"run", "[--run-on-start] [--addr ADDR] [--metrics-addr ADDR] [--tls-cert F --tls-key F]", "the daemon: crawl every site on its schedule and serve the console until SIGINT/SIGTERM"},
	{"serve", "[--addr ADDR] [--tls-cert F --tls-key F]", "serve the console alone (default 127.0.0.1:8080)"},
	{"crawl", "--site NAME", "run one crawl of one site now and print its run record"},
	{"alerts", "[--json] [--status S] [--severity S] [--site S] [--substance ID] [--limit N]", "list alerts, most severe and newest first"},
	{"alerts follow", "--group NAME [--consumer C] [--from-start] [--claim-idle D] [--max N]", "print the alert events (Redis stream or embedded outbox) as JSON lines to a consumer group, at least once"},
	{"listings", "[--site S] [--json] [--limit N]", "list the stored (extracted) listings, newest sighting first"},
	{"runs", "[--site S] [--json] [--limit N]", "list the run records, newest first, with why each one stopped or marked nothing gone"},
	{"export", "--format misp|stix [--key K]... [filters] [--out FILE] [--misp-url URL [--misp-key-file F]]", "alerts as MISP events or a STIX 2.1 bundle, or pushed to MISP (key from a file or $" + mispKeyEnv + ")"},
	{"prune", "[--older-than 90d] [--runs-older-than 365d] [--dry-run] [--json]", "delete fetch records, page bodies and runs older than that which no alert, listing or running run names (defaults: the config's retention)"},
	{"match", "[--watchlist FILE] < listings.jsonl", "match listings read as JSON lines on stdin, one JSON line out per listing"},
	{"config check", "", "validate the config and its watchlist"},
	{"session import", "--site S (--cookies-file FILE|- | --cookie-header FILE|-)", "import a site's cookies copied from Tor Browser (values from a file or stdin only)"},
	{"session show", "--site S", "list a site's stored cookies (names, domains, expiry; never values)"},
	{"session clear", "--site S", "forget a site's cookies"},
	{"watchlist test", "FILE", "retro-hunt: what a candidate watchlist would add and remove over the stored listings"},
	{"watchlist diff", "OLD NEW", "what changed between two watchlist files"},
	{"watchlist suppress", "(--term T --site S | --listing ID) [--substance ID] --by NAME --reason TEXT", "rule a term on a site, or one listing, a false positive"},
	{"backup", "--out FILE [--json]", "write a consistent, checked copy of the embedded store while it is in use"},
	{"user add", "--name NAME [--role R] < password", "create a console user; password on stdin, else generated and printed"},
	{"version", "", "print the version, the Go version and the source revision"},
	{"help", "[COMMAND]", "this help, or a command's"},
}

// topUsage is the top-level help: every command.
func topUsage() string {
	var b strings.Builder
	b.WriteString("usage: precwatch <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-19s %s\n", c.name, c.summary)
	}
	b.WriteString(`
common flags: --config FILE (default configs/precwatch.yaml), --store PATH|redis://URL|redis+cluster://…|redis+sentinel://…
              (default $` + storeEnv + `, else the config's store),
              --log-level debug|info|warn|error, --log-format text|json; before or after the command
run 'precwatch <command> -h' for a command's arguments and flags; --version prints the version
`)
	return b.String()
}

// groupUsage is the help of a command with subcommands ("session").
func groupUsage(group string) string {
	var b strings.Builder
	for _, c := range commands {
		if strings.HasPrefix(c.name, group+" ") {
			pre := "usage: "
			if b.Len() > 0 {
				pre = "       "
			}
			fmt.Fprintf(&b, "%sprecwatch %s %s\n", pre, c.name, c.args)
		}
	}
	b.WriteString("run 'precwatch " + group + " <subcommand> -h' for its flags\n")
	return b.String()
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// groupHelp answers `precwatch <group> -h` on stdout; err is flag.ErrHelp,
// which exits 0.
func (m *Main) groupHelp(group string) error {
	fmt.Fprint(m.Stdout, groupUsage(group))
	return flag.ErrHelp
}

// printUsage writes a command's usage: its arguments, what it does, and
// its flags with their defaults.
func printUsage(w io.Writer, fs *flag.FlagSet) {
	name := strings.TrimPrefix(fs.Name(), "precwatch ")
	args, summary := "[flags]", ""
	for _, c := range commands {
		if c.name == name {
			args, summary = c.args, c.summary
		}
	}
	fmt.Fprintf(w, "usage: precwatch %s %s\n", name, args)
	if summary != "" {
		fmt.Fprintf(w, "%s\n", summary)
	}
	fmt.Fprintln(w, "\nflags:")
	out := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
}

// parseArgs parses a command's flags, before and after its positional
// arguments ("watchlist test FILE --config C"; "--" ends the flags), and
// leaves the positional ones in fs.Args(). Help (-h, --help) goes to
// stdout and exits 0; a bad flag prints the usage to stderr and exits 2.
func (m *Main) parseArgs(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(flagsFirst(fs, args))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		printUsage(m.Stdout, fs)
		return err
	}
	printUsage(m.Stderr, fs)
	return &exitError{code: 2, err: err}
}

// flagsFirst moves args' flags, with their values, before its positional
// arguments and a "--", since the flag package stops at the first
// positional one.
func flagsFirst(fs *flag.FlagSet, args []string) []string {
	var flags, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			positional = append(positional, args[i+1:]...)
			i = len(args)
		case a == "-" || !strings.HasPrefix(a, "-"):
			positional = append(positional, a)
		default:
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if f := fs.Lookup(name); f != nil && !strings.Contains(name, "=") && !isBoolFlag(f) && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		}
	}
	return append(append(flags, "--"), positional...)
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
