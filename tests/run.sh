#!/usr/bin/env bash
# run.sh - the body of `make test`: a throwaway PostgreSQL cluster, the C
# unit tests, then the integration tests (node:test) against real alertd
# processes over real HTTP. Ends with "N passed, N failed" and exits
# non-zero on any failure. SANITIZE=... selects the instrumented build.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. deploy/pgcluster.sh

if [ -n "${SANITIZE:-}" ]; then build=build/sanitize; else build=build; fi
export ALERTD_BIN="$PWD/$build/alertd"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=87}

tmp=$(mktemp -d /tmp/alertd-test.XXXXXX)
chmod 0755 "$tmp"
export ALERTD_TEST_PGDIR="$tmp/pg"
export ALERTD_TEST_TMP="$tmp"
cleanup() {
	pgcluster_stop "$ALERTD_TEST_PGDIR" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0

echo "== unit tests ($build/tests)"
for t in "$build"/tests/test_*; do
	if [ ! -f "$t" ] || [ ! -x "$t" ]; then continue; fi
	out=$("$t" 2>&1)
	code=$?
	echo "$out" | grep -v '^ok - '
	line=$(echo "$out" | grep -E '^[a-z_]+: [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	if [ -z "$line" ]; then
		echo "$t: crashed (exit $code) before its summary"
		failed=$((failed + 1))
		continue
	fi
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$code" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "$t: exited $code (sanitizer report above?)"
		failed=$((failed + 1))
	fi
done

echo "== PostgreSQL: throwaway cluster in $ALERTD_TEST_PGDIR (unix socket only)"
if ! pgcluster_init "$ALERTD_TEST_PGDIR" || ! pgcluster_start "$ALERTD_TEST_PGDIR"; then
	echo "cannot start PostgreSQL"
	echo "$passed passed, $((failed + 1)) failed"
	exit 1
fi

# The browser test's driver, playwright-core (tests/package.json, pinned by tests/package-lock.json), installed
# only when missing or not the locked version; it drives Debian's /usr/bin/chromium and never downloads a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# (the mail test's SMTP server, smtp-server and mailparser, is checked the same way)
# (and the API contract's tools: @redocly/cli lints docs/openapi.yaml, openapi-backend validates every response)
pkgs='["playwright-core", "smtp-server", "mailparser", "@redocly/cli", "openapi-backend", "js-yaml"]'
want=$(node -e "console.log($pkgs.map((p) => require('./tests/package-lock.json').packages['node_modules/' + p].version).join(' '))")
have=$(node -e "console.log($pkgs.map((p) => { try { return require('./tests/node_modules/' + p + '/package.json').version } catch (e) { return '-' } }).join(' '))")
if [ "$want" != "$have" ]; then
	echo "== npm ci in tests/ (playwright-core $want)"
	(cd tests && npm ci --no-audit --no-fund --loglevel=error) || echo "npm ci failed: the browser test will fail"
fi

echo "== integration tests (tests/integration, real PostgreSQL, real HTTP)"
for f in tests/integration/*.test.js tests/mock/*.selftest.js; do
	out="$tmp/node-$(basename "$f").tap"
	node --test --test-reporter=tap "$f" >"$out" 2>&1
	code=$?
	# show failures in full, passes as one line each
	grep -E '^(not ok|ok) ' "$out" | sed 's/^/  /'
	if grep -q '^not ok' "$out" || [ "$code" -ne 0 ]; then
		echo "---- $f output"
		cat "$out"
		echo "----"
	fi
	p=$(grep -E '^# pass [0-9]+' "$out" | tail -n 1 | awk '{print $3}')
	fl=$(grep -E '^# fail [0-9]+' "$out" | tail -n 1 | awk '{print $3}')
	p=${p:-0}
	fl=${fl:-0}
	if [ "$code" -ne 0 ] && [ "$fl" -eq 0 ]; then fl=1; fi
	passed=$((passed + p))
	failed=$((failed + fl))
done

# every response the integration tests received, checked against docs/openapi.yaml (tests/integration/spec_check.js)
echo
node tests/integration/spec_report.js "$ALERTD_TEST_TMP/spec-coverage.jsonl" || [ "${ALERTD_SPEC_STRICT:-0}" != 1 ] || failed=$((failed + 1))

if [ "$passed" -eq 0 ]; then
	echo "no tests ran"
	failed=$((failed + 1))
fi
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
