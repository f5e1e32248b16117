#!/usr/bin/env bash
# check-systemd.sh - deploy/alertd.service checked by systemd's own tools:
# `systemd-analyze verify` (syntax, directives, the executables exist) and
# `systemd-analyze security --offline=true` (the sandbox's exposure score,
# 0 = fully locked down, 10 = none), which must stay at or below 2.0.
# verify checks that ExecStart's binary exists, so the copy it checks has
# /usr/local/bin/alertd rewritten to this tree's build/alertd; nothing else changes.
set -euo pipefail
cd "$(dirname "$0")/../.."
limit=2.0
work=${ALERTD_TEST_TMP:-$(mktemp -d)}
unit="$work/alertd.service"
sed "s#/usr/local/bin/alertd#$PWD/build/alertd#g" deploy/alertd.service >"$unit"
[ -x build/alertd ] || { echo "FAIL: build/alertd is not built"; exit 1; }

if ! out=$(systemd-analyze verify "$unit" 2>&1) || [ -n "$out" ]; then
	echo "FAIL: systemd-analyze verify:"
	echo "$out"
	exit 1
fi
echo "ok: systemd-analyze verify reports nothing ($(systemd-analyze --version | head -n 1))"

report=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1)
score=$(echo "$report" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -z "$score" ]; then
	echo "FAIL: no exposure score in:"
	echo "$report"
	exit 1
fi
echo "systemd-analyze security: exposure $score (limit $limit); the settings that still count:"
echo "$report" | grep -E '^✗' | sed 's/^/  /' || true
if awk -v s="$score" -v l="$limit" 'BEGIN { exit !(s > l) }'; then
	echo "FAIL: exposure $score is above $limit"
	exit 1
fi
echo "ok: exposure $score <= $limit"
