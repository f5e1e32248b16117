#!/usr/bin/env bash
# run.sh - the body of `make fuzz`: runs each libFuzzer harness built in
# build/fuzz/ for SECONDS seconds (default 10), all of them or the NAMEs
# given (event, webhook, ...), one after the other, and prints per harness
# the executions and the coverage libFuzzer reports (cov: edges, ft:
# features). Exits non-zero if any harness found a crash, a leak, a timeout
# or ran out of memory; the reproducer is kept under build/fuzz/artifacts/.
#
# usage: tests/fuzz/run.sh [SECONDS] [NAME...]
#
# The committed seeds (tests/fuzz/corpus/NAME/) are only read: what a run
# discovers goes to build/fuzz/corpus/NAME/, which later runs start from.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

seconds=${1:-10}
shift || true
case "$seconds" in '' | *[!0-9]*)
	echo "usage: tests/fuzz/run.sh [SECONDS] [NAME...]" >&2
	exit 2
	;;
esac
if [ $# -eq 0 ]; then
	names=()
	for f in tests/fuzz/fuzz_*.c; do
		n=${f#tests/fuzz/fuzz_}
		names+=("${n%.c}")
	done
	set -- "${names[@]}"
fi

build=build/fuzz
mkdir -p "$build/artifacts" "$build/logs"
# one iteration taking longer than this is a hang; memory beyond this is a leak or a blow-up
timeout_s=${FUZZ_TIMEOUT:-10}
rss_mb=${FUZZ_RSS_MB:-2048}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
summary=()
for name in "$@"; do
	bin=$build/fuzz_$name
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin is not built (make fuzz-build)" >&2
		failed=1
		summary+=("$(printf '%-9s %s' "$name" "NOT BUILT")")
		continue
	fi
	work=$build/corpus/$name
	mkdir -p "$work"
	args=(-max_total_time="$seconds" -timeout="$timeout_s" -rss_limit_mb="$rss_mb" -print_final_stats=1
		-artifact_prefix="$build/artifacts/$name-")
	[ -f "tests/fuzz/$name.dict" ] && args+=(-dict="tests/fuzz/$name.dict")
	log=$build/logs/$name.log
	echo "== fuzz $name (${seconds}s)"
	"$bin" "${args[@]}" "$work" "tests/fuzz/corpus/$name" >"$log" 2>&1
	code=$?
	# the last status line (#N DONE/pulse cov: ... ft: ...) and the final stats
	last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: [0-9]+' | tail -n 1)
	cov=$(echo "$last" | sed -nE 's/.* cov: ([0-9]+).*/\1/p')
	ft=$(echo "$last" | sed -nE 's/.* ft: ([0-9]+).*/\1/p')
	corp=$(echo "$last" | sed -nE 's/.* corp: ([0-9]+)\/.*/\1/p')
	execs=$(sed -nE 's/^stat::number_of_executed_units:[[:space:]]+([0-9]+)/\1/p' "$log" | tail -n 1)
	rate=$(sed -nE 's/^stat::average_exec_per_sec:[[:space:]]+([0-9]+)/\1/p' "$log" | tail -n 1)
	if [ "$code" -eq 0 ]; then
		verdict=ok
	else
		verdict="FAILED (exit $code)"
		failed=1
		grep -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error|property failed|Test unit written' "$log" |
			head -n 5 | sed 's/^/  /'
		echo "  full log: $log"
	fi
	line=$(printf '%-9s %12s execs %8s/s  cov: %-6s ft: %-7s corpus: %-6s %s' "$name" "${execs:-?}" "${rate:-?}" \
		"${cov:-?}" "${ft:-?}" "${corp:-?}" "$verdict")
	echo "$line"
	summary+=("$line")
done

echo "== fuzz summary (${seconds}s each)"
printf '%s\n' "${summary[@]}"
exit $failed
