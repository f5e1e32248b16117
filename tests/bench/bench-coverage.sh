#!/usr/bin/env bash
# bench-coverage.sh - the body of `make bench-coverage`: the staff coverage figures at national
# scale (issue 12, "Scale"), in one run on this machine. Not a timed test: it prints the figures,
# the targets next to them and PASS or MISS.
#
#   0. fill (tests/bench/coverage-fill.sql, set-based): BENCH_UNITS budget units under
#      BENCH_REGIONS regional treasuries and BENCH_OFFICES transaction offices, BENCH_USERS users
#      (holder, chief accountant, accountants), BENCH_DEVICES devices (reachable, stale,
#      token_invalid, revoked; some users never installed; shared phones); then, with migration
#      0014's tables, 30 days of per-unit volume (tests/bench/coverage-volume.sql, the hook on
#      0014's volume table) and 90 days of coverage_daily (tests/bench/coverage-history.sql).
#   1. alertd_coverage_refresh(30), timed twice (the first computes everything; the second is
#      what the maintenance thread's periodic run costs), and today's alertd_coverage_snapshot.
#   2. a real alertd (release build, auth.require_totp = false, so no second factor is needed
#      to sign in), a central staff account made with `alertd staff add`, signed in and its
#      temporary password changed; then BENCH_N GETs per route from BENCH_CONCURRENCY keep-alive
#      connections (tests/bench/bench-coverage.js): p50/p95/p99/max, and the CPU alertd and
#      PostgreSQL used per request (/proc/PID/stat, as bench-push.sh measures it).
#   3. where the time goes: every statement PostgreSQL ran for one more pass of 50 requests per
#      route (log_min_duration_statement = 0; the statements alertd's handlers send, whatever their
#      text), summed; and EXPLAIN (ANALYZE, BUFFERS) of the refresh's and the dashboard's main reads.
#   4. the overview page in headless Chromium (playwright-core under tests/node_modules and
#      /usr/bin/chromium; skipped with a note when either or the page is absent): BENCH_RENDER_N
#      navigations, from the start to BENCH_OVERVIEW_SELECTOR (default: the overview's filled child-office table), signed in through the page's own form.
#
# Knobs (environment): BENCH_UNITS (95000), BENCH_USERS (300000), BENCH_DEVICES (400000),
# BENCH_REGIONS (20), BENCH_OFFICES (350), BENCH_N (200), BENCH_CONCURRENCY (4), BENCH_RENDER_N (30),
# BENCH_OVERVIEW_SELECTOR (the overview's filled child-office table), BENCH_ALERTD (build/alertd).
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/pgcluster.sh
. tests/bench/benchlib.sh

UNITS=${BENCH_UNITS:-95000}
USERS=${BENCH_USERS:-300000}
DEVICES=${BENCH_DEVICES:-400000}
REGIONS=${BENCH_REGIONS:-20}
OFFICES=${BENCH_OFFICES:-350}
N=${BENCH_N:-200}
CONC=${BENCH_CONCURRENCY:-4}
RENDER_N=${BENCH_RENDER_N:-30}
SELECTOR=${BENCH_OVERVIEW_SELECTOR:-"main[data-ready='#/overview'] #children table tbody tr"}
ALERTD=${BENCH_ALERTD:-build/alertd}
bench_whole_numbers bench-coverage UNITS USERS DEVICES REGIONS OFFICES N CONC RENDER_N
if [ "$USERS" -lt $((2 * UNITS)) ] || [ "$REGIONS" -lt 1 ] || [ "$REGIONS" -gt 999 ] || [ "$OFFICES" -lt 1 ] ||
	[ "$OFFICES" -gt 999 ] || [ "$UNITS" -lt 1 ] || [ "$UNITS" -gt 4999999 ] || [ "$N" -lt 1 ] || [ "$CONC" -lt 1 ]; then
	echo "bench-coverage: need BENCH_USERS >= 2 x BENCH_UNITS (a holder and a chief each), 1-999 regions and offices, 1-4999999 units" >&2
	exit 2
fi

tmp=$(mktemp -d /tmp/alertd-bench-coverage.XXXXXX)
chmod 0755 "$tmp"
pg="$tmp/pg"
srv_pid=
quiet=
cleanup() {
	local rc=$?
	set +e
	if [ "$rc" -ne 0 ] && [ -z "$quiet" ]; then
		echo "bench-coverage: failed (exit $rc); last lines of the logs:" >&2
		for f in "$tmp/alertd.log" "$pg/postgres.log"; do [ -s "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }; done
	fi
	if [ -n "$srv_pid" ]; then kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null; fi
	pgcluster_stop "$pg" 2>/dev/null
	rm -rf "$tmp"
	return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*"; }
now_ms() { date +%s%3N; }
pgcluster_init "$pg" >/dev/null
pgcluster_start "$pg"
pgcluster_createdb "$pg" bench
psqlb() { psql -X -q -v ON_ERROR_STOP=1 -h "$pg/run" -U alertd -d bench "$@"; }
# "alertd postgres" CPU ticks
cpu_snapshot() {
	echo "$(bench_ticks "$srv_pid") $(bench_pg_ticks "$pg")"
}

"$ALERTD" keygen "$tmp/kek" >/dev/null
port=$((20000 + RANDOM % 20000))
cat >"$tmp/alertd.conf" <<CONF
[database]
url = "$(pgcluster_conninfo "$pg" bench)"
pool_size = 8
[http]
listen = 127.0.0.1:$port
threads = 4
[secrets]
key_file = $tmp/kek
[log]
level = warn
[auth]
require_totp = off
signin_per_ip_per_minute = 10000
[staff]
# the meter still counts and audits every look-up (its cost is in the figures), but a bench reads far more
# people a minute than an officer may
lookups_per_minute = 1000000
lookups_per_day = 100000000
[push]
provider = log
CONF
"$ALERTD" check-config --config "$tmp/alertd.conf" >/dev/null
"$ALERTD" migrate --config "$tmp/alertd.conf" 2>/dev/null
say "before the run: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (anything else running on the machine skews every figure)"

# --- 0. fill ---
t=$(now_ms)
psqlb -v units="$UNITS" -v users="$USERS" -v devices="$DEVICES" -v regions="$REGIONS" -v offices="$OFFICES" -f tests/bench/coverage-fill.sql
fill_ms=$(($(now_ms) - t))
say "fill: $(psqlb -tA -F ', ' -c "SELECT (SELECT count(*) FROM offices) || ' offices', (SELECT count(*) FROM budget_units) || ' units',
	(SELECT count(*) FROM users) || ' users', (SELECT count(*) FROM devices) || ' devices',
	(SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id)) || ' users without a device'") in $((fill_ms / 1000)).$(printf '%03d' $((fill_ms % 1000))) s"
has14=$(psqlb -tAc "SELECT to_regclass('coverage_daily') IS NOT NULL AND EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'alertd_coverage_refresh')")
if [ "$has14" != t ]; then
	say "bench-coverage: this build has no coverage tables and functions (migration 0014, the coverage part of issue 12): only the fill was measured"
	quiet=1
	exit 1
fi
if [ -n "$(psqlb -tAc "SELECT to_regclass('coverage_volume_daily')")" ]; then
	t=$(now_ms)
	psqlb -f tests/bench/coverage-volume.sql
	say "fill: 30 days of per-unit volume in $(($(now_ms) - t)) ms"
else
	say "bench-coverage: note: no coverage_volume_daily table; the volume hook (tests/bench/coverage-volume.sql) did nothing, money at risk is 0"
fi
t=$(now_ms)
psqlb -f tests/bench/coverage-history.sql
say "fill: 90 days of coverage_daily for every office in $(($(now_ms) - t)) ms"

# --- 1. refresh and snapshot ---
t=$(now_ms)
rows=$(psqlb -tAc "SELECT alertd_coverage_refresh(30)")
refresh1=$(($(now_ms) - t))
t=$(now_ms)
rows2=$(psqlb -tAc "SELECT alertd_coverage_refresh(30)")
refresh2=$(($(now_ms) - t))
t=$(now_ms)
snap=$(psqlb -tAc "SELECT alertd_coverage_snapshot((now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date)")
snap_ms=$(($(now_ms) - t))
# the worklist sync that follows every refresh in the maintenance thread (migration 0025): the first
# opens an item per unit not protected, the next only looks at the units whose coverage row changed
if [ "$(psqlb -tAc "SELECT count(*) FROM pg_proc WHERE proname = 'alertd_worklist_sync'")" = 1 ]; then
	t=$(now_ms)
	wl1=$(psqlb -tAc "SELECT alertd_worklist_sync(30, 14)")
	wl1_ms=$(($(now_ms) - t))
	t=$(now_ms)
	wl2=$(psqlb -tAc "SELECT alertd_worklist_sync(30, 14)")
	wl2_ms=$(($(now_ms) - t))
	psqlb -c "UPDATE coverage_units SET computed_at = now() WHERE unit_code IN (SELECT unit_code FROM coverage_units ORDER BY unit_code LIMIT 1000)" >/dev/null
	t=$(now_ms)
	wl3=$(psqlb -tAc "SELECT alertd_worklist_sync(30, 14)")
	wl3_ms=$(($(now_ms) - t))
	say "alertd_worklist_sync: first $wl1_ms ms ($wl1 items), again $wl2_ms ms ($wl2 changed), after 1000 changed units $wl3_ms ms ($wl3 changed)"
fi
psqlb -c 'VACUUM ANALYZE'
say "alertd_coverage_refresh(30): first $refresh1 ms ($rows rows written), again $refresh2 ms ($rows2 rows written); snapshot $snap_ms ms ($snap rows)"
say "coverage: $(psqlb -tA -F ', ' -c "SELECT status || ' ' || count(*) FROM coverage_units GROUP BY status ORDER BY status" | paste -sd ' ')"

# --- 2. the API under load ---
"$ALERTD" serve --config "$tmp/alertd.conf" 2>"$tmp/alertd.log" &
srv_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { say "bench-coverage: alertd did not become ready" >&2; exit 1; }
temp=$("$ALERTD" staff add bench.central --office N000 --role viewer --config "$tmp/alertd.conf" | awk '/^temporary password:/ {print $3}')
cookie=$(node tests/bench/bench-coverage.js signin "http://127.0.0.1:$port" bench.central "$temp" 'Tr3asury!Kv9x-bench' | cut -f1)
regional=R001
prefix=${BENCH_Q:-50012}
# /v1/staff/me first: the cost of the session check alone, which every other route pays too
paths=("/v1/staff/me" "/v1/staff/coverage" "/v1/staff/coverage?office=$regional" "/v1/staff/coverage/units?q=$prefix"
	"/v1/staff/coverage/units?q=truong" "/v1/staff/coverage/units?status=unprotected" "/v1/staff/coverage/trend?days=90")
: >"$tmp/get.tsv"
hz=$(getconf CLK_TCK)
for p in "${paths[@]}"; do
	c0=$(cpu_snapshot)
	node tests/bench/bench-coverage.js get "http://127.0.0.1:$port" "$cookie" "$N" "$CONC" "$p" >"$tmp/one.tsv"
	c1=$(cpu_snapshot)
	# append the CPU per request (ms) of alertd and of PostgreSQL
	awk -v a="$c0" -v b="$c1" -v hz="$hz" -v n="$N" 'BEGIN { split(a, x, " "); split(b, y, " ") }
		{ printf "%s\t%.2f\t%.2f\n", $0, 1000 * (y[1] - x[1]) / hz / (n + 5), 1000 * (y[2] - x[2]) / hz / (n + 5) }' "$tmp/one.tsv" >>"$tmp/get.tsv"
done

# --- 3. where the time goes ---
psqlb -c 'ALTER SYSTEM SET log_min_duration_statement = 0' -c 'SELECT pg_reload_conf()' >/dev/null
sleep 0.5
log_from=$(wc -c <"$pg/postgres.log")
node tests/bench/bench-coverage.js get "http://127.0.0.1:$port" "$cookie" 50 1 "${paths[@]}" >/dev/null
psqlb -c 'ALTER SYSTEM RESET log_min_duration_statement' -c 'SELECT pg_reload_conf()' >/dev/null
tail -c +"$((log_from + 1))" "$pg/postgres.log" >"$tmp/statements.log"

# --- 4. the overview page ---
render=$(node tests/bench/bench-coverage.js render "http://127.0.0.1:$port" bench.central 'Tr3asury!Kv9x-bench' "$RENDER_N" "$SELECTOR" 2>&1 | tail -n 1)

# --- report ---
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { if (v == "nan" || v == "") print "n/a"; else print (v + 0 <= t + 0) ? "PASS" : "MISS" }'; }
say ""
say "GET routes: $N requests each from $CONC keep-alive connections after 5 warm-up requests (ms; CPU per request in ms)"
printf '%-48s %5s %6s %7s %7s %7s %7s %8s %9s %7s  %s\n' route ok non2xx p50 p95 p99 max bytes cpu-alertd cpu-pg "target (p95)"
while IFS=$'\t' read -r p _n ok bad p50 p95 p99 max bytes ca cp; do
	target=100 # the coverage API and the unit search alike (issue 12)
	if [ "$p" = /v1/staff/me ]; then
		result="(baseline: the session check; no target)"
	elif [ "$bad" = 0 ]; then
		result="<= $target ms: $(verdict "$p95" "$target")"
	else
		result="<= $target ms: MISS (non-2xx answers)"
	fi
	printf '%-48s %5s %6s %7s %7s %7s %7s %8s %9s %7s  %s\n' "$p" "$ok" "$bad" "$p50" "$p95" "$p99" "$max" "$bytes" "$ca" "$cp" "$result"
done <"$tmp/get.tsv"
case $render in
render*)
	read -r _ rn r50 r95 r99 rmax <<<"$render"
	printf '%-48s %5s %6s %7s %7s %7s %7s %8s %9s %7s  <= 300 ms: %s\n' "overview page render (Chromium)" "$rn" 0 "$r50" "$r95" "$r99" "$rmax" - - - "$(verdict "$r95" 300)"
	;;
*) say "overview page render: skipped: ${render#skip	}" ;;
esac
say "alertd_coverage_refresh(30): $refresh1 ms first, $refresh2 ms again (runs in the maintenance thread every coverage.refresh_seconds, not per request)"
say ""
say "where PostgreSQL's time went during one more pass of 50 requests per route (statements as alertd sent them, summed):"
awk '/duration: [0-9.]+ ms/ {
		ms = $0; sub(/.*duration: /, "", ms); sub(/ ms.*/, "", ms)
		q = $0; sub(/.*duration: [0-9.]+ ms +/, "", q); sub(/^(statement|execute [^:]*|parse [^:]*|bind [^:]*): /, "", q)
		q = substr(q, 1, 90); if (q ~ /^(ALTER SYSTEM|SELECT pg_reload_conf)/) next; n[q]++; s[q] += ms; if (ms > m[q]) m[q] = ms
	}
	END { for (q in n) printf "%10.1f ms total %6d x  mean %7.2f  max %7.2f  %s\n", s[q], n[q], s[q] / n[q], m[q], q }' "$tmp/statements.log" |
	sort -rn | head -n 12
say ""
say "EXPLAIN (ANALYZE, BUFFERS): execution time and the top plan node"
explain() {
	psqlb -tA -c "EXPLAIN (ANALYZE, BUFFERS) $2" >"$tmp/explain.txt"
	printf '  %-62s %s; %s\n' "$1" "$(grep -o 'Execution Time: .*' "$tmp/explain.txt")" "$(head -n 1 "$tmp/explain.txt" | sed 's/  (cost=[^)]*)//' | cut -c1-90)"
}
explain "refresh: SELECT alertd_coverage_refresh(30)" "SELECT alertd_coverage_refresh(30)"
explain "central totals over coverage_units" "SELECT status, count(*), sum(volume_30d) FROM coverage_units WHERE office_code IN (SELECT alertd_office_subtree('N000')) GROUP BY status"
explain "a regional treasury's worst 50 units" "SELECT unit_code FROM coverage_units WHERE office_code IN (SELECT alertd_office_subtree('$regional')) ORDER BY status DESC, volume_30d DESC, unit_code LIMIT 50"
explain "unit code prefix" "SELECT unit_code FROM coverage_units WHERE unit_code LIKE '$prefix%' ORDER BY unit_code LIMIT 50"
explain "the central trend, 90 days" "SELECT * FROM coverage_daily WHERE office_code = 'N000' AND day > (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date - 90 ORDER BY day"
say ""
say "fill $((fill_ms / 1000)) s for $UNITS units, $USERS users, $DEVICES devices; alertd VmHWM $(awk '/^VmHWM:/ {print $2}' "/proc/$srv_pid/status") kB"
