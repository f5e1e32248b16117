# shellcheck shell=bash
# benchlib.sh - sourced by the benchmarks (bench-push.sh, bench-coverage.sh): what they share.

# bench_whole_numbers NAME VAR...: each VAR must hold a whole number; else say which (as BENCH_VAR) and exit 2.
bench_whole_numbers() {
	local name=$1 v
	shift
	for v in "$@"; do
		case ${!v} in '' | *[!0-9]*) echo "$name: BENCH_$v must be a whole number (got '${!v}')" >&2; exit 2 ;; esac
	done
}

# bench_ticks PID...: CPU time (user + system, clock ticks) of the given processes; gone ones count 0.
bench_ticks() {
	local t=0 p
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] && t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
	done
	echo "$t"
}

# bench_pg_ticks PGDIR: the same for the cluster's postmaster and its children (backends, autovacuum, ...),
# those that have exited included: the postmaster reaps them, so their time is in its cutime and cstime
# (without it a backend that ends between two snapshots takes its time with it, and a difference can go negative).
bench_pg_ticks() {
	local pm reaped
	pm=$(head -n 1 "$1/data/postmaster.pid")
	reaped=$(sed 's/.*) //' "/proc/$pm/stat" | awk '{print $14 + $15}')
	# shellcheck disable=SC2046 # one pid per word
	echo $(($(bench_ticks "$pm" $(ps -o pid= --ppid "$pm")) + reaped))
}
