#!/usr/bin/env bash
# bench-ingest.sh - the body of `make bench-ingest`. Measures, in one run on
# this machine:
#   raw  PostgreSQL's own limit for the rows ingest writes (event_keys +
#        events with a JSON payload), 100 events per transaction, inserted by
#        pgbench with prepared statements, synchronous_commit on;
#   1.   single-event signed POSTs from 64 concurrent connections;
#   2.   batch POSTs of 500 events;
#   3.   latency (p50/p99) at a fixed 2,000 events/s of single-event POSTs,
#        measured open-loop from the scheduled send time.
# and prints one table with each figure as a ratio of the raw limit.
# Absolute numbers depend on the machine; compare the ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/pgcluster.sh

SECONDS_EACH=${BENCH_SECONDS:-10}
tmp=$(mktemp -d /tmp/alertd-bench.XXXXXX)
chmod 0755 "$tmp"
pg="$tmp/pg"
srv_pid=
cleanup() {
	[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
	pgcluster_stop "$pg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

pgcluster_init "$pg" >/dev/null
pgcluster_start "$pg"
pgcluster_createdb "$pg" bench
conninfo=$(pgcluster_conninfo "$pg" bench)
psqlb() { psql -X -q -v ON_ERROR_STOP=1 -h "$pg/run" -U alertd -d bench "$@"; }
echo "synchronous_commit = $(psqlb -tAc 'SHOW synchronous_commit'), fsync = $(psqlb -tAc 'SHOW fsync')"

build/alertd keygen "$tmp/kek" >/dev/null
port=$((20000 + RANDOM % 20000))
cat >"$tmp/alertd.conf" <<CONF
[database]
url = "$conninfo"
pool_size = 8
[http]
listen = 127.0.0.1:$port
threads = 4
max_body_bytes = 4194304
[secrets]
key_file = $tmp/kek
[ingest]
rate_limit_per_second = 1000000
rate_limit_burst = 10000000
[log]
level = info
[metrics]
token_sha256 = $(printf %s bench | sha256sum | cut -d' ' -f1)
CONF
build/alertd migrate --config "$tmp/alertd.conf" 2>/dev/null
# the bench unit is not in the roster: a central office in the source's scope covers it
psqlb -c "INSERT INTO offices (code, name, level) VALUES ('0001', 'Bench central office', 1)"
build/alertd source add bench --office 0001 --config "$tmp/alertd.conf" | awk '/^secret:/ {print $2}' >"$tmp/secret"
source_id=$(psqlb -tAc "SELECT id FROM ingest_sources WHERE name = 'bench'")

# --- raw: pgbench inserting the same rows, 100 events per transaction ---
payload='{"id":"raw","type":"balance.changed","occurred_at":"2026-11-21T10:15:00Z","unit_code":"1000001","data":{"account":"9523.1.1012345","amount":-1500000,"balance_after":120000000,"description":"Chi luong thang 11"}}'
psqlb -c "CREATE SEQUENCE raw_seq"
{
	echo "BEGIN;"
	for _ in $(seq 100); do
		echo "WITH k AS (INSERT INTO event_keys (source_id, external_id, event_id, occurred_at, content_sha256) VALUES ($source_id, 'raw-' || nextval('raw_seq'), nextval(pg_get_serial_sequence('events', 'id')), now(), sha256('x'::bytea)) RETURNING external_id, event_id, occurred_at) INSERT INTO events (id, source_id, external_id, type, occurred_at, unit_code, payload, content_sha256) OVERRIDING SYSTEM VALUE SELECT event_id, $source_id, external_id, 'balance.changed', occurred_at, '1000001', '$payload'::jsonb, sha256('x'::bytea) FROM k;"
	done
	echo "END;"
} >"$tmp/raw.sql"
raw_out=$("$(pg_bindir)/pgbench" -n -M prepared -c 8 -j 2 -T "$SECONDS_EACH" -h "$pg/run" -U alertd -f "$tmp/raw.sql" bench 2>&1)
raw_tps=$(echo "$raw_out" | awk -F'= ' '/^tps/ {print $2}' | awk '{print $1}' | head -n 1)
raw_eps=$(awk -v t="$raw_tps" 'BEGIN { printf "%.0f", t * 100 }')
echo "raw: pgbench 8 clients, 100 events/transaction: $raw_tps tps = $raw_eps events/s"

# --- alertd (release build) ---
build/alertd serve --config "$tmp/alertd.conf" 2>"$tmp/alertd.log" &
srv_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$port"
lg() { build/loadgen --url "$url" --source bench --secret-file "$tmp/secret" --unit 1000001 "$@" 2>"$tmp/loadgen.err" | tail -n 1; }
field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k {print $2}'; }

single=$(lg --mode single --concurrency 64 --duration "$SECONDS_EACH" --warmup 1)
echo "1. $single"
batch=$(lg --mode batch --batch-size 500 --concurrency 4 --duration "$SECONDS_EACH" --warmup 1)
echo "2. $batch"
fixed=$(lg --mode single --concurrency 64 --rate 2000 --duration "$SECONDS_EACH" --warmup 1)
echo "3. $fixed"
metrics=$(curl -s -H "Authorization: Bearer bench" "$url/metrics")
commits=$(echo "$metrics" | awk '/^alertd_ingest_commits_total / {print $2}')
committed=$(echo "$metrics" | awk '/^alertd_ingest_committed_events_total / {print $2}')

s_eps=$(field "$single" events_per_s)
b_eps=$(field "$batch" events_per_s)
p50=$(field "$fixed" p50_ms)
p99=$(field "$fixed" p99_ms)
f_eps=$(field "$fixed" events_per_s)
bad=$(( $(field "$single" non2xx) + $(field "$single" errors) + $(field "$batch" non2xx) + $(field "$batch" errors) + $(field "$fixed" non2xx) + $(field "$fixed" errors) ))

awk -v raw="$raw_eps" -v s="$s_eps" -v b="$b_eps" -v f="$f_eps" -v p50="$p50" -v p99="$p99" \
	-v commits="$commits" -v committed="$committed" -v bad="$bad" 'BEGIN {
	ok1 = (s >= 0.5 * raw); ok2 = (b >= 0.8 * raw); ok3 = (p99 <= 20)
	printf "\n| measurement | events/s | ratio to raw | target | met |\n|---|---:|---:|---|---|\n"
	printf "| raw PostgreSQL limit (pgbench, 100 events/tx, 8 clients) | %.0f | 1.00 | | |\n", raw
	printf "| 1. single-event POSTs, 64 connections | %.0f | %.2f | >= 0.5 | %s |\n", s, s / raw, ok1 ? "yes" : "NO"
	printf "| 2. batch POSTs of 500 events | %.0f | %.2f | >= 0.8 | %s |\n", b, b / raw, ok2 ? "yes" : "NO"
	printf "| 3. fixed 2,000 events/s: p50 %.1f ms, p99 %.1f ms | %.0f | | p99 <= 20 ms | %s |\n", p50, p99, f, ok3 ? "yes" : "NO"
	printf "\nmean group-commit size: %.1f events per transaction (%d transactions); non-2xx or failed requests: %d\n", committed / (commits ? commits : 1), commits, bad
}'
