/*
 * activation.c - activation codes and device registration (see activation.h).
 *
 * Every path runs inside one transaction that also writes its trace (the
 * audit entry, or for a failed redemption its count in activation_failures),
 * so an outcome is never recorded without its effect or the reverse.
 */
#include "people/activation.h"
#include "db/audit.h"
#include "db/db.h"
#include "store/devices.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool audit(PGconn *conn, const struct activation_actor *a, const char *action, const char *target,
		  const char *outcome, const char *reason)
{
	char details[96];
	struct audit_entry e = { .actor_kind = a->kind,
				 .actor_id = a->id,
				 .action = action,
				 .target = target,
				 .outcome = outcome,
				 .ip = a->ip,
				 .request_id = a->request_id,
				 .details = details };

	snprintf(details, sizeof(details), "{\"reason\":\"%s\"}", reason);
	return audit_write(conn, &e);
}

/*
 * Count a failed redemption in the aggregate row of this hour, user (NULL:
 * the login named no active user; the typed text is not kept) and client
 * address. The maintenance job turns each closed hour's row into one audit
 * row with its counts (db/retention.c), so repeated failures cost one row.
 */
static bool count_failure(PGconn *conn, const char *user_id, const struct activation_actor *a, const char *reason)
{
	const char *params[4] = { user_id, a->ip, reason, a->request_id };

	return db_run(conn,
		      "INSERT INTO activation_failures (window_start, user_id, ip, reasons, last_request_id)"
		      " VALUES (date_trunc('hour', now()), $1::bigint, $2, jsonb_build_object($3::text, 1), $4)"
		      " ON CONFLICT (window_start, user_id, ip) DO UPDATE SET attempts = activation_failures.attempts + 1,"
		      " reasons = activation_failures.reasons || jsonb_build_object($3::text,"
		      "   COALESCE((activation_failures.reasons ->> $3::text)::int, 0) + 1),"
		      " last_at = now(), last_request_id = EXCLUDED.last_request_id",
		      4, params);
}

/*
 * BEGIN, then lock the row of the active user with this login, so two
 * requests for one user (a new code, a redemption) run one after the other.
 * *found tells whether there is such a user; their id goes to user_id. With
 * scope_office (not NULL) *in_scope tells whether the user's unit is served
 * by an office of its subtree (always true without one). False on a
 * database error, with the transaction possibly open: roll it back.
 */
static bool begin_locking_user(PGconn *conn, const char *login, const char *scope_office, char user_id[24], bool *found,
			       bool *in_scope)
{
	const char *params[2] = { login, scope_office };
	PGresult *res;

	*found = *in_scope = false;
	if (!db_begin(conn))
		return false;
	res = db_exec(conn,
		      "SELECT u.id, $2::text IS NULL OR alertd_office_in_scope($2, b.office_code)"
		      " FROM users u JOIN budget_units b ON b.code = u.unit_code"
		      " WHERE u.dvctt_login = $1 AND u.active FOR UPDATE OF u",
		      2, params);
	if (!res)
		return false;
	*found = PQntuples(res) == 1;
	if (*found) {
		snprintf(user_id, 24, "%s", PQgetvalue(res, 0, 0));
		*in_scope = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	}
	PQclear(res);
	return true;
}

enum activation_result activation_issue(PGconn *conn, const unsigned char key[32], const char *login,
					const char *scope_office, long long ttl_hours, const struct activation_actor *actor,
					char code[TOKENS_CODE_LEN + 1], char expires_at[64])
{
	unsigned char h[TOKENS_HASH_BYTES];
	char hex[2 * TOKENS_HASH_BYTES + 1], ttl[24];
	enum activation_result rc = ACTIVATION_DB_ERROR;
	PGresult *res = NULL;

	tokens_new_code(code);
	tokens_code_hash(key, code, h);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(ttl, sizeof(ttl), "%lld", ttl_hours);
	char user_id[24];
	bool found, in_scope;
	if (!begin_locking_user(conn, login, scope_office, user_id, &found, &in_scope))
		goto rollback;
	if (!found || !in_scope) {
		/* the caller says the same for both; the audit row tells them apart */
		rc = audit(conn, actor, "activation.issue", login, "denied", found ? "out_of_scope" : "unknown_login") &&
				     db_commit(conn)
			     ? ACTIVATION_DENIED
			     : ACTIVATION_DB_ERROR;
		goto out;
	}
	if (actor->daily_cap > 0) {
		char cap[24];
		snprintf(cap, sizeof(cap), "%lld", actor->daily_cap);
		const char *pc[3] = { actor->kind, actor->id ? actor->id : "", cap };
		/*
		 * One actor's issues serialise on this lock (after the user row's, in
		 * every transaction: no cycle). The count is its own statement: under
		 * READ COMMITTED a statement sees what committed before it began, so
		 * counted in the locking statement a waiter would miss the codes of
		 * the requests it waited for, and racing requests could pass the cap.
		 */
		res = db_exec(conn,
			      "SELECT pg_advisory_xact_lock(hashtextextended('activation.issue:' || $1 || ':' || $2, 0))",
			      2, pc);
		if (!res)
			goto rollback;
		PQclear(res);
		res = db_exec(conn,
			      "SELECT count(*) >= $3::bigint FROM audit_log WHERE actor_kind = $1 AND actor_id = $2"
			      " AND action = 'activation.issue' AND outcome = 'ok'"
			      " AND at >= date_trunc('day', now() AT TIME ZONE 'Asia/Ho_Chi_Minh') AT TIME ZONE 'Asia/Ho_Chi_Minh'",
			      3, pc);
		if (!res || PQntuples(res) != 1)
			goto rollback;
		bool capped = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
		res = NULL;
		if (capped) {
			rc = audit(conn, actor, "activation.issue", login, "denied", "daily_cap") && db_commit(conn)
				     ? ACTIVATION_CAPPED
				     : ACTIVATION_DB_ERROR;
			goto out;
		}
	}
	const char *p2[4] = { user_id, hex, ttl, actor->id ? actor->id : actor->kind };
	res = db_exec(conn,
		      "WITH v AS (UPDATE activation_codes SET voided_at = now()"
		      " WHERE user_id = $1 AND used_at IS NULL AND voided_at IS NULL RETURNING id)"
		      " SELECT count(*) FROM v",
		      1, p2);
	if (!res)
		goto rollback;
	PQclear(res);
	res = db_exec(conn,
		      "INSERT INTO activation_codes (user_id, code_hash, expires_at, created_by)"
		      " VALUES ($1, decode($2, 'hex'), now() + make_interval(hours => $3::int), $4)"
		      " RETURNING to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
		      4, p2);
	if (!res || PQntuples(res) != 1)
		goto rollback;
	snprintf(expires_at, 64, "%s", PQgetvalue(res, 0, 0));
	if (actor->on_issued && !actor->on_issued(conn, actor->on_issued_ctx, user_id, code, expires_at))
		goto rollback;
	if (!audit(conn, actor, "activation.issue", login, "ok", "issued") || !db_commit(conn))
		goto rollback;
	rc = ACTIVATION_OK;
	goto out;
rollback:
	db_rollback(conn);
out:
	PQclear(res);
	if (rc != ACTIVATION_OK)
		sodium_memzero(code, TOKENS_CODE_LEN + 1);
	return rc;
}

/*
 * The new-device alert for the user's other active devices, in one
 * statement. In privacy mode (service-wide, or the user's unit) its push is
 * generic like every other (details.push_privacy).
 */
static int alert_other_devices(PGconn *conn, const char *user_id, const char *device_id, const char *label, bool privacy)
{
	const char *params[4] = { user_id, device_id, label, privacy ? "true" : "false" };
	PGresult *res = db_exec(
		conn,
		"WITH me AS (SELECT u.id, u.unit_code, b.office_code, COALESCE(p.lang, 'vi') AS lang, b.privacy_mode,"
		"   to_char(now() AT TIME ZONE 'Asia/Ho_Chi_Minh', 'HH24:MI DD/MM/YYYY') AS at"
		"   FROM users u JOIN budget_units b ON b.code = u.unit_code"
		"   LEFT JOIN user_preferences p ON p.user_id = u.id WHERE u.id = $1),"
		" others AS (SELECT d.id, d.platform FROM devices d"
		"   WHERE d.user_id = $1 AND d.state = 'active' AND d.id <> $2"
		"   AND (d.access_token_expires_at IS NULL OR d.access_token_expires_at > now())),"
		" a AS (INSERT INTO alerts (user_id, unit_code, office_code, kind, severity, lang, title, body, details)"
		"   SELECT me.id, me.unit_code, me.office_code, 'security.new_device', 'info', me.lang,"
		"     CASE me.lang WHEN 'en' THEN 'New device activated' ELSE 'Kích hoạt trên thiết bị mới' END,"
		"     CASE me.lang WHEN 'en' THEN format('Your account was just activated on a new device (%s) at %s."
		" If this was not you, contact your treasury office at once.', $3::text, me.at)"
		"     ELSE format('Tài khoản của bạn vừa được kích hoạt trên thiết bị mới (%s) lúc %s."
		" Nếu không phải bạn, hãy báo ngay cho Kho bạc.', $3::text, me.at) END,"
		"     jsonb_build_object('device_id', $2::bigint, 'device', $3::text,"
		"       'push_privacy', $4::boolean OR me.privacy_mode)"
		"   FROM me WHERE EXISTS (SELECT 1 FROM others) RETURNING id)"
		" INSERT INTO push_outbox (alert_id, device_id, provider, priority)"
		" SELECT a.id, o.id, CASE o.platform WHEN 'ios' THEN 'apns' ELSE 'fcm' END, 'high' FROM a, others o"
		" RETURNING device_id",
		4, params);
	int n = res ? PQntuples(res) : -1;

	PQclear(res);
	return n;
}

enum activation_result activation_redeem(PGconn *conn, const unsigned char key[32], const char *login,
					 const char *typed_code, const struct activation_device *dev,
					 long long token_ttl_days, long long token_max_lifetime_days, bool privacy_mode,
					 const struct activation_actor *actor, struct activation_outcome *out)
{
	char code[TOKENS_CODE_LEN + 1], user_id[24], code_id[24], ttl[24], device_id[24], label[200];
	unsigned char want[TOKENS_HASH_BYTES], have[TOKENS_HASH_BYTES], th[TOKENS_HASH_BYTES];
	char token_hex[2 * TOKENS_HASH_BYTES + 1];
	enum activation_result rc = ACTIVATION_DB_ERROR;
	PGresult *res = NULL;
	size_t havelen = 0;

	memset(out, 0, sizeof(*out));
	out->reason = "error";
	bool found, in_scope;
	if (!begin_locking_user(conn, login, NULL, user_id, &found, &in_scope))
		goto rollback;
	if (!found) {
		out->reason = "unknown_login";
		goto denied;
	}
	out->user_id = strtoll(user_id, NULL, 10);
	const char *p2[1] = { user_id };
	res = db_exec(conn,
		      "SELECT id, encode(code_hash, 'hex'), expires_at <= now(), failed_attempts FROM activation_codes"
		      " WHERE user_id = $1 AND used_at IS NULL AND voided_at IS NULL FOR UPDATE",
		      1, p2);
	if (!res)
		goto rollback;
	if (PQntuples(res) != 1) {
		out->reason = "no_code";
		goto denied;
	}
	snprintf(code_id, sizeof(code_id), "%s", PQgetvalue(res, 0, 0));
	if (strtol(PQgetvalue(res, 0, 3), NULL, 10) >= ACTIVATION_MAX_ATTEMPTS) {
		out->reason = "locked";
		goto denied;
	}
	if (strcmp(PQgetvalue(res, 0, 2), "t") == 0) {
		out->reason = "expired";
		goto denied;
	}
	bool match = tokens_normalize_code(typed_code, code) &&
		     sodium_hex2bin(have, sizeof(have), PQgetvalue(res, 0, 1), strlen(PQgetvalue(res, 0, 1)), NULL,
				    &havelen, NULL) == 0 &&
		     havelen == sizeof(have);
	if (match) {
		tokens_code_hash(key, code, want);
		match = sodium_memcmp(want, have, sizeof(want)) == 0;
	}
	PQclear(res);
	res = NULL;
	if (!match) {
		const char *p3[1] = { code_id };
		res = db_exec(conn,
			      "UPDATE activation_codes SET failed_attempts = failed_attempts + 1 WHERE id = $1"
			      " RETURNING failed_attempts",
			      1, p3);
		if (!res)
			goto rollback;
		out->reason = strtol(PQgetvalue(res, 0, 0), NULL, 10) >= ACTIVATION_MAX_ATTEMPTS ? "wrong_code_now_locked"
												 : "wrong_code";
		goto denied;
	}
	/* the code is right: use it up and register the device */
	const char *p4[1] = { code_id };
	res = db_exec(conn, "UPDATE activation_codes SET used_at = now() WHERE id = $1", 1, p4);
	if (!res)
		goto rollback;
	PQclear(res);
	res = NULL;
	/* the phone's token moves to this verified activation; the binding it ends is audited */
	struct store_actor by = { .kind = actor->kind, .id = actor->id, .ip = actor->ip, .request_id = actor->request_id };
	struct devices_revoke moved = {
		.push_token = dev->push_token, .platform = dev->platform, .reason = "push_token_reused", .audit = &by
	};
	struct devices_revoked revoked;
	if (dev->push_token && !devices_revoke(conn, &moved, &revoked))
		goto rollback;
	tokens_generate("at", out->access_token);
	tokens_hash(out->access_token, strlen(out->access_token), th);
	sodium_bin2hex(token_hex, sizeof(token_hex), th, sizeof(th));
	/* first_seen_at is this activation's time: the token never outlives it by more than the lifetime */
	snprintf(ttl, sizeof(ttl), "%lld",
		 token_ttl_days < token_max_lifetime_days ? token_ttl_days : token_max_lifetime_days);
	const char *p6[9] = { user_id,		dev->platform,	 dev->push_token,
			      dev->app_version, dev->os_version, dev->model,
			      dev->locale,	token_hex,	 ttl };
	res = db_exec(conn,
		      "INSERT INTO devices (user_id, platform, push_token, app_version, os_version, model, locale,"
		      " access_token_hash, access_token_expires_at)"
		      " VALUES ($1, $2::device_platform, $3, $4, $5, $6, $7, decode($8, 'hex'), now() + make_interval(days => $9::int))"
		      " RETURNING id, to_char(access_token_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
		      9, p6);
	if (!res || PQntuples(res) != 1)
		goto rollback;
	snprintf(device_id, sizeof(device_id), "%s", PQgetvalue(res, 0, 0));
	out->device_id = strtoll(device_id, NULL, 10);
	snprintf(out->expires_at, sizeof(out->expires_at), "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	res = NULL;
	snprintf(label, sizeof(label), "%s%s%s", dev->model ? dev->model : "", dev->model ? ", " : "", dev->platform);
	out->other_devices_alerted = alert_other_devices(conn, user_id, device_id, label, privacy_mode);
	if (out->other_devices_alerted < 0)
		goto rollback;
	if (out->other_devices_alerted > 0) {
		res = db_exec(conn, "SELECT pg_notify('alertd_outbox', '')", 0, NULL); /* wakes dispatchers at commit */
		if (!res)
			goto rollback;
		PQclear(res);
		res = NULL;
	}
	out->reason = "ok";
	if (!audit(conn, actor, "activation.redeem", login, "ok", "ok") || !db_commit(conn))
		goto rollback;
	rc = ACTIVATION_OK;
	goto out;
denied:
	/*
	 * Commit the denial: the attempt count and its trace must stick. A code
	 * locked just now is a credential's change of state and is audited at
	 * once; every failure is counted in its hour's aggregate row.
	 */
	if (strcmp(out->reason, "wrong_code_now_locked") == 0 &&
	    !audit(conn, actor, "activation.redeem", login, "denied", out->reason))
		goto rollback;
	if (!count_failure(conn, found ? user_id : NULL, actor, out->reason) || !db_commit(conn))
		goto rollback;
	rc = ACTIVATION_DENIED;
	goto out;
rollback:
	db_rollback(conn);
out:
	PQclear(res);
	sodium_memzero(code, sizeof(code));
	if (rc != ACTIVATION_OK)
		sodium_memzero(out->access_token, sizeof(out->access_token));
	return rc;
}
