#!/usr/bin/env bash
# bench-push.sh - the body of `make bench-push`: push delivery throughput,
# latency and memory, in one run on this machine, side by side with two peer
# SDKs (tests/bench/bench-peers.js) sending to the same mock.
#
# README paragraph and table (figures to be filled in from a run):
#
#   `make bench-push` (release build; `BENCH_*` variables below) starts its own PostgreSQL, the push
#   mock (`tests/mock/push-mock.js`: OAuth, FCM v1 and APNs over HTTP/2+TLS, on the same machine) and
#   alertd with `push.provider = live` pointed at the mock (the default 4 dispatcher threads, batches of 50), then
#   measures in one run: the mock's own ceiling (h2load, 4 connections × 100 streams, APNs requests
#   with a valid ES256 provider token, before alertd starts and again at the end; their mean is the
#   reference); the dispatch rate while alertd drains an outbox filled in SQL with 100,000 rows for
#   50,000 devices (half FCM, half APNs), from the commit of the fill to the last recorded row;
#   alertd's peak RSS (`VmHWM`) after draining 10,000 and then 100,000 rows; the same drain of
#   20,000 rows on statistics that predate the fill; then, with alertd idle, two peer SDKs sending
#   as many notifications (20,000) from memory to the same mock (`tests/bench/bench-peers.js`):
#   `@parse/node-apn` (APNs, one HTTP/2 connection, chunks of 1,000) and `firebase-admin`
#   (`messaging().sendEach`, FCM v1 over HTTP/2, batches of 500), each rate set against alertd's
#   20,000-row drain, with the CPU per push of the peer and of the mock; and the event-to-push
#   latency at a fixed 1,000 events/s of signed single-event POSTs to the ingest endpoint for a roster
#   unit whose 2 users have one phone each (one Android, one iPhone: 2,000 pushes/s), measured per
#   push from the time loadgen was due to send the event (open loop) to the time the mock received the
#   push. The mock, alertd, PostgreSQL and the load generators share the CPUs, so compare the ratio
#   to the ceiling; absolute numbers move with the machine. alertd's rate includes its database work
#   (claiming each row from the outbox and recording the outcome); the peers only send.
#
#   | measurement | value | target |
#   |---|---|---|
#   | push mock ceiling (h2load, APNs, 4 connections × 100 streams; before / after) | N req/s (N / N) | |
#   | dispatch rate, 100,000 rows for 50,000 devices | N notifications/s = 0.NN × ceiling | ≥ 0.7 × ceiling |
#   | peer: @parse/node-apn, 20,000 APNs notifications from memory, chunks of 1,000 | N notifications/s = 0.NN × ceiling | |
#   | peer: firebase-admin sendEach, 20,000 FCM notifications from memory, batches of 500 | N notifications/s = 0.NN × ceiling | |
#   | alertd (20,000-row drain) / faster peer | N notifications/s / N = 0.NN × | ≥ 1.0 × |
#   | event → push at 1,000 events/s (2,000 pushes/s): p50 / p99 | N / N ms | p99 ≤ 250 ms |
#   | alertd peak RSS after draining 10,000 / 100,000 rows | N / N MB | no growth with depth |
#
# Phases:
#   0. fixture in SQL: BENCH_DEVICES users with one active device each (even:
#      android/FCM with a 146-character registration token, odd: ios/APNs with
#      a 64-hex-digit token) in units of 50; the latency unit 2000001 through
#      `alertd roster import`, BENCH_LAT_USERS users, one device each, alternating.
#   1. mock ceiling: h2load -c 4 -m 100 for BENCH_H2LOAD_SECONDS (after 1 s of
#      warm-up) against POST /3/device/<hex>, then POST /reset and
#      POST /config {"apns_token_update_limit": false, "log_requests": false}
#      (alertd signs its own provider token; the mock keeps no request log).
#      Measured again after phase 3 with alertd idle: on a shared VM the two
#      differ, and the ratio below uses their mean.
#   2. drain: one transaction inserts N alerts and N outbox rows (N =
#      BENCH_SMALL_ROWS, then BENCH_ROWS; row g goes to device g mod
#      BENCH_DEVICES), all due at one moment 2 s + N/8000 s ahead; then
#      ANALYZE. At the due time a NOTIFY wakes the dispatcher and the clock
#      starts; it stops at the last row's recording (max(push_outbox.updated_at)),
#      polling until no row is pending. VmHWM is read after each drain; the
#      small fill also warms alertd up (connections, TLS, OAuth token). Last,
#      BENCH_STALE_ROWS rows after VACUUM ANALYZE, not analysed after their fill.
#   2b. peers (BENCH_PEERS=1), alertd idle, against the same mock and its state:
#      node tests/bench/bench-peers.js apns, then fcm, BENCH_PEER_COUNT
#      notifications each (default: as many as the BENCH_STALE_ROWS drain) to
#      the fixture's device tokens, with alertd's payloads; the file comment says
#      how each SDK is pointed at the mock. Each prints its rate and its own CPU
#      over its timed part, and fails unless every notification succeeded and the
#      mock's GET /stats counted exactly that many 200 answers of its API over
#      that part. The mock's CPU is read around the whole peer process (its one
#      warm-up notification and, for FCM, the OAuth token included). A failed peer
#      is reported in the table and makes the script exit 1 at the end.
#   3. latency: loadgen --rate BENCH_RATE for BENCH_LAT_SECONDS (after 2 s of
#      warm-up) writes each accepted event's due time (wall clock, µs). Per
#      outbox row of those events:
#        event -> push   = the mock's receipt of the push (its request log, ms
#                          resolution; linked to the outbox row by the alert_id
#                          alertd puts in every push and the device token) minus
#                          the due time. This is what the target is checked on.
#        event -> sent_at = push_outbox.sent_at minus the due time. sent_at is
#                          now() of the recording transaction, which begins after
#                          the provider answered the whole batch: an upper bound
#                          of the above, and the only figure with the log provider
#                          (then the target is checked on it).
#        created_at -> sent_at = sent_at minus alerts.created_at (now() of the
#                          ingest transaction): what the database alone shows;
#                          it misses the time from the request's arrival to that
#                          transaction's start.
#      loadgen measures from when each request was due, not when it went out, so
#      ingest queueing counts (no coordinated omission). All clocks are this
#      machine's wall clock.
#
# Knobs (environment): BENCH_ROWS (100000), BENCH_SMALL_ROWS (10000; 0 skips),
# BENCH_DEVICES (50000), BENCH_RATE (1000 events/s), BENCH_LAT_SECONDS (15;
# 0 skips), BENCH_LAT_USERS (2), BENCH_H2LOAD_SECONDS (10), BENCH_H2LOAD_CLIENTS
# (4), BENCH_H2LOAD_STREAMS (100), BENCH_PROVIDER (auto: live when this build
# has the [apns]/[fcm] options, else log), BENCH_PUSH_WORKERS (4),
# BENCH_PUSH_BATCH (50), BENCH_CONNECTIONS_PER_HOST (2), BENCH_LOG_LEVEL
# (info), BENCH_DRAIN_TIMEOUT (600 s per drain), BENCH_VACUUM (1: VACUUM
# ANALYZE and CHECKPOINT before the latency phase, as autovacuum would have
# done by then; 0: measure right after the drains), BENCH_STALE_ROWS (20000: a
# drain whose fill is not analysed, on the statistics of the quiet outbox
# before it; 0 skips), BENCH_PEERS (1; 0 skips the peer SDKs), BENCH_PEER_COUNT
# (notifications per peer: BENCH_STALE_ROWS, or 20000 when that is 0),
# BENCH_ALERTD (build/alertd: the binary to measure, e.g. another build to compare).
# The peers' npm packages (tests/bench/package.json) are installed with npm ci when
# tests/bench/node_modules lacks their locked versions.
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/pgcluster.sh
. tests/bench/benchlib.sh

ROWS=${BENCH_ROWS:-100000}
SMALL_ROWS=${BENCH_SMALL_ROWS:-10000}
DEVICES=${BENCH_DEVICES:-50000}
RATE=${BENCH_RATE:-1000}
LAT_SECONDS=${BENCH_LAT_SECONDS:-15}
LAT_USERS=${BENCH_LAT_USERS:-2}
H2_SECONDS=${BENCH_H2LOAD_SECONDS:-10}
H2_CLIENTS=${BENCH_H2LOAD_CLIENTS:-4}
H2_STREAMS=${BENCH_H2LOAD_STREAMS:-100}
PROVIDER=${BENCH_PROVIDER:-auto}
WORKERS=${BENCH_PUSH_WORKERS:-4}
BATCH=${BENCH_PUSH_BATCH:-50}
CONNS=${BENCH_CONNECTIONS_PER_HOST:-2}
LOG_LEVEL=${BENCH_LOG_LEVEL:-info}
DRAIN_TIMEOUT=${BENCH_DRAIN_TIMEOUT:-600}
ALERTD=${BENCH_ALERTD:-build/alertd}
VACUUM=${BENCH_VACUUM:-1}
STALE_ROWS=${BENCH_STALE_ROWS:-20000}
PEERS=${BENCH_PEERS:-1}
PEER_COUNT=${BENCH_PEER_COUNT:-$STALE_ROWS}
# as many notifications as alertd's 20,000-row drain, or 20,000 when that drain is skipped
[ -n "${BENCH_PEER_COUNT:-}" ] || [ "$STALE_ROWS" != 0 ] || PEER_COUNT=20000

bench_whole_numbers bench-push ROWS SMALL_ROWS DEVICES RATE LAT_SECONDS LAT_USERS H2_SECONDS H2_CLIENTS H2_STREAMS WORKERS BATCH CONNS DRAIN_TIMEOUT VACUUM STALE_ROWS PEERS PEER_COUNT
if [ "$PEERS" = 1 ] && [ "$PEER_COUNT" -lt 1 ]; then
	echo "bench-push: BENCH_PEER_COUNT must be at least 1 (BENCH_PEERS=0 skips the peers)" >&2
	exit 2
fi
if [ "$ROWS" -lt 1 ] || [ "$DEVICES" -lt 1 ] || [ "$H2_SECONDS" -lt 1 ] || [ "$LAT_USERS" -lt 1 ]; then
	echo "bench-push: BENCH_ROWS, BENCH_DEVICES, BENCH_H2LOAD_SECONDS and BENCH_LAT_USERS must be at least 1" >&2
	exit 2
fi
if [ "$PROVIDER" = auto ]; then
	# the live provider's options appear in the option table once it is built in
	# (read whole: grep -q on a pipe could end it early and fail the pipeline under pipefail)
	reference=$("$ALERTD" config-reference)
	# shellcheck disable=SC2016 # literal backquotes of the markdown table
	case $reference in *'| `apns.key_id` |'*) PROVIDER=live ;; *) PROVIDER=log ;; esac
fi
case $PROVIDER in live | log) ;; *) echo "bench-push: BENCH_PROVIDER must be auto, live or log" >&2; exit 2 ;; esac
command -v h2load >/dev/null || { echo "bench-push: h2load not found (Debian package nghttp2-client; make deps)" >&2; exit 1; }
# The peer SDKs (tests/bench/package.json, pinned by tests/bench/package-lock.json; apart from the
# test dependencies, so make test never installs them), installed only when missing or not the
# locked versions, before anything starts (BENCH_PEERS=0 runs without them).
peers_installed() {
	# shellcheck disable=SC2016 # a JavaScript template literal, not the shell's
	node -e 'const lock = require("./tests/bench/package-lock.json").packages;
		for (const p of ["@parse/node-apn", "firebase-admin"]) {
			let have;
			try { have = require(`./tests/bench/node_modules/${p}/package.json`).version; } catch { have = null; }
			if (have !== lock[`node_modules/${p}`].version) process.exit(1);
		}'
}
if [ "$PEERS" = 1 ] && ! peers_installed; then
	echo "== npm ci in tests/bench/ (the peer SDKs @parse/node-apn and firebase-admin)"
	(cd tests/bench && npm ci --no-audit --no-fund --loglevel=error) || { echo "bench-push: npm ci in tests/bench/ failed (BENCH_PEERS=0 runs without the peers)" >&2; exit 1; }
	peers_installed || { echo "bench-push: tests/bench/node_modules still lacks the locked peer SDKs" >&2; exit 1; }
fi

tmp=$(mktemp -d /tmp/alertd-bench-push.XXXXXX)
chmod 0755 "$tmp"
pg="$tmp/pg"
pki="$tmp/pki"
srv_pid=
mock_pid=
cleanup() {
	local rc=$?
	set +e
	if [ "$rc" -ne 0 ]; then
		echo "bench-push: failed (exit $rc); last lines of the logs:" >&2
		for f in "$tmp/alertd.log" "$tmp/mock.err" "$tmp/loadgen.err" "$tmp/peer-apns.err" "$tmp/peer-fcm.err"; do
			[ -s "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }
		done
	fi
	if [ -n "$srv_pid" ]; then kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null; fi
	if [ -n "$mock_pid" ]; then kill "$mock_pid" 2>/dev/null && wait "$mock_pid" 2>/dev/null; fi
	pgcluster_stop "$pg" 2>/dev/null
	rm -rf "$tmp"
	return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*"; }
# idle share of all CPUs over one second (/proc/stat: idle + iowait of the total)
cpu_idle() {
	local a b
	a=$(head -n 1 /proc/stat)
	sleep 1
	b=$(head -n 1 /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN { n = split(a, x, " "); split(b, y, " "); for (i = 2; i <= n; i++) { t += y[i] - x[i] }
		printf "%.0f", (t > 0) ? 100 * (y[5] - x[5] + y[6] - x[6]) / t : 0 }'
}
say "before the run: CPUs $(cpu_idle)% idle, load average $(cut -d' ' -f1-3 /proc/loadavg) (anything else running on the machine skews every figure)"
pgcluster_init "$pg" >/dev/null
# pg_stat_statements (PostgreSQL's own contrib module) says which statements the drain's database time goes to
cat >>"$pg/data/postgresql.conf" <<'PGCONF'
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
pg_stat_statements.track_planning = on
PGCONF
pgcluster_start "$pg"
pgcluster_createdb "$pg" bench
conninfo=$(pgcluster_conninfo "$pg" bench)
psqlb() { psql -X -q -v ON_ERROR_STOP=1 -h "$pg/run" -U alertd -d bench "$@"; }
psqlb -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' >/dev/null
# statements_per_row N: PostgreSQL's planning + execution time per statement since the last reset, in µs
# per drained row (the fill, ANALYZE and this script's own polling left out), biggest first
statements_per_row() {
	psqlb -tA -F ' | ' -c "SELECT to_char(sum(total_plan_time + total_exec_time) * 1000 / $1, 'FM99990.0') || ' µs/row',
		sum(calls), left(regexp_replace(query, '\s+', ' ', 'g'), 110)
		FROM pg_stat_statements
		WHERE query !~* '^(ANALYZE|SELECT count\(\*\), count\(\*\) FILTER|SELECT count\(\*\) FROM push_outbox WHERE state = (\\\$[0-9]+|.pending.) AND id >|SELECT COALESCE\(max\(id\)|NOTIFY|SELECT pg_stat_statements_reset|SELECT \\\$[0-9]+ FROM ONLY|VACUUM|WITH a AS \(.*INSERT INTO alerts)'
		GROUP BY query ORDER BY sum(total_plan_time + total_exec_time) DESC LIMIT 12"
}
mock_ctl() { curl -sf -X "$1" -H 'content-type: application/json' ${3:+-d "$3"} "http://127.0.0.1:$ctl_port$2"; }
# VmHWM: the most resident memory alertd has had since it started (kB)
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$srv_pid/status"; }
# "alertd mock postgres" ticks: postgres is the postmaster and its children (backends, autovacuum, ...)
cpu_snapshot() {
	echo "$(bench_ticks "$srv_pid") $(bench_ticks "$mock_pid") $(bench_pg_ticks "$pg")"
}

# --- the push mock (its PKI is made on first start) ---
node tests/mock/push-mock.js --pki "$pki" --port 0 --control-port 0 >"$tmp/mock.out" 2>"$tmp/mock.err" &
mock_pid=$!
for _ in $(seq 120); do grep -q '^push-mock listening' "$tmp/mock.out" && break; sleep 0.25; done
line=$(grep '^push-mock listening' "$tmp/mock.out") || { say "bench-push: the push mock did not start" >&2; exit 1; }
mock_port=$(echo "$line" | sed -n 's#.*https://127\.0\.0\.1:\([0-9]*\) .*#\1#p')
ctl_port=$(echo "$line" | sed -n 's#.*control http://127\.0\.0\.1:\([0-9]*\).*#\1#p')
apns_json() { node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]]))' "$pki/apns.json" "$1"; }

# --- alertd configuration, schema, ingest source ---
"$ALERTD" keygen "$tmp/kek" >/dev/null
port=$((20000 + RANDOM % 20000))
{
	cat <<CONF
[database]
url = "$conninfo"
pool_size = 8
[http]
listen = 127.0.0.1:$port
threads = 4
[secrets]
key_file = $tmp/kek
[ingest]
rate_limit_per_second = 1000000
rate_limit_burst = 10000000
[log]
level = $LOG_LEVEL
[metrics]
token_sha256 = $(printf %s bench | sha256sum | cut -d' ' -f1)
[push]
provider = $PROVIDER
workers = $WORKERS
batch_size = $BATCH
CONF
	if [ "$PROVIDER" = live ]; then
		cat <<CONF
ca_file = $pki/ca.pem
connections_per_host = $CONNS
request_timeout_seconds = 15
[fcm]
credentials_file = $pki/sa.json
endpoint = https://127.0.0.1:$mock_port
[apns]
key_file = $(apns_json key_file)
key_id = $(apns_json key_id)
team_id = $(apns_json team_id)
topic = $(apns_json topic)
endpoint = https://127.0.0.1:$mock_port
CONF
	fi
} >"$tmp/alertd.conf"
"$ALERTD" check-config --config "$tmp/alertd.conf" >/dev/null
"$ALERTD" migrate --config "$tmp/alertd.conf" 2>/dev/null
psqlb -c "INSERT INTO offices (code, name, level) VALUES ('B000', 'Bench office', 1)"
"$ALERTD" source add bench --office B000 --config "$tmp/alertd.conf" | awk '/^secret:/ {print $2}' >"$tmp/secret"
source_id=$(psqlb -tAc "SELECT id FROM ingest_sources WHERE name = 'bench'")

# --- phase 0: fixture ---
t=$SECONDS
units=$(( (DEVICES + 49) / 50 ))
psqlb <<SQL
BEGIN;
INSERT INTO budget_units (code, name, office_code)
SELECT (3000000 + g)::text, 'Bench unit ' || g, 'B000' FROM generate_series(0, $units - 1) g;
INSERT INTO users (dvctt_login, unit_code, full_name)
SELECT 'bench.' || g, (3000000 + (g - 1) / 50)::text, 'Bench user ' || g FROM generate_series(1, $DEVICES) g;
-- even g: android (FCM registration token, [A-Za-z0-9_:.-]); odd g: ios (APNs token, 64 hex digits)
INSERT INTO devices (user_id, platform, push_token, app_version, os_version, locale)
SELECT u.id, CASE WHEN g % 2 = 0 THEN 'android' ELSE 'ios' END::device_platform,
       CASE WHEN g % 2 = 0
            THEN 'bench' || lpad(g::text, 6, '0') || ':APA91b' || md5('f' || g) || md5('g' || g) || md5('h' || g) || md5('i' || g)
            ELSE lpad(to_hex(g), 8, '0') || substr(md5('a' || g) || md5('b' || g), 1, 56) END,
       '1.0.0', CASE WHEN g % 2 = 0 THEN 'Android 14' ELSE 'iOS 18.1' END, 'vi-VN'
  FROM generate_series(1, $DEVICES) g JOIN users u ON u.dvctt_login = 'bench.' || g;
-- device k (0-based) of the fill, with what an outbox row needs
CREATE TABLE bench_devices AS
SELECT (row_number() OVER (ORDER BY d.id) - 1)::int AS k, d.id AS device_id, d.user_id, u.unit_code,
       CASE d.platform WHEN 'ios' THEN 'apns' ELSE 'fcm' END AS provider
  FROM devices d JOIN users u ON u.id = d.user_id WHERE u.dvctt_login LIKE 'bench.%';
ALTER TABLE bench_devices ADD PRIMARY KEY (k);
CREATE INDEX ON bench_devices (user_id);
CREATE TABLE bench_due (external_id text PRIMARY KEY, due_us bigint NOT NULL);
CREATE TABLE bench_mock (alert_id bigint NOT NULL, token text NOT NULL, at_us bigint NOT NULL);
COMMIT;
ANALYZE;
SQL
{
	echo 'office_code,office_name,parent_office_code,unit_code,unit_name,unit_email,unit_phone,accounts,user_login,user_name,user_email,user_phone,roles'
	for i in $(seq "$LAT_USERS"); do
		role=accountant
		[ "$i" = 1 ] && role=account_holder
		[ "$i" = 2 ] && role=chief_accountant
		echo "B001,Bench latency office,B000,2000001,Bench latency unit,,,9523.1.1012345,bench.lat$i,Latency user $i,,,$role"
	done
} >"$tmp/roster.csv"
"$ALERTD" roster import "$tmp/roster.csv" --config "$tmp/alertd.conf" >"$tmp/roster.out" 2>&1
psqlb <<SQL
INSERT INTO devices (user_id, platform, push_token, app_version, os_version, locale)
SELECT u.id, CASE WHEN g % 2 = 1 THEN 'android' ELSE 'ios' END::device_platform,
       CASE WHEN g % 2 = 1 THEN 'benchlat' || g || ':APA91b' || md5('lat' || g) || md5('lau' || g)
            ELSE md5('lat' || g) || md5('lau' || g) END,
       '1.0.0', CASE WHEN g % 2 = 1 THEN 'Android 14' ELSE 'iOS 18.1' END, 'vi-VN'
  FROM generate_series(1, $LAT_USERS) g JOIN users u ON u.dvctt_login = 'bench.lat' || g;
SQL
say "fixture: $DEVICES devices in $units units, latency unit with $LAT_USERS users ($((SECONDS - t)) s)"

# --- phase 1: the mock's own ceiling (before alertd is there; again at the end) ---
printf '%s' '{"aps":{"alert":{"title":"Biến động số dư","body":"TK …2345: -1.500.000 VND lúc 10:15 21/11/2026. Số dư: 120.000.000 VND."},"sound":"default"},"alert_id":"123456"}' >"$tmp/apns.json"
# mock_ceiling LABEL: h2load against the APNs path with a fresh provider token; prints req/s
mock_ceiling() {
	local out="$tmp/h2load-$1.out" rps req ok
	node tests/bench/bench-push.js apns-token "$pki" >"$tmp/apns.jwt"
	h2load -D "$H2_SECONDS" --warm-up-time 1 -c "$H2_CLIENTS" -m "$H2_STREAMS" -d "$tmp/apns.json" \
		-H "authorization: bearer $(cat "$tmp/apns.jwt")" -H 'apns-topic: vn.kbnn.alertd' \
		-H 'apns-push-type: alert' -H 'apns-priority: 10' \
		"https://127.0.0.1:$mock_port/3/device/$(openssl rand -hex 32)" >"$out" 2>&1 || { cat "$out" >&2; return 1; }
	rps=$(awk '/^finished in/ {print $4}' "$out")
	req=$(awk '/^requests:/ {print $2}' "$out")
	ok=$(awk '/^status codes:/ {print $3}' "$out")
	[ -n "$rps" ] || { cat "$out" >&2; return 1; }
	say "mock ceiling ($1): h2load -c $H2_CLIENTS -m $H2_STREAMS, $H2_SECONDS s: $rps req/s ($ok of $req answered 2xx)" >&2
	[ "$ok" = "$req" ] || say "bench-push: warning: h2load got non-2xx answers; see $out" >&2
	echo "$rps"
}
mock_ctl POST /config '{"log_requests": false}' >/dev/null
ceiling1=$(mock_ceiling before)
# alertd signs its own provider token: a fresh mock state, no update limit, no request log
mock_ctl POST /reset >/dev/null
mock_ctl POST /config '{"apns_token_update_limit": false, "log_requests": false}' >/dev/null

# --- alertd (release build) ---
"$ALERTD" serve --config "$tmp/alertd.conf" 2>"$tmp/alertd.log" &
srv_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { say "bench-push: alertd did not become ready" >&2; exit 1; }
say "alertd: push.provider = $PROVIDER, workers = $WORKERS, batch_size = $BATCH, log.level = $LOG_LEVEL; RSS at start $(awk '/^VmRSS:/ {print $2}' "/proc/$srv_pid/status") kB"

# --- phase 2: fill the outbox, drain it ---
# drain N: prints "rows sent failed seconds rate fcm apns retried cpu_alertd cpu_mock cpu_pg"
# (cpu_*: clock ticks used from the rows' due time to the end of the drain)
drain() {
	local n=$1 analyze=${2:-1} first lead t_due t_commit t0 late pending deadline c0 c1 stats
	stats='ANALYZE alerts; ANALYZE push_outbox;'
	[ "$analyze" = 1 ] || stats=
	first=$(psqlb -tAc "SELECT COALESCE(max(id), 0) FROM push_outbox")
	# One transaction inserts N alerts and their N outbox rows, all due at one moment a few seconds
	# ahead (as rows released together at the end of quiet hours are). ANALYZE then gives the planner
	# the statistics a production outbox with history has (otherwise autovacuum analyzes it half-way
	# through the drain); at the due time a NOTIFY wakes the dispatcher and the clock starts.
	lead=$(awk -v n="$n" 'BEGIN { printf "%.3f", 2 + n / 8000 }')
	t_due=$(awk -v now="$(date +%s.%N)" -v l="$lead" 'BEGIN { printf "%.6f", now + l }')
	t_commit=$(psqlb -tA <<SQL
BEGIN;
WITH a AS (
	INSERT INTO alerts (user_id, unit_code, office_code, kind, lang, title, body, details)
	SELECT b.user_id, b.unit_code, 'B000', 'balance.changed', 'vi', 'Biến động số dư',
	       'TK …2345: -' || to_char(1000 + g, 'FM999G999G999') || '.000 VND lúc 10:15 21/11/2026. Số dư: 120.000.000 VND. ND: Chi lương tháng 11',
	       jsonb_build_object('account', '9523.1.1012345', 'amount', -(1000 + g) * 1000)
	  FROM generate_series(0, $n - 1) g JOIN bench_devices b ON b.k = g % $DEVICES
	RETURNING id, user_id)
INSERT INTO push_outbox (alert_id, device_id, provider, collapse_key, due_at)
SELECT a.id, b.device_id, b.provider, 'bal-9523.1.1012345', to_timestamp($t_due)
  FROM a JOIN bench_devices b ON b.user_id = a.user_id;
COMMIT;
$stats
SELECT extract(epoch FROM clock_timestamp());
SQL
)
	late=$(awk -v d="$t_due" -v c="$t_commit" 'BEGIN { print (c > d) ? 1 : 0 }')
	if [ "$late" = 1 ]; then
		say "bench-push: warning: the $n-row fill and ANALYZE ended $(awk -v d="$t_due" -v c="$t_commit" 'BEGIN { printf "%.1f", c - d }') s after the rows were due; timing from the end of ANALYZE" >&2
		t0=$t_commit
	else
		sleep "$(awk -v d="$t_due" -v now="$(date +%s.%N)" 'BEGIN { w = d - now; printf "%.3f", (w > 0) ? w : 0 }')"
		t0=$t_due
	fi
	psqlb -c 'NOTIFY alertd_outbox'
	c0=$(cpu_snapshot)
	deadline=$((SECONDS + DRAIN_TIMEOUT))
	while :; do
		pending=$(psqlb -tAc "SELECT count(*) FROM push_outbox WHERE state = 'pending' AND id > $first")
		[ "$pending" = 0 ] && break
		if [ "$SECONDS" -ge "$deadline" ]; then
			say "bench-push: $pending of $n rows still pending after ${DRAIN_TIMEOUT} s" >&2
			return 1
		fi
		sleep 0.2
	done
	c1=$(cpu_snapshot)
	echo "$(psqlb -tA -F ' ' -c "SELECT count(*), count(*) FILTER (WHERE state = 'sent'), count(*) FILTER (WHERE state = 'failed'),
		round((extract(epoch FROM max(updated_at)) - $t0)::numeric, 3),
		round((count(*) / (extract(epoch FROM max(updated_at)) - $t0))::numeric, 0),
		count(*) FILTER (WHERE provider = 'fcm' AND state = 'sent'), count(*) FILTER (WHERE provider = 'apns' AND state = 'sent'),
		count(*) FILTER (WHERE attempts > 1)
		FROM push_outbox WHERE id > $first") $(awk -v a="$c0" -v b="$c1" 'BEGIN { split(a, x, " "); split(b, y, " "); print y[1] - x[1], y[2] - x[2], y[3] - x[3] }')"
}
mock_api_count() { mock_ctl GET /stats | node -e 'const s = JSON.parse(require("fs").readFileSync(0, "utf8")); process.stdout.write(String(s.by_status.fcm[200] || 0) + " " + String(s.by_status.apns[200] || 0))'; }

small='' small_hwm=''
if [ "$SMALL_ROWS" -gt 0 ]; then
	small=$(drain "$SMALL_ROWS")
	small_hwm=$(hwm_kb)
	say "drain $SMALL_ROWS: rows sent failed seconds rate fcm apns retried cpu-ticks(alertd mock pg) = $small; VmHWM $small_hwm kB"
fi
m0=$(mock_api_count)
psqlb -tAc 'SELECT pg_stat_statements_reset()' >/dev/null
# row versions written per table during the big drain, and how many of them were heap-only (no index entry)
tuple_counts() { psqlb -tA -F ' ' -c "SELECT relname, n_tup_upd, n_tup_hot_upd, n_tup_ins, n_tup_del FROM pg_stat_user_tables WHERE relname IN ('push_outbox', 'alerts', 'devices') ORDER BY relname"; }
tuples0=$(tuple_counts)
big=$(drain "$ROWS")
big_statements=$(statements_per_row "$ROWS")
sleep 0.6 # the statistics collector's counters lag by up to half a second
tuples1=$(tuple_counts)
big_hwm=$(hwm_kb)
m1=$(mock_api_count)
say "drain $ROWS: rows sent failed seconds rate fcm apns retried cpu-ticks(alertd mock pg) = $big; VmHWM $big_hwm kB"
read -r _ big_sent big_failed big_s big_rate big_fcm big_apns big_retried cpu_a cpu_m cpu_p <<<"$big"
read -r f0 a0 <<<"$m0"
read -r f1 a1 <<<"$m1"
mock_fcm=$((f1 - f0)) mock_apns=$((a1 - a0))
# where the CPU went during the big drain (its wall time x CPUs is what there was)
cpu_line=$(awk -v a="$cpu_a" -v m="$cpu_m" -v p="$cpu_p" -v hz="$(getconf CLK_TCK)" -v wall="$big_s" -v ncpu="$(nproc)" 'BEGIN {
	printf "CPU during that drain (%d CPUs x %.1f s = %.0f CPU-s): alertd %.1f s, push mock %.1f s, PostgreSQL %.1f s", ncpu, wall, ncpu * wall, a / hz, m / hz, p / hz }')
say "$cpu_line"
say "PostgreSQL time per drained row, by statement (pg_stat_statements: planning + execution; µs/row | calls | statement):"
say "$big_statements"
say "row versions written during that drain (the fill's inserts included), per table: updates (of them heap-only), inserts, deletes:"
awk -v a="${tuples0//$'\n'/;}" -v b="${tuples1//$'\n'/;}" 'BEGIN { n = split(a, x, ";"); split(b, y, ";"); for (i = 1; i <= n; i++) { split(x[i], p, " "); split(y[i], q, " ");
	printf "  %-12s %8d (%d heap-only)  %8d  %8d\n", p[1], q[2] - p[2], q[3] - p[3], q[4] - p[4], q[5] - p[5] } }'
if [ "$PROVIDER" = live ]; then
	say "mock answered 200 to $mock_fcm FCM and $mock_apns APNs requests during the $ROWS-row drain"
fi
# the same drain on statistics that predate the burst: autovacuum analysed the outbox while it was
# quiet (VACUUM ANALYZE here), then BENCH_STALE_ROWS rows land and are sent before anything analyses them
stale='' stale_pg_us=''
if [ "$STALE_ROWS" -gt 0 ]; then
	psqlb -c 'VACUUM ANALYZE push_outbox' -c 'VACUUM ANALYZE alerts' >/dev/null
	psqlb -tAc 'SELECT pg_stat_statements_reset()' >/dev/null
	stale=$(drain "$STALE_ROWS" 0)
	stale_statements=$(statements_per_row "$STALE_ROWS")
	say "drain $STALE_ROWS without ANALYZE after the fill: rows sent failed seconds rate fcm apns retried cpu-ticks(alertd mock pg) = $stale"
	stale_pg_us=$(awk -v s="$stale" -v hz="$(getconf CLK_TCK)" 'BEGIN { split(s, x, " "); printf "%.0f", x[11] / hz * 1e6 / x[1] }')
	say "PostgreSQL time per row of that drain, by statement (µs/row | calls | statement):"
	say "$stale_statements"
	say "CPU per row (process ticks): PostgreSQL $stale_pg_us µs without ANALYZE, $(awk -v p="$cpu_p" -v n="$ROWS" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", p / hz * 1e6 / n }') µs in the analysed $ROWS-row drain; alertd $(awk -v s="$stale" -v hz="$(getconf CLK_TCK)" 'BEGIN { split(s, x, " "); printf "%.0f", x[9] / hz * 1e6 / x[1] }') µs and $(awk -v a="$cpu_a" -v n="$ROWS" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", a / hz * 1e6 / n }') µs"
fi

# --- phase 2b: the peer SDKs against the same mock, alertd idle ---
# peer_run KIND: runs bench-peers.js; prints "name ok failed seconds rate cpu_user_s cpu_sys_s mock_200
# mock_refused_streams mock_connections mock_ticks" (mock_ticks: the mock's CPU around the whole process)
# when the peer printed its figures, and fails when it failed
peer_run() {
	local kind=$1 json rc=0 c0 c1
	c0=$(bench_ticks "$mock_pid")
	json=$(node tests/bench/bench-peers.js "$kind" --pki "$pki" --url "https://127.0.0.1:$mock_port" \
		--control "http://127.0.0.1:$ctl_port" --count "$PEER_COUNT" --devices "$DEVICES" 2>"$tmp/peer-$kind.err") || rc=$?
	c1=$(bench_ticks "$mock_pid")
	[ "$rc" = 0 ] || say "bench-push: the $kind peer failed (exit $rc): $(head -c 1000 "$tmp/peer-$kind.err")" >&2
	if [ -n "$json" ]; then
		node -e 'const o = JSON.parse(process.argv[1]);
			console.log([o.peer, o.ok, o.failed, o.seconds, o.rate_per_s, o.cpu_user_s, o.cpu_sys_s, o.mock_200,
				o.mock_refused_streams, o.mock_connections, process.argv[2]].join(" "))' "$json" "$((c1 - c0))"
	fi
	return "$rc"
}
# say_peer KIND LINE: the peer's figures, CPU per push, and alertd's rate against it
say_peer() {
	awk -v kind="$1" -v p="$2" -v n="$PEER_COUNT" -v hz="$(getconf CLK_TCK)" -v stale="$stale" -v big="$big_rate" -v rows="$ROWS" '
	BEGIN {
		split(p, x, " ")
		printf "peer %s (%s): %d of %d sent, %d failed, %.2f s, %d notifications/s; mock: %d answered 200, %d refused streams, %d new connections\n", x[1], kind, x[2], n, x[3], x[4], x[5], x[8], x[9], x[10]
		printf "  CPU per push: %s %.0f µs (user + sys over its timed part), push mock %.0f µs", x[1], (x[6] + x[7]) * 1e6 / n, x[11] / hz * 1e6 / n
		if (stale != "") { split(stale, s, " "); printf "; alertd'"'"'s %d-row drain: alertd %.0f µs, push mock %.0f µs per row", s[1], s[9] / hz * 1e6 / s[1], s[10] / hz * 1e6 / s[1] }
		printf "\n"
		if (x[5] > 0) {
			printf "  alertd / this peer:"
			if (stale != "") printf " %.2f x (%d-row drain, %d/s)", s[5] / x[5], s[1], s[5]
			printf " %.2f x (%d-row drain, %d/s)\n", big / x[5], rows, big
		}
	}'
}
peer_apns='' peer_fcm='' peer_text='' peers_failed=0
if [ "$PEERS" = 1 ]; then
	peer_apns=$(peer_run apns) || peers_failed=1
	[ -z "$peer_apns" ] || peer_text+=$(say_peer apns "$peer_apns")$'\n'
	peer_fcm=$(peer_run fcm) || peers_failed=1
	[ -z "$peer_fcm" ] || peer_text+=$(say_peer fcm "$peer_fcm")$'\n'
	printf '%s' "$peer_text"
fi

# --- phase 3: event-to-push latency at a fixed event rate ---
lat='' lat_line='' backlog=0
if [ "$LAT_SECONDS" -gt 0 ]; then
	# steady state, as autovacuum leaves it: without this, the dead index entries and tuple versions the
	# drains left behind slow down the claims and the fan-out for a while (BENCH_VACUUM=0 to see it)
	if [ "$VACUUM" = 1 ]; then psqlb -c 'VACUUM ANALYZE' -c 'CHECKPOINT'; fi
	mock_ctl DELETE /requests >/dev/null
	[ "$PROVIDER" = live ] && mock_ctl POST /config '{"log_requests": true}' >/dev/null
	first=$(psqlb -tAc "SELECT COALESCE(max(id), 0) FROM push_outbox")
	lat_line=$(build/loadgen --url "http://127.0.0.1:$port" --source bench --secret-file "$tmp/secret" \
		--unit 2000001 --mode single --concurrency 64 --rate "$RATE" --duration "$LAT_SECONDS" --warmup 2 \
		--id-prefix lat --times-out "$tmp/due.tsv" 2>"$tmp/loadgen.err" | tail -n 1)
	say "loadgen: $lat_line"
	case "$lat_line" in *" non2xx=0 "*) ;; *) say "bench-push: loadgen's refusals: $(head -c 600 "$tmp/loadgen.err")" >&2 ;; esac
	backlog=$(psqlb -tAc "SELECT count(*) FROM push_outbox WHERE state = 'pending' AND id > $first")
	say "outbox rows of the latency phase still pending when loadgen stopped: $backlog"
	deadline=$((SECONDS + 120))
	until [ "$(psqlb -tAc "SELECT count(*) FROM push_outbox WHERE state = 'pending' AND id > $first")" = 0 ]; do
		[ "$SECONDS" -lt "$deadline" ] || { say "bench-push: latency-phase pushes still pending after 120 s" >&2; break; }
		sleep 0.2
	done
	mock_ctl POST /config '{"log_requests": false}' >/dev/null
	psqlb -c "\\copy bench_due FROM '$tmp/due.tsv'"
	if [ "$PROVIDER" = live ]; then
		mock_ctl GET '/requests' | node tests/bench/bench-push.js mock-times >"$tmp/mock.tsv"
		mock_ctl DELETE /requests >/dev/null
		psqlb -c "\\copy bench_mock FROM '$tmp/mock.tsv'"
	fi
	# per outbox row of the measured events: ms from the event's due time to the mock's receipt of the
	# push, to sent_at, and from the ingest transaction (alerts.created_at) to sent_at
	lat=$(psqlb -tA -F '|' <<SQL
WITH r AS (
	SELECT (m.at_us - d.due_us) / 1000.0 AS to_mock,
	       (extract(epoch FROM o.sent_at) * 1e6 - d.due_us) / 1000.0 AS to_sent,
	       extract(epoch FROM o.sent_at - a.created_at) * 1000.0 AS db_only,
	       o.state
	  FROM bench_due d
	  JOIN event_keys k ON k.source_id = $source_id AND k.external_id = d.external_id
	  JOIN alerts a ON a.event_id = k.event_id
	  JOIN push_outbox o ON o.alert_id = a.id
	  JOIN devices dv ON dv.id = o.device_id
	  LEFT JOIN (SELECT alert_id, token, min(at_us) AS at_us FROM bench_mock GROUP BY 1, 2) m
	         ON m.alert_id = o.alert_id AND m.token = dv.push_token
)
SELECT (SELECT count(*) FROM bench_due), count(*), count(*) FILTER (WHERE state = 'sent'), count(to_mock),
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY to_mock)::numeric, 1),
       round(percentile_cont(0.99) WITHIN GROUP (ORDER BY to_mock)::numeric, 1),
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY to_sent)::numeric, 1),
       round(percentile_cont(0.99) WITHIN GROUP (ORDER BY to_sent)::numeric, 1),
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY db_only)::numeric, 1),
       round(percentile_cont(0.99) WITHIN GROUP (ORDER BY db_only)::numeric, 1),
       round(max(to_sent)::numeric, 1)
  FROM r
SQL
)
fi

# --- the mock's ceiling again, alertd idle: the machine's drift during the run shows ---
ceiling2=$(mock_ceiling after)
ceiling=$(awk -v a="$ceiling1" -v b="$ceiling2" 'BEGIN { printf "%.1f", (a + b) / 2 }')

# --- the table ---
mb() { awk -v k="$1" 'BEGIN { if (k == "") print "-"; else printf "%.1f", k / 1024 }'; }
awk -v provider="$PROVIDER" -v ceiling="$ceiling" -v c1="$ceiling1" -v c2="$ceiling2" -v h2c="$H2_CLIENTS" -v h2m="$H2_STREAMS" \
	-v rows="$ROWS" -v devices="$DEVICES" -v rate="$big_rate" -v secs="$big_s" -v sent="$big_sent" \
	-v failed="$big_failed" -v retried="$big_retried" -v fcm="$big_fcm" -v apns="$big_apns" \
	-v mfcm="$mock_fcm" -v mapns="$mock_apns" -v small_rows="$SMALL_ROWS" -v small="$small" \
	-v hwm_small="$(mb "$small_hwm")" -v hwm_big="$(mb "$big_hwm")" -v lat="$lat" -v ev_rate="$RATE" \
	-v lat_users="$LAT_USERS" -v lat_line="$lat_line" -v backlog="$backlog" -v cpu_line="$cpu_line" -v workers="$WORKERS" -v batch="$BATCH" \
	-v peers="$PEERS" -v peer_count="$PEER_COUNT" -v peer_apns="$peer_apns" -v peer_fcm="$peer_fcm" -v stale="$stale" \
	-v peer_text="$peer_text" '
function num(x) { return x == "" ? "-" : x }
# peer_row WHAT LINE: a peer'"'"'s row; a peer counts (and its rate is kept in P) only when every notification went through
function peer_row(what, line, k,   x) {
	if (line == "") { printf "| peer: %s | failed: no figures | | NO |\n", what; return }
	split(line, x, " ")
	if (x[3] > 0 || x[2] != peer_count || x[8] != peer_count) {
		printf "| peer: %s (%s) | failed: %d of %d sent, %d failed, mock 200s %s | | NO |\n", what, x[1], x[2], peer_count, x[3], x[8]
		return
	}
	P[k] = x[5]; N[k] = x[1]
	printf "| peer: %s (%s) | %.0f notifications/s = %.2f x ceiling | | |\n", what, x[1], x[5], (ceiling > 0) ? x[5] / ceiling : 0
}
BEGIN {
	ratio = ceiling > 0 ? rate / ceiling : 0
	if (stale != "") split(stale, S2, " ")   # rows sent failed seconds rate ... of the BENCH_STALE_ROWS drain
	printf "\n| measurement | value | target | met |\n|---|---|---|---|\n"
	printf "| push mock ceiling (h2load, APNs, %d connections x %d streams; before / after) | %.0f req/s (%.0f / %.0f) | | |\n", h2c, h2m, ceiling, c1, c2
	if (provider == "live")
		printf "| dispatch rate, %d rows for %d devices (%s provider) | %.0f notifications/s = %.2f x ceiling | >= 0.7 x ceiling | %s |\n", rows, devices, provider, rate, ratio, (ratio >= 0.7) ? "yes" : "NO"
	else
		printf "| dispatch rate, %d rows for %d devices (%s provider: no network) | %.0f notifications/s (%.2f x ceiling, not comparable) | >= 0.7 x ceiling | n/a |\n", rows, devices, provider, rate, ratio
	if (peers == 1) {
		peer_row(sprintf("%d APNs notifications from memory, chunks of 1,000", peer_count), peer_apns, "apns")
		peer_row(sprintf("%d FCM notifications from memory, sendEach batches of 500", peer_count), peer_fcm, "fcm")
		# alertd: the drain of as many rows as the peers send, when it ran (BENCH_STALE_ROWS), else the big one
		if (stale != "") { a_rate = S2[5]; a_rows = S2[1] } else { a_rate = rate; a_rows = rows }
		best = ""
		for (k in P) if (best == "" || P[k] > P[best]) best = k
		if (best == "")
			printf "| alertd (%d-row drain) / faster peer | no peer finished | >= 1.0 x | NO |\n", a_rows
		else
			printf "| alertd (%d-row drain) / faster peer (%s) | %.0f / %.0f notifications/s = %.2f x | >= 1.0 x | %s |\n", a_rows, N[best], a_rate, P[best], a_rate / P[best], (a_rate >= P[best]) ? "yes" : "NO"
	}
	if (lat != "") {
		split(lat, L, "|")   # due, rows, sent, linked, m50, m99, s50, s99, d50, d99, smax
		if (L[4] > 0) { p50 = L[5]; p99 = L[6]; what = "event due -> mock received push" }
		else { p50 = L[7]; p99 = L[8]; what = "event due -> push_outbox.sent_at" }
		printf "| event -> push at %d events/s (%d pushes/s; %s): p50 / p99 | %s / %s ms | p99 <= 250 ms | %s |\n", ev_rate, ev_rate * lat_users, what, num(p50), num(p99), (p99 != "" && p99 <= 250) ? "yes" : "NO"
	}
	if (small_rows > 0)
		printf "| alertd peak RSS (VmHWM) after draining %d / %d rows | %s / %s MB | no growth with depth | |\n", small_rows, rows, hwm_small, hwm_big
	else
		printf "| alertd peak RSS (VmHWM) after draining %d rows | %s MB | | |\n", rows, hwm_big
	printf "\n%d-row drain: %d sent (fcm %d, apns %d), %d failed, %d retried, %.1f s from the due time to the last recorded row; workers %d, batch %d\n", rows, sent, fcm, apns, failed, retried, secs, workers, batch
	if (provider == "live") printf "mock answered 200 to %d FCM and %d APNs requests during that drain\n", mfcm, mapns
	printf "%s\n", cpu_line
	if (small != "") { split(small, S, " "); printf "%d-row drain (first, warms up): %.0f notifications/s, %d sent, %d failed\n", small_rows, S[5], S[2], S[3] }
	if (stale != "") printf "%d-row drain without ANALYZE after the fill: %.0f notifications/s = %.2f x ceiling, %d sent, %d failed\n", S2[1], S2[5], (ceiling > 0) ? S2[5] / ceiling : 0, S2[2], S2[3]
	if (peers == 1) {
		printf "peers, alertd idle, same mock (alertd'"'"'s rate includes claiming and recording each row in PostgreSQL; the peers send from memory):\n%s", peer_text
		if (peer_apns == "" || peer_fcm == "") printf "  a peer printed no figures: see the bench-push messages above\n"
	}
	if (lat != "") {
		printf "latency phase: %d events measured -> %d outbox rows (%d sent, %d linked to the mock log)\n", L[1], L[2], L[3], L[4]
		if (provider == "live") printf "  event due -> mock received push: p50 %s ms, p99 %s ms (log time has 1 ms resolution)\n", num(L[5]), num(L[6])
		printf "  event due -> push_outbox.sent_at: p50 %s ms, p99 %s ms, max %s ms\n", num(L[7]), num(L[8]), num(L[11])
		printf "  alerts.created_at -> sent_at (database only): p50 %s ms, p99 %s ms\n", num(L[9]), num(L[10])
		printf "  pending when loadgen stopped: %d rows%s\n", backlog, (backlog > ev_rate * lat_users) ? " (more than a second of pushes: the dispatcher did not keep up)" : ""
		printf "  loadgen: %s\n", lat_line
	}
}'
if [ "$peers_failed" = 1 ]; then
	say "bench-push: a peer SDK did not deliver every notification (see above): exit 1" >&2
	exit 1
fi
