/*
 * retention.c - the personal-data retention rules (see retention.h and
 * docs/privacy.md).
 *
 * The deleting and erasing rules are one statement each (one transaction
 * per batch). The pseudonymising rules read a batch under FOR UPDATE, make
 * the pseudonyms here (the key never reaches the database or its logs) and
 * write them back in the same transaction.
 */
#include "db/retention.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/tokens.h"
#include "db/db.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a batch's array parameters: at most batch_size pseudonyms of 36 bytes each and the ids */
#define ARRAY_LIMIT (64u * 1024 * 1024)

static const char *const rule_names[RETENTION__RULES] = {
	[RETENTION_ACTIVATION_FAILURES] = "activation_failures_audited",
	[RETENTION_OUTBOX] = "outbox_deleted",
	[RETENTION_ALERTS] = "alerts_deleted",
	[RETENTION_DEVICE_TOKENS] = "device_tokens_erased",
	[RETENTION_ACTIVATION_CODES] = "activation_codes_deleted",
	[RETENTION_USERS] = "users_pseudonymised",
	[RETENTION_AUDIT] = "audit_rows_pseudonymised",
};

const char *retention_rule_name(enum retention_rule rule)
{
	return (unsigned)rule < RETENTION__RULES ? rule_names[rule] : "unknown";
}

struct run {
	PGconn *conn;
	const unsigned char *key;
	char period[24]; /* $1 of a rule: its days or months */
	char batch[24];	 /* $2: rows per batch */
	long long batch_size;
};

/*
 * The one-statement rules: $1 the period, $2 the batch size; each returns
 * the number of rows it changed. Rows are taken oldest first and those
 * locked by another transaction are left for the next run.
 */
static const char flush_failures_sql[] =
	/* an hour is closed once the next has begun; its row becomes one audit row with the counts */
	"WITH f AS (DELETE FROM activation_failures WHERE id IN (SELECT id FROM activation_failures"
	"   WHERE window_start < date_trunc('hour', now()) ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED)"
	"   RETURNING *),"
	" a AS (INSERT INTO audit_log (actor_kind, actor_id, action, target, outcome, ip, request_id, details)"
	"   SELECT 'app', u.dvctt_login, 'activation.redeem', u.dvctt_login, 'denied', f.ip, f.last_request_id,"
	"   jsonb_build_object('reason', 'repeated_failures', 'attempts', f.attempts, 'reasons', f.reasons,"
	"     'first_at', f.first_at, 'last_at', f.last_at)"
	"   FROM f LEFT JOIN users u ON u.id = f.user_id ORDER BY f.id RETURNING 1)"
	" SELECT count(*) FROM a";

/*
 * Before an alert loses outbox rows its delivery state is kept on the alert
 * (migration 0020: read from the rows until then), computed from all its
 * rows in this statement's snapshot; only the first time, while the stored
 * one is still 'pending', so a later batch that deletes the rest of the
 * rows never overwrites it with the state of those alone.
 */
static const char outbox_sql[] =
	"WITH c AS (SELECT id, alert_id FROM push_outbox"
	"   WHERE state <> 'pending' AND updated_at < now() - make_interval(days => $1::int)"
	"   ORDER BY updated_at LIMIT $2::int FOR UPDATE SKIP LOCKED),"
	" f AS (UPDATE alerts a SET delivery_state = alertd_delivery_state(a.id, a.delivery_state)"
	"   WHERE a.id IN (SELECT alert_id FROM c) AND a.delivery_state = 'pending'"
	"   AND alertd_delivery_state(a.id, a.delivery_state) <> 'pending' RETURNING 1),"
	" d AS (DELETE FROM push_outbox WHERE id IN (SELECT id FROM c) AND state <> 'pending' RETURNING 1),"
	/* mail rows that are done, by the same period (their sealed bodies were erased when they ended) */
	" dm AS (DELETE FROM mail_outbox WHERE id IN (SELECT id FROM mail_outbox"
	"   WHERE state <> 'pending' AND updated_at < now() - make_interval(days => $1::int)"
	"   ORDER BY updated_at LIMIT $2::int FOR UPDATE SKIP LOCKED) AND state <> 'pending' RETURNING 1)"
	/* a batch is done when both deleted fewer than a batch, which the sum being below it implies */
	" SELECT (SELECT count(*) FROM d) + (SELECT count(*) FROM dm)";

/* an alert with a pending push stays until the push is done (the cascade would cancel it) */
static const char alerts_sql[] =
	"WITH d AS (DELETE FROM alerts WHERE id IN (SELECT a.id FROM alerts a"
	"   WHERE a.created_at < now() - make_interval(months => $1::int)"
	"   AND NOT EXISTS (SELECT 1 FROM push_outbox o WHERE o.alert_id = a.id AND o.state = 'pending')"
	"   ORDER BY a.created_at LIMIT $2::int FOR UPDATE OF a SKIP LOCKED)"
	"   AND NOT EXISTS (SELECT 1 FROM push_outbox o WHERE o.alert_id = alerts.id AND o.state = 'pending')"
	"   RETURNING 1)"
	" SELECT count(*) FROM d";

static const char device_tokens_sql[] =
	"WITH e AS (UPDATE devices d SET push_token = NULL WHERE d.id IN (SELECT id FROM devices"
	"   WHERE push_token IS NOT NULL AND state <> 'active'"
	"   AND state_changed_at < now() - make_interval(days => $1::int)"
	"   ORDER BY state_changed_at LIMIT $2::int FOR UPDATE SKIP LOCKED) AND d.state <> 'active' RETURNING 1)"
	" SELECT count(*) FROM e";

/* a code's life ends when it is used, voided or expires; a live code's expiry is in the future */
static const char activation_codes_sql[] =
	"WITH d AS (DELETE FROM activation_codes WHERE id IN (SELECT id FROM activation_codes"
	"   WHERE COALESCE(used_at, voided_at, expires_at) < now() - make_interval(days => $1::int)"
	"   ORDER BY id LIMIT $2::int FOR UPDATE SKIP LOCKED) RETURNING 1)"
	" SELECT count(*) FROM d";

static bool count_of(PGconn *conn, const char *sql, int nparams, const char *const *params, long long *n)
{
	PGresult *res = db_exec(conn, sql, nparams, params);
	bool ok = res && PQntuples(res) == 1 && PQnfields(res) == 1;

	*n = ok ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	return ok;
}

static bool simple_batch(struct run *r, const char *sql, int nparams, long long *n)
{
	const char *params[2] = { nparams == 1 ? r->batch : r->period, r->batch };

	return count_of(r->conn, sql, nparams, params, n);
}

/* Append one element of a text[] literal: a pseudonym (hex, safe to quote as is) or NULL. */
static void array_item(struct buf *b, const char *pseudonym)
{
	buf_printf(b, "%s%s%s%s", b->len > 1 ? "," : "", pseudonym ? "\"" : "", pseudonym ? pseudonym : "NULL",
		   pseudonym ? "\"" : "");
}

static bool is_pseudonym(const char *s)
{
	if (!s || s[0] != '~' || strlen(s) != TOKENS_PSEUDONYM_LEN)
		return false;
	for (const char *p = s + 1; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* The pseudonym of a field's value into out, or NULL when it has none or has one already. */
static const char *pseudonym_of(const struct run *r, const PGresult *res, int row, int col, char out[TOKENS_PSEUDONYM_LEN + 1])
{
	if (PQgetisnull(res, row, col) || is_pseudonym(PQgetvalue(res, row, col)))
		return NULL;
	tokens_pseudonym(r->key, PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col), out);
	return out;
}

static void array_open(struct buf *b)
{
	buf_init(b, ARRAY_LIMIT);
	buf_append(b, "{", 1);
}

static bool array_close(struct buf *b)
{
	buf_append(b, "}", 1);
	return buf_ok(b);
}

/* The most text[] parameters a pseudonymising rule writes back, besides the ids. */
#define MAX_ARRAYS 3

/*
 * A pseudonymising rule: a batch is selected under FOR UPDATE (first column
 * the id), fill() adds each row's pseudonyms (or NULL: keep) to the arrays,
 * and update_sql writes them back ($1 the ids, $2... the arrays) and
 * returns the count, all in one transaction.
 */
struct pseudonymise {
	const char *select_sql; /* $1 the period in days, $2 the batch size */
	int ncols;		/* columns select_sql returns */
	const char *update_sql;
	int narrays;
	bool audit_mode; /* set alertd.audit_pseudonymise for the guard trigger of migration 0011 */
	void (*fill)(const struct run *r, const PGresult *res, int row, struct buf arrays[MAX_ARRAYS]);
};

static bool pseudonymise_batch(struct run *r, const struct pseudonymise *p, long long *n)
{
	struct buf ids, arrays[MAX_ARRAYS];
	PGresult *res = NULL;
	bool ok = false;

	*n = 0;
	array_open(&ids);
	for (int a = 0; a < MAX_ARRAYS; a++)
		array_open(&arrays[a]);
	const char *sel[2] = { r->period, r->batch };
	if (!db_begin(r->conn) ||
	    (p->audit_mode && !db_run(r->conn, "SELECT set_config('alertd.audit_pseudonymise', 'on', true)", 0, NULL)))
		goto out;
	res = db_exec(r->conn, p->select_sql, 2, sel);
	if (!res || PQnfields(res) != p->ncols)
		goto out;
	if (PQntuples(res) == 0) {
		ok = db_commit(r->conn);
		goto out;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		buf_printf(&ids, "%s%s", i ? "," : "", PQgetvalue(res, i, 0));
		p->fill(r, res, i, arrays);
	}
	bool built = array_close(&ids);
	for (int a = 0; a < p->narrays; a++)
		built = array_close(&arrays[a]) && built;
	if (!built)
		goto out;
	const char *upd[1 + MAX_ARRAYS] = { ids.data, arrays[0].data, arrays[1].data, arrays[2].data };
	ok = count_of(r->conn, p->update_sql, 1 + p->narrays, upd, n) && db_commit(r->conn);
out:
	if (!ok)
		db_rollback(r->conn);
	PQclear(res);
	buf_free(&ids);
	for (int a = 0; a < MAX_ARRAYS; a++)
		buf_free(&arrays[a]);
	return ok;
}

enum { USER_COL_ID, USER_COL_LOGIN, USER__COLS };

/* room for "user:<id>:<login>"; a longer login takes the fallback in fill_user */
#define USER_KEY_MAX 512

static void fill_user(const struct run *r, const PGresult *res, int row, struct buf arrays[MAX_ARRAYS])
{
	char row_p[TOKENS_PSEUDONYM_LEN + 1], login_p[TOKENS_PSEUDONYM_LEN + 1], text[USER_KEY_MAX];
	const char *login = PQgetvalue(res, row, USER_COL_LOGIN);
	int len = snprintf(text, sizeof(text), "user:%s:%s", PQgetvalue(res, row, USER_COL_ID), login);

	/* a login too long for text[] still gets a row-specific pseudonym: the id, then the login's pseudonym */
	tokens_pseudonym(r->key, login, (size_t)PQgetlength(res, row, USER_COL_LOGIN), login_p);
	if (len < 0 || (size_t)len >= sizeof(text))
		len = snprintf(text, sizeof(text), "user:%s:%s", PQgetvalue(res, row, USER_COL_ID), login_p);
	tokens_pseudonym(r->key, text, len > 0 ? (size_t)len : 0, row_p);
	array_item(&arrays[0], row_p);
	array_item(&arrays[1], login_p);
	sodium_memzero(text, sizeof(text));
}

/*
 * Deactivated users past their period: the login becomes the pseudonym of
 * "user:<id>:<login>", one per row, so a person who came back under the same
 * login (a new row) and left again never collides with the first row on
 * users.dvctt_login's unique key; the name becomes the login's own pseudonym,
 * the one the audit rows about the person carry (the link to them). E-mail
 * and phone are erased, the devices lose their push token and what the
 * phone reported, preferences and activation codes are deleted. The row,
 * its roles and its device rows stay: alerts, outbox rows, device history
 * and install coverage refer to them.
 */
static const struct pseudonymise users_rule = {
	.select_sql = "SELECT id, dvctt_login FROM users WHERE NOT active AND pseudonymised_at IS NULL"
		      " AND deactivated_at < now() - make_interval(days => $1::int)"
		      " ORDER BY deactivated_at LIMIT $2::int FOR UPDATE SKIP LOCKED",
	.ncols = USER__COLS,
	.update_sql = "WITH v AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[]) AS v(id, pseudonym, login_p)),"
		      " u AS (UPDATE users x SET dvctt_login = v.pseudonym, full_name = v.login_p, email = NULL,"
		      "   phone = NULL, pseudonymised_at = now() FROM v WHERE x.id = v.id RETURNING x.id),"
		      " d AS (UPDATE devices d SET push_token = NULL, app_version = NULL, os_version = NULL,"
		      "   model = NULL, locale = NULL FROM u WHERE d.user_id = u.id RETURNING 1),"
		      " p AS (DELETE FROM user_preferences p USING u WHERE p.user_id = u.id RETURNING 1),"
		      " c AS (DELETE FROM activation_codes c USING u WHERE c.user_id = u.id RETURNING 1)"
		      " SELECT count(*) FROM u",
	.narrays = 2,
	.fill = fill_user,
};

/* Actors that are people (an app user or device, a staff member, an operator at the CLI). */
static bool actor_is_person(const char *kind)
{
	return strcmp(kind, "app") == 0 || strcmp(kind, "staff") == 0 || strcmp(kind, "cli") == 0;
}

/* Actions whose target names a person or their device (a login, "device 42"). */
static bool target_is_person(const char *action)
{
	return strncmp(action, "activation.", 11) == 0 || strncmp(action, "device.", 7) == 0;
}

enum { AUDIT_COL_ID, AUDIT_COL_KIND, AUDIT_COL_ACTOR, AUDIT_COL_ACTION, AUDIT_COL_TARGET, AUDIT_COL_IP, AUDIT__COLS };

static void fill_audit(const struct run *r, const PGresult *res, int row, struct buf arrays[MAX_ARRAYS])
{
	char pa[TOKENS_PSEUDONYM_LEN + 1], pt[TOKENS_PSEUDONYM_LEN + 1], pi[TOKENS_PSEUDONYM_LEN + 1];

	array_item(&arrays[0], actor_is_person(PQgetvalue(res, row, AUDIT_COL_KIND))
				       ? pseudonym_of(r, res, row, AUDIT_COL_ACTOR, pa)
				       : NULL);
	array_item(&arrays[1], target_is_person(PQgetvalue(res, row, AUDIT_COL_ACTION))
				       ? pseudonym_of(r, res, row, AUDIT_COL_TARGET, pt)
				       : NULL);
	array_item(&arrays[2], pseudonym_of(r, res, row, AUDIT_COL_IP, pi));
}

/*
 * Audit rows past their period: the personal fields become pseudonyms,
 * once per row (pseudonymised_at); the rest of the row is untouched, and
 * the guard trigger of migration 0011 refuses anything else. NULL in an
 * array: the field keeps its value (empty, not personal, or a pseudonym
 * already).
 */
static const struct pseudonymise audit_rule = {
	.select_sql = "SELECT id, actor_kind, actor_id, action, target, ip FROM audit_log"
		      " WHERE pseudonymised_at IS NULL AND at < now() - make_interval(days => $1::int)"
		      " ORDER BY at LIMIT $2::int FOR UPDATE SKIP LOCKED",
	.ncols = AUDIT__COLS,
	.update_sql = "WITH u AS (UPDATE audit_log a SET actor_id = COALESCE(v.actor_id, a.actor_id),"
		      "   target = COALESCE(v.target, a.target), ip = COALESCE(v.ip, a.ip), pseudonymised_at = now()"
		      "   FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS v(id, actor_id, target, ip)"
		      "   WHERE a.id = v.id RETURNING 1)"
		      " SELECT count(*) FROM u",
	.narrays = 3,
	.audit_mode = true,
	.fill = fill_audit,
};

/* One rule: batches until one changes fewer rows than a batch, or max_batches_per_run ran. */
static bool apply_rule(struct run *r, const struct config *cfg, enum retention_rule rule, long long *total)
{
	for (long long b = 0; b < cfg->retention_max_batches_per_run; b++) {
		long long n = 0;
		bool ok;
		switch (rule) {
		case RETENTION_ACTIVATION_FAILURES:
			ok = simple_batch(r, flush_failures_sql, 1, &n);
			break;
		case RETENTION_OUTBOX:
			ok = simple_batch(r, outbox_sql, 2, &n);
			break;
		case RETENTION_ALERTS:
			ok = simple_batch(r, alerts_sql, 2, &n);
			break;
		case RETENTION_DEVICE_TOKENS:
			ok = simple_batch(r, device_tokens_sql, 2, &n);
			break;
		case RETENTION_ACTIVATION_CODES:
			ok = simple_batch(r, activation_codes_sql, 2, &n);
			break;
		case RETENTION_USERS:
			ok = pseudonymise_batch(r, &users_rule, &n);
			break;
		case RETENTION_AUDIT:
			ok = pseudonymise_batch(r, &audit_rule, &n);
			break;
		default:
			ok = false;
		}
		if (!ok)
			return false;
		*total += n;
		if (n < r->batch_size)
			break;
	}
	return true;
}

/* The period option of a rule; 0 turns it off; the failure flush has none and always runs. */
static long long period_of(const struct config *cfg, enum retention_rule rule)
{
	switch (rule) {
	case RETENTION_OUTBOX:
		return cfg->retention_outbox_days;
	case RETENTION_ALERTS:
		return cfg->retention_alerts_months;
	case RETENTION_DEVICE_TOKENS:
		return cfg->retention_device_token_days;
	case RETENTION_ACTIVATION_CODES:
		return cfg->retention_activation_code_days;
	case RETENTION_USERS:
		return cfg->retention_deactivated_user_days;
	case RETENTION_AUDIT:
		return cfg->retention_audit_personal_days;
	default:
		return 1;
	}
}

bool retention_run(PGconn *conn, const struct config *cfg, const unsigned char *key, struct retention_counts *out,
		   char *err, size_t errlen)
{
	unsigned char run_key[32];
	struct run r = { .conn = conn, .key = key, .batch_size = cfg->retention_batch_size };
	bool ok = true;

	memset(out, 0, sizeof(*out));
	if (!key) {
		randombytes_buf(run_key, sizeof(run_key));
		r.key = run_key;
	}
	snprintf(r.batch, sizeof(r.batch), "%lld", cfg->retention_batch_size);
	/* a failing rule is logged and counted, and the rules after it still run (its batch is rolled back) */
	for (int rule = 0; rule < RETENTION__RULES; rule++) {
		long long period = period_of(cfg, (enum retention_rule)rule);
		if (period <= 0)
			continue;
		snprintf(r.period, sizeof(r.period), "%lld", period);
		if (apply_rule(&r, cfg, (enum retention_rule)rule, &out->rows[rule]))
			continue;
		char why[256];
		snprintf(why, sizeof(why), "%s", PQerrorMessage(conn));
		why[strcspn(why, "\n")] = '\0';
		out->failed[rule] = true;
		out->failures++;
		LOG_FIELDS(LOG_ERROR, "retention rule failed", LOG_S("rule", rule_names[rule]), LOG_S("error", why));
		if (ok)
			snprintf(err, errlen, "retention (%s) failed: %s", rule_names[rule], why);
		ok = false;
	}
	if (out->failures > 1) {
		size_t used = strlen(err);
		if (used < errlen)
			snprintf(err + used, errlen - used, " (and %d more failed rules; see the log)", out->failures - 1);
	}
	if (!key && (out->rows[RETENTION_USERS] > 0 || out->rows[RETENTION_AUDIT] > 0))
		log_warn("retention: secrets.key_file is not set, so this run's pseudonyms were made with a random key"
			 " and do not correlate with earlier or later ones");
	sodium_memzero(run_key, sizeof(run_key));
	return ok;
}
