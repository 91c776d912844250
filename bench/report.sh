#!/bin/sh
# Turns `go test -bench` output into a short Markdown report with the
# machine it ran on.
raw=${1:-bench/raw.txt}
echo "# precwatch benchmarks"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "- machine: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores, $(go version | cut -d' ' -f3-4)"
# Wall-clock figures (ns/op, MB/s, listings/s) depend on what else ran;
# the MB/cpu-s, cpu and x-anchor figures much less.
echo "- load average when the report was written (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null | grep -v -e ' bench/REPORT.md$' -e ' bench/raw.txt$')" ]; then
	echo "- **the working tree had uncommitted changes**: these figures are not of the commit above"
fi
echo
echo "| benchmark | ns/op | throughput | other |"
echo "|---|---|---|---|"
awk '/^pkg: / { n=split($2, parts, "/"); pkg=parts[n]; if (parts[n-1] == "storage") pkg="storage/" pkg }
/^Benchmark/ {
	name=pkg "." $1; nsop=""; thr=""; other="";
	for (i=3; i<NF; i+=2) {
		v=$i; u=$(i+1);
		if (u=="ns/op") nsop=v;
		else if (u=="MB/s") thr=thr v " MB/s ";
		else if (u ~ /\/s$/) thr=thr v " " u " ";
		else other=other v " " u " ";
	}
	printf "| %s | %s | %s | %s |\n", name, nsop, thr, other
}' "$raw"
# The matcher against the anchor (the petar-dambovaliev/aho-corasick scan
# of the same terms, no normalisation, no rules), taking turns on each
# corpus in one run (BenchmarkMatchVsAnchor).
awk '/^BenchmarkMatchVsAnchor\// {
	name=$1; sub(/^BenchmarkMatchVsAnchor\//, "", name); sub(/-[0-9]+$/, "", name);
	own=""; anc=""; x="";
	for (i=3; i<NF; i+=2) {
		if ($(i+1)=="MB/cpu-s") own=$i;
		else if ($(i+1)=="anchor-MB/cpu-s") anc=$i;
		else if ($(i+1)=="x-anchor") x=$i;
	}
	if (!head) {
		print ""
		print "## matcher against the anchor (petar-dambovaliev/aho-corasick, DFA, ASCII case-insensitive, same terms, no rules; in turns, one run)"
		print ""
		print "| corpus | precwatch MB/cpu-s | anchor MB/cpu-s | precwatch / anchor |"
		print "|---|---|---|---|"
		head=1
	}
	printf "| %s | %s | %s | %sx |\n", name, own, anc, x
}' "$raw"
