#!/usr/bin/env bash
# run.sh - the body of `make check-deploy`: every check of the production
# artefacts in deploy/ and every operational drill, each one a script
# tests/deploy/check-*.sh (bash), check-*.py (python3) or tests/deploy/*.test.js (node:test, which
# may start PostgreSQL clusters, nginx and alertd of its own). Each check gets
# its own scratch directory in $ALERTD_TEST_TMP and prints what it measured.
# Ends with "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

export ALERTD_BIN="$PWD/build/alertd"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
tmp=$(mktemp -d /tmp/alertd-deploy.XXXXXX)
chmod 0755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

if [ ! -d tests/node_modules ]; then
	(cd tests && npm ci --no-audit --no-fund --loglevel=error) || echo "npm ci failed: node checks will fail"
fi

passed=0
failed=0
for f in tests/deploy/check-*.sh tests/deploy/check-*.py tests/deploy/*.test.js; do
	[ -f "$f" ] || continue
	name=$(basename "$f")
	dir="$tmp/$name"
	mkdir -p "$dir"
	chmod 0755 "$dir"
	echo "== $f"
	start=$(date +%s)
	case "$f" in
	*.sh) ALERTD_TEST_TMP="$dir" bash "$f" ;;
	# Debian's python3 with its python3-yaml (install-deps.sh deploy), not whatever python3 is first on PATH
	*.py) ALERTD_TEST_TMP="$dir" /usr/bin/python3 "$f" ;;
	*.js) ALERTD_TEST_TMP="$dir" node --test --test-reporter=spec "$f" ;;
	esac
	code=$?
	echo "-- $name: exit $code after $(($(date +%s) - start)) s"
	if [ "$code" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done

if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
	echo "no checks ran"
	failed=1
fi
echo
echo "check-deploy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
