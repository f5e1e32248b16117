#!/usr/bin/env bash
# run-local.sh - the body of `make run`: a local PostgreSQL under var/pg,
# the alertd database migrated, and `alertd serve` in the foreground.
# Ctrl-C stops alertd and then the cluster; the next run reuses both.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/pgcluster.sh

root=$(pwd)
var="$root/var"
pg="$var/pg"
listen=${LISTEN:-127.0.0.1:8080}
conf="$var/alertd.conf"
log="$var/alertd.log"
mkdir -p "$var"
chmod 0700 "$var"
# The cluster directory must be reachable by the postgres user when we are root.
if [ "$(id -u)" -eq 0 ]; then chmod o+x "$var"; fi

pgcluster_init "$pg"
pgcluster_start "$pg"
trap 'pgcluster_stop "$pg"; echo "make run: PostgreSQL stopped"' EXIT
pgcluster_createdb "$pg" alertd

if [ ! -f "$var/secrets.key" ]; then
	build/alertd keygen "$var/secrets.key" >/dev/null
fi
if [ ! -f "$var/metrics.token" ]; then
	(umask 077 && openssl rand -hex 32 | tr -d '\n' >"$var/metrics.token")
fi
token_hash=$(sha256sum <"$var/metrics.token" | cut -d' ' -f1)
(umask 077 && cat >"$conf" <<CONF
# Written by make run (deploy/run-local.sh); regenerated on every run.
[database]
url = "$(pgcluster_conninfo "$pg" alertd)"
pool_size = 8

[http]
listen = $listen

[log]
level = info
format = json

[metrics]
token_sha256 = $token_hash

[secrets]
key_file = $var/secrets.key

[push]
# no FCM/APNs credentials locally: log what would be sent
provider = log
CONF
)

build/alertd check-config --config "$conf" >/dev/null
build/alertd migrate --config "$conf"

# A fresh database gets the sample roster, so there are units and users to try.
if [ "$(psql -X -q -tA -h "$pg/run" -U alertd -d alertd -c 'SELECT count(*) FROM budget_units')" = 0 ]; then
	build/alertd roster import deploy/sample/roster.csv --config "$conf" >/dev/null
	echo "make run: loaded the sample roster (deploy/sample/roster.csv)"
fi

# The demo data set (deploy/demo/load.sh): a made-up treasury labelled [DEMO] for the staff dashboard,
# loaded once, and the demo staff account, whose sign-in is printed below. DEMO=0 make run skips both.
demo=${DEMO:-1}
case $demo in 0 | 1) ;; *) echo "make run: DEMO must be 0 or 1 (got '$demo')" >&2; exit 2 ;; esac
rm -f "$var/demo-signin.txt"

# A fresh database gets a `dev` ingest source, scoped to the sample roster's central office 0001 (so
# every unit); its secret is kept (mode 0600) for `alertd sign`. A `dev` source made before source
# scopes existed (migration 0009) has none, and could write nothing: it gets the same scope.
sources=$(build/alertd source list --config "$conf")
if ! echo "$sources" | awk '{print $1}' | grep -qx dev; then
	(umask 077 && build/alertd source add dev --office 0001 --config "$conf" | awk '/^secret:/ {print $2}' >"$var/dev-source.secret")
	echo "make run: created ingest source 'dev' (secret in var/dev-source.secret)"
elif echo "$sources" | awk '$1 == "dev" {print $3}' | grep -qx none; then
	build/alertd source scope dev --office 0001 --config "$conf"
fi

if [ "$demo" = 1 ]; then
	deploy/demo/load.sh "$conf" "$var" -h "$pg/run" -U alertd -d alertd
fi

cat <<INFO

  alertd is starting
    URL:        http://$listen/   (try: curl -s http://$listen/healthz)
    readiness:  curl -s http://$listen/readyz
    metrics:    curl -s -H "Authorization: Bearer \$(cat var/metrics.token)" http://$listen/metrics
    ingest:     build/alertd sign --source dev --secret-file var/dev-source.secret \\
                  --url http://$listen deploy/sample/event-balance.json | sh
                (prints a signed curl command and runs it; try event-voucher.json too)
    app:        build/alertd activation-code LOGIN --config $conf   (logins: see deploy/sample/roster.csv)
    config:     $conf
    log file:   $log (also shown below)
    PostgreSQL: socket in $pg/run, data in $pg/data, log $pg/postgres.log
                psql -h $pg/run -U alertd alertd
    stop:       Ctrl-C (stops alertd, then PostgreSQL; data is kept for the next run)

INFO
if [ -f "$var/demo-signin.txt" ]; then
	cat <<INFO
  staff dashboard, with the [DEMO] data set (2 regional treasuries, 10 transaction offices, 302 units)
    URL:        http://$listen/staff/
$(cat "$var/demo-signin.txt")
                (type the 6 digits it prints; a new code every 30 s)

INFO
fi
set +e
# tee ignores Ctrl-C so that alertd's shutdown lines still reach the terminal and the log
build/alertd serve --config "$conf" 2> >(trap "" INT; exec tee -a "$log" >&2)
status=$?
set -e
# 130 = interrupted by Ctrl-C before alertd could report; alertd itself exits 0 on SIGINT.
exit $status
