# shellcheck shell=bash
# pgcluster.sh - sourced by run-local.sh, tests/run.sh and the benchmarks:
# a private PostgreSQL cluster in a directory, reachable only through a unix
# socket inside that directory (no TCP port is opened, so it cannot clash
# with any other PostgreSQL on the machine). PostgreSQL refuses to run as
# root, so as root the cluster runs as the `postgres` user, as pgbouncer's
# tests do; the database superuser is always `alertd`.

pg_bindir() {
	local d
	d=$(pg_config --bindir 2>/dev/null || true)
	if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
	d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
	echo "pgcluster: cannot find initdb (is the postgresql package installed?)" >&2
	return 1
}

# postgres runs from its data directory, so every path handed to it must be absolute.
pg_absdir() {
	case "$1" in
	/*) echo "$1" ;;
	*) echo "$PWD/$1" ;;
	esac
}

# Run a command as the cluster's OS user.
pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pgcluster_init DIR: create DIR/data (if absent) and DIR/run for the socket.
pgcluster_init() {
	local dir bin
	dir=$(pg_absdir "$1")
	bin=$(pg_bindir) || return 1
	mkdir -p "$dir/run"
	if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$dir"; fi
	chmod 0700 "$dir" "$dir/run"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		# trust is safe here: the only way in is the socket in a 0700 directory
		pg_as "$bin/initdb" -D "$dir/data" -U alertd --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
			cat "$dir/initdb.log" >&2
			return 1
		}
	fi
}

# pgcluster_start DIR: start the cluster unless it is already running.
pgcluster_start() {
	local dir bin
	dir=$(pg_absdir "$1")
	bin=$(pg_bindir) || return 1
	if pg_as "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then return 0; fi
	pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
		-o "-k $dir/run -c listen_addresses='' -c max_connections=200 -c fsync=on -c synchronous_commit=on" \
		start >/dev/null || {
		tail -n 20 "$dir/postgres.log" >&2
		return 1
	}
}

# pgcluster_stop DIR: fast shutdown; quiet when not running.
pgcluster_stop() {
	local dir bin
	dir=$(pg_absdir "$1")
	bin=$(pg_bindir) || return 1
	if pg_as "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		pg_as "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
	fi
}

# pgcluster_conninfo DIR DBNAME: the libpq connection string for alertd.
pgcluster_conninfo() {
	echo "host=$1/run dbname=$2 user=alertd"
}

# pgcluster_createdb DIR DBNAME: create the database if it does not exist.
pgcluster_createdb() {
	local dir=$1 db=$2
	if ! psql -X -q -h "$dir/run" -U alertd -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
		psql -X -q -h "$dir/run" -U alertd -d postgres -c "CREATE DATABASE \"$db\"" >/dev/null
	fi
}
