/*
 * migrate.h - ordered SQL migrations embedded in the binary.
 *
 * migrations/NNNN_name.sql are compiled into alertd (build/gen/migrations.c),
 * so a binary always knows exactly which schema it expects. Each applied
 * file is recorded in schema_migrations with the SHA-256 of its text.
 */
#ifndef ALERTD_MIGRATE_H
#define ALERTD_MIGRATE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct migration_file {
	const char *name; /* "0001_roster.sql" */
	const char *sql;
	size_t len;
};

/* Provided by the generated build/gen/migrations.c, sorted by name. */
extern const struct migration_file migration_files[];
extern const size_t migration_files_count;

enum migrate_state {
	MIGRATE_CURRENT, /* every embedded migration applied, none edited */
	MIGRATE_BEHIND,	 /* some embedded migration not applied yet */
	MIGRATE_EDITED,	 /* an applied migration's checksum differs from the embedded file */
	MIGRATE_ERROR,	 /* could not read the state (database down) */
};

/*
 * Apply every pending migration, each in its own transaction, while holding
 * a session advisory lock so concurrent migrators run one after another.
 * Refuses (returns false, writes err) when an applied file was edited.
 * *applied receives how many were applied now.
 */
bool migrate_apply(PGconn *conn, int *applied, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Compare the database with the embedded list. detail explains a non-current state. */
enum migrate_state migrate_status(PGconn *conn, char *detail, size_t detaillen);

const char *migrate_state_name(enum migrate_state st);

/* Hex SHA-256 of a migration's text into out (65 bytes). */
void migrate_checksum(const struct migration_file *m, char out[65]);

#endif
