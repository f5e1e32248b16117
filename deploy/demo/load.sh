#!/usr/bin/env bash
# load.sh - the demo data set of `make run` (run by deploy/run-local.sh; nothing else runs it, and
# no migration creates any of it): a clearly labelled made-up treasury for the staff dashboard,
# and a demo staff account to look at it with.
#
# usage: deploy/demo/load.sh CONFIG VAR_DIR PSQL_ARGS...
#   CONFIG     the alertd config make run wrote (var/alertd.conf)
#   VAR_DIR    make run's var/ (mode 0700): the sign-in text goes to VAR_DIR/demo-signin.txt (0600)
#   PSQL_ARGS  how to reach the database with psql (-h SOCKET_DIR -U alertd -d alertd)
#
# Loaded once, into a database without it (office D000 absent):
#   1. the roster (deploy/demo/roster.sql writes it as a roster CSV) through `alertd roster import`;
#   2. the ingest source demo-ledger through `alertd source add` (its secret kept in
#      VAR_DIR/demo-ledger.secret, for `alertd sign`);
#   3. phones, 30 days of events, alerts and pushes (deploy/demo/data.sql);
#   4. 90 days of coverage history and the targets (deploy/demo/history.sql), when migration 0014's
#      tables exist.
# On every run: the coverage refresh and today's snapshot (migration 0014's functions, when they
# exist), and the demo staff account demo.admin (central office D000, role admin): created with
# `alertd staff add`, or given a fresh temporary password with `alertd staff reset` while it still
# has a temporary one (which is shown only once, so a later run cannot show it again); a password the
# newcomer chose is left alone. Its second factor is a TOTP secret from `alertd staff demo-totp`,
# new on every run and already confirmed, so that `oathtool --totp -b SECRET` gives the codes; that
# command refuses any account outside a "[DEMO]" office, and only this script runs it.
set -euo pipefail
cd "$(dirname "$0")/../.."

conf=$1
var=$2
shift 2
psql_args=("$@")
alertd=${ALERTD:-build/alertd}
login=demo.admin
dpsql() { psql -X -q -v ON_ERROR_STOP=1 "${psql_args[@]}" "$@"; }
say() { printf 'make run: demo: %s\n' "$*"; }

if [ "$(dpsql -tAc "SELECT count(*) FROM offices WHERE code = 'D000'")" = 0 ]; then
	t=$SECONDS
	dpsql -f deploy/demo/roster.sql >"$var/demo-roster.csv"
	"$alertd" roster import "$var/demo-roster.csv" --config "$conf" >"$var/demo-roster-report.json" 2>"$var/demo-roster.log"
	if ! "$alertd" source list --config "$conf" | awk '{print $1}' | grep -qx demo-ledger; then
		(umask 077 && "$alertd" source add demo-ledger --office D000 --config "$conf" |
			awk '/^secret:/ {print $2}' >"$var/demo-ledger.secret")
	fi
	dpsql -f deploy/demo/data.sql >/dev/null
	if [ -n "$(dpsql -tAc "SELECT to_regclass('coverage_daily')")" ]; then
		dpsql -f deploy/demo/history.sql
	else
		say "note: no coverage_daily table in this build (migration 0014 not there); no history loaded"
	fi
	say "loaded the demo data set in $((SECONDS - t)) s: $(dpsql -tA -F ', ' -c "SELECT
		(SELECT count(*) FROM offices WHERE code LIKE 'D%') || ' offices',
		(SELECT count(*) FROM budget_units WHERE code LIKE '99%') || ' units',
		(SELECT count(*) FROM users WHERE dvctt_login LIKE 'demo.%') || ' users',
		(SELECT count(*) FROM devices d JOIN users u ON u.id = d.user_id WHERE u.dvctt_login LIKE 'demo.%') || ' devices',
		(SELECT count(*) FROM events WHERE unit_code LIKE '99%') || ' events',
		(SELECT count(*) FROM alerts WHERE severity = 'risk' AND unit_code LIKE '99%') || ' risk alerts'")"
else
	say "the demo data set is already loaded (since $(dpsql -tAc "SELECT to_char(created_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD') FROM offices WHERE code = 'D000'"); its times were relative to that day: rm -rf var/pg for a fresh one)"
fi

# the coverage figures as of now (the server's maintenance thread refreshes them too)
if [ "$(dpsql -tAc "SELECT count(*) FROM pg_proc WHERE proname IN ('alertd_coverage_refresh', 'alertd_coverage_snapshot')")" = 2 ]; then
	# coverage.active_days as the config sets it (make run's does not: the default, 30)
	active_days=$(awk '/^\[coverage\]/ {s = 1; next} /^\[/ {s = 0} s && $1 == "active_days" {print $3; exit}' "$conf")
	dpsql -tAc "SELECT alertd_coverage_refresh(${active_days:-30})" >/dev/null
	dpsql -tAc "SELECT alertd_coverage_snapshot((now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date)" >/dev/null
else
	say "note: alertd_coverage_refresh/alertd_coverage_snapshot are not in this build (migration 0014); coverage not computed"
fi

# the demo staff account
state=$("$alertd" staff list --config "$conf" | awk -v l="$login" '$1 == l {print $4, $5}')
password=
case $state in
'')
	password=$("$alertd" staff add "$login" --office D000 --role admin --config "$conf" | awk '/^temporary password:/ {print $3}')
	;;
'deactivated '*)
	say "warning: the demo account $login is deactivated; rm -rf var/pg for a fresh demo database" >&2
	;;
*' temporary' | 'inactive '*)
	# a temporary password is shown only once, and an account the inactivity rule disabled cannot sign in
	password=$("$alertd" staff reset "$login" --config "$conf" | awk '/^temporary password:/ {print $3}')
	;;
*)
	# a password the newcomer set: keep it (alertd staff reset demo.admin prints a new temporary one)
	;;
esac
secret=$("$alertd" staff demo-totp "$login" --config "$conf" | awk '/^totp secret:/ {print $3}')  || secret="(none: see the warning above)"
(
	umask 077
	{
		echo "    login:      $login  (demo account, central office D000: the whole demo country)"
		if [ -n "$password" ]; then
			echo "    password:   $password  (temporary: you choose your own at the first sign-in)"
		else
			echo "    password:   the one you chose at your first sign-in"
			echo "                (forgot it? build/alertd staff reset $login --config $conf)"
		fi
		echo "    TOTP code:  oathtool --totp -b $secret"
	} >"$var/demo-signin.txt"
)
