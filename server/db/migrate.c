/*
 * migrate.c - apply embedded migrations and report schema state.
 *
 * The advisory lock is taken before schema_migrations is even created, so
 * two instances starting on an empty database cannot race on it.
 */
#include "db/migrate.h"
#include "db/db.h"
#include "core/log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "alertd" in ASCII, namespaced so it cannot collide with other advisory lock users. */
#define MIGRATE_LOCK_KEY "107356483593316"

static const char *create_table_sql = "CREATE TABLE IF NOT EXISTS schema_migrations ("
				      " version integer PRIMARY KEY,"
				      " name text NOT NULL,"
				      " checksum text NOT NULL,"
				      " applied_at timestamptz NOT NULL DEFAULT now())";

void migrate_checksum(const struct migration_file *m, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)m->sql, m->len);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

static int version_of(const struct migration_file *m)
{
	int v = 0;

	for (int i = 0; i < 4 && m->name[i] >= '0' && m->name[i] <= '9'; i++)
		v = v * 10 + (m->name[i] - '0');
	return v;
}

static bool exec_simple(PGconn *conn, const char *sql, char *err, size_t errlen)
{
	PGresult *res = PQexec(conn, sql);
	/* A file may end with a SELECT (calling a function), which yields tuples. */
	bool ok = res && (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK);

	if (!ok) {
		const char *msg = res ? PQresultErrorMessage(res) : "";
		snprintf(err, errlen, "%s", msg[0] ? msg : PQerrorMessage(conn));
		err[strcspn(err, "\n")] = '\0';
	}
	PQclear(res);
	return ok;
}

/* The columns of read_applied()'s rows. */
enum applied_column { APPLIED_VERSION, APPLIED_CHECKSUM, APPLIED__COLUMNS };

/* Find an applied row for version v: returns its checksum or NULL. */
static const char *applied_checksum(PGresult *rows, int v)
{
	for (int r = 0; r < PQntuples(rows); r++)
		if (strtol(PQgetvalue(rows, r, APPLIED_VERSION), NULL, 10) == v)
			return PQgetvalue(rows, r, APPLIED_CHECKSUM);
	return NULL;
}

/* Checks every applied migration against its embedded text. */
static bool verify_applied(PGresult *rows, char *err, size_t errlen)
{
	char sum[65];

	for (size_t i = 0; i < migration_files_count; i++) {
		const char *have = applied_checksum(rows, version_of(&migration_files[i]));
		if (!have)
			continue;
		migrate_checksum(&migration_files[i], sum);
		if (strcmp(have, sum) != 0) {
			snprintf(err, errlen,
				 "migration %s was edited after it was applied (checksum %.12s… in the database, %.12s… in this build)",
				 migration_files[i].name, have, sum);
			return false;
		}
	}
	return true;
}

/* The applied migrations, APPLIED__COLUMNS columns a row; NULL (logged) on error. The caller PQclear()s. */
static PGresult *read_applied(PGconn *conn)
{
	PGresult *res = db_exec(conn, "SELECT version, checksum FROM schema_migrations ORDER BY version", 0, NULL);

	if (res && PQnfields(res) != APPLIED__COLUMNS) {
		log_error("migrate: schema_migrations read %d columns, expected %d", PQnfields(res), APPLIED__COLUMNS);
		PQclear(res);
		return NULL;
	}
	return res;
}

static bool apply_one(PGconn *conn, const struct migration_file *m, char *err, size_t errlen)
{
	char sum[65], version[16], inner[400];
	const char *params[3];
	PGresult *res;

	migrate_checksum(m, sum);
	snprintf(version, sizeof(version), "%d", version_of(m));
	if (!db_begin(conn)) {
		snprintf(inner, sizeof(inner), "cannot start a transaction (see log)");
		goto fail;
	}
	/* The file runs through the simple query protocol: several statements, no parameters. */
	if (!exec_simple(conn, m->sql, inner, sizeof(inner)))
		goto rollback;
	params[0] = version;
	params[1] = m->name;
	params[2] = sum;
	res = db_exec(conn, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", 3, params);
	if (!res) {
		snprintf(inner, sizeof(inner), "could not record it in schema_migrations");
		goto rollback;
	}
	PQclear(res);
	if (!db_commit(conn)) {
		snprintf(inner, sizeof(inner), "it did not commit (see log)");
		goto rollback;
	}
	return true;
rollback:
	db_rollback(conn);
fail:
	snprintf(err, errlen, "migration %s failed: %s", m->name, inner);
	return false;
}

bool migrate_apply(PGconn *conn, int *applied, char *err, size_t errlen)
{
	PGresult *rows = NULL, *res;
	bool locked = false, ok = false;

	*applied = 0;
	res = PQexec(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")");
	locked = res && PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	if (!locked) {
		snprintf(err, errlen, "could not take the migration lock: %s", PQerrorMessage(conn));
		err[strcspn(err, "\n")] = '\0';
		goto out;
	}
	if (!exec_simple(conn, create_table_sql, err, errlen))
		goto out;
	rows = read_applied(conn);
	if (!rows) {
		snprintf(err, errlen, "could not read schema_migrations");
		goto out;
	}
	if (!verify_applied(rows, err, errlen))
		goto out;
	for (size_t i = 0; i < migration_files_count; i++) {
		const struct migration_file *m = &migration_files[i];
		if (applied_checksum(rows, version_of(m)))
			continue;
		if (!apply_one(conn, m, err, errlen))
			goto out;
		LOG_FIELDS(LOG_INFO, "migration applied", LOG_S("migration", m->name));
		(*applied)++;
	}
	ok = true;
out:
	PQclear(rows);
	if (locked)
		PQclear(PQexec(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
	return ok;
}

enum migrate_state migrate_status(PGconn *conn, char *detail, size_t detaillen)
{
	PGresult *rows;
	enum migrate_state st = MIGRATE_CURRENT;

	detail[0] = '\0';
	rows = PQexec(conn, "SELECT version, checksum FROM schema_migrations ORDER BY version");
	if (!rows || PQresultStatus(rows) != PGRES_TUPLES_OK) {
		const char *state = rows ? PQresultErrorField(rows, PG_DIAG_SQLSTATE) : NULL;
		bool missing = state && strcmp(state, "42P01") == 0; /* undefined_table */
		snprintf(detail, detaillen, "%s",
			 missing ? "the database has never been migrated" : "could not read schema_migrations");
		PQclear(rows);
		return missing ? MIGRATE_BEHIND : MIGRATE_ERROR;
	}
	if (!verify_applied(rows, detail, detaillen)) {
		st = MIGRATE_EDITED;
		goto out;
	}
	for (size_t i = 0; i < migration_files_count; i++) {
		if (!applied_checksum(rows, version_of(&migration_files[i]))) {
			snprintf(detail, detaillen, "migration %s is not applied; run alertd migrate",
				 migration_files[i].name);
			st = MIGRATE_BEHIND;
			break;
		}
	}
out:
	PQclear(rows);
	return st;
}

const char *migrate_state_name(enum migrate_state st)
{
	static const char *const names[] = {
		[MIGRATE_CURRENT] = "current", [MIGRATE_BEHIND] = "behind", [MIGRATE_EDITED] = "edited", [MIGRATE_ERROR] = "error"
	};

	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "error";
}
