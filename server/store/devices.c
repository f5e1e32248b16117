/*
 * devices.c - the devices store (see devices.h). The revoke statement here
 * is the only one in alertd: activation, the app's logout and device
 * delete, the heartbeat's push-token move and the roster all call
 * devices_revoke().
 */
#include "store/devices.h"
#include "core/log.h"
#include "db/audit.h"
#include "db/db.h"

#include <stdio.h>
#include <string.h>

/* A device row in devices_col order. */
#define DEVICE_COLUMNS                                                                               \
	"d.id, d.platform, d.app_version, d.os_version, d.model, d.locale, d.state, d.state_reason," \
	" to_char(d.first_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"            \
	" to_char(d.last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"             \
	" to_char(d.access_token_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), d.push_token IS NOT NULL"

enum auth_col { AUTH_COL_DEVICE, AUTH_COL_USER, AUTH_COL_LIFETIME_OVER, AUTH_COL_EXPIRED, AUTH_COL__COUNT };

bool devices_authenticate(PGconn *conn, const char *token_hash_hex, long long max_lifetime_days,
			  enum devices_auth *result, long long *device_id, long long *user_id)
{
	char days[STORE_ID_TEXT];
	const char *params[2] = { token_hash_hex, store_id(days, max_lifetime_days) };
	PGresult *res = store_query(conn, "devices_authenticate",
				    "SELECT d.id, d.user_id, d.first_seen_at + make_interval(days => $2::int) <= now(),"
				    " d.access_token_expires_at <= now()"
				    " FROM devices d JOIN users u ON u.id = d.user_id"
				    " WHERE d.access_token_hash = decode($1, 'hex') AND d.state IN ('active', 'token_invalid')"
				    " AND u.active",
				    2, params, AUTH_COL__COUNT);

	if (!res)
		return false;
	*result = DEVICES_AUTH_NONE;
	if (PQntuples(res) == 1) {
		if (store_bool(res, 0, AUTH_COL_LIFETIME_OVER)) {
			*result = DEVICES_AUTH_LIFETIME_OVER;
		} else if (!store_bool(res, 0, AUTH_COL_EXPIRED)) {
			*result = DEVICES_AUTH_OK;
			*device_id = store_int(res, 0, AUTH_COL_DEVICE);
			*user_id = store_int(res, 0, AUTH_COL_USER);
		}
	}
	PQclear(res);
	return true;
}

bool devices_list(PGconn *conn, long long user_id, PGresult **out)
{
	char uid[STORE_ID_TEXT];
	const char *params[1] = { store_id(uid, user_id) };

	*out = store_query(conn, "devices_list",
			   "SELECT " DEVICE_COLUMNS " FROM devices d WHERE d.user_id = $1 ORDER BY d.id DESC LIMIT 100",
			   1, params, DEVICES_COL__COUNT);
	return *out != NULL;
}

/*
 * Every criterion is a parameter that is NULL when not given, so one text
 * serves every caller; PQexecParams plans the unnamed statement with the
 * values, so the criteria not given cost nothing. The UPDATE re-checks the
 * state of the row it locks, so a device revoked concurrently is neither
 * revoked nor audited twice.
 */
static const char revoke_sql[] =
	"WITH d AS (SELECT x.id FROM devices x"
	"   WHERE ($1::bigint IS NULL OR x.id = $1::bigint)"
	"   AND ($2::bigint IS NULL OR x.user_id = $2::bigint)"
	"   AND ($3::bigint[] IS NULL OR x.user_id = ANY($3::bigint[]))"
	"   AND ($4::text IS NULL OR (x.push_token = $4::text AND x.state = 'active'"
	"     AND ($5::device_platform IS NULL OR x.platform = $5::device_platform)"
	"     AND ($6::bigint IS NULL OR (x.id <> $6::bigint"
	"       AND x.platform = (SELECT t.platform FROM devices t WHERE t.id = $6::bigint))))))"
	" , u AS (UPDATE devices x SET state = 'revoked', state_reason = $7::text,"
	"   access_token_hash = NULL, access_token_expires_at = NULL"
	"   FROM d WHERE x.id = d.id AND x.state <> 'revoked' AND ($4::text IS NULL OR x.state = 'active')"
	"   RETURNING x.id)"
	" , a AS (INSERT INTO audit_log (actor_kind, actor_id, action, target, outcome, ip, request_id, details)"
	"   SELECT $8::text, $9::text, 'device.revoke', 'device ' || u.id, 'ok', $10::text, $11::text,"
	"   jsonb_build_object('reason', $7::text) FROM u WHERE $8::text IS NOT NULL RETURNING id)"
	" SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM u)";

enum revoke_col { REVOKE_COL_MATCHED, REVOKE_COL_REVOKED, REVOKE_COL__COUNT };

bool devices_revoke(PGconn *conn, const struct devices_revoke *what, struct devices_revoked *out)
{
	char did[STORE_ID_TEXT], uid[STORE_ID_TEXT], taker[STORE_ID_TEXT];
	const struct store_actor *a = what->audit;
	PGresult *res = NULL;

	memset(out, 0, sizeof(*out));
	/*
	 * A device id alone would reach any user's device: every caller that
	 * names a device also names whose it must be, so a missing user scope is
	 * refused here rather than read as "any user".
	 */
	if ((what->device_id <= 0 && !what->user_ids && !what->push_token) || !what->reason ||
	    (what->device_id > 0 && what->user_id <= 0) || (!what->push_token && (what->platform || what->token_taker > 0))) {
		log_error("devices_revoke: the criteria select no devices, every device or a device of any user "
			  "(a programming error)");
		goto fail;
	}
	const char *params[11] = { store_id(did, what->device_id),
				   store_id(uid, what->user_id),
				   what->user_ids,
				   what->push_token,
				   what->platform,
				   store_id(taker, what->token_taker),
				   what->reason,
				   a ? a->kind : NULL,
				   a ? a->id : NULL,
				   a ? a->ip : NULL,
				   a ? a->request_id : NULL };
	res = store_query(conn, "devices_revoke", revoke_sql, 11, params, REVOKE_COL__COUNT);
	if (!res || PQntuples(res) != 1)
		goto fail;
	out->matched = store_int(res, 0, REVOKE_COL_MATCHED);
	out->revoked = store_int(res, 0, REVOKE_COL_REVOKED);
	PQclear(res);
	return true;
fail:
	PQclear(res);
	return false;
}

/* Is push_token held by an active device of another user on the same platform as device_id? */
static bool token_taken_by_other_user(PGconn *conn, const char *device_id, const char *push_token, bool *taken)
{
	const char *params[2] = { device_id, push_token };
	long long n = 0;

	if (!store_count(conn, "devices_heartbeat token check",
			 "SELECT count(*) FROM devices o JOIN devices me ON me.id = $1"
			 " WHERE o.id <> me.id AND o.platform = me.platform"
			 " AND o.push_token = $2 AND o.state = 'active' AND o.user_id <> me.user_id",
			 2, params, &n))
		return false;
	*taken = n != 0;
	return true;
}

bool devices_heartbeat(PGconn *conn, const struct devices_heartbeat *hb, bool *conflict, PGresult **out)
{
	char id[STORE_ID_TEXT], ttl[STORE_ID_TEXT], lifetime[STORE_ID_TEXT];
	bool taken = false;
	struct devices_revoked moved;

	*conflict = false;
	*out = NULL;
	snprintf(ttl, sizeof(ttl), "%lld", hb->token_ttl_days);
	snprintf(lifetime, sizeof(lifetime), "%lld", hb->token_max_lifetime_days);
	const char *params[8] = { store_id(id, hb->device_id),
				  hb->push_token,
				  hb->app_version,
				  hb->os_version,
				  hb->locale,
				  ttl,
				  hb->model,
				  lifetime };
	if (!db_begin(conn))
		goto fail;
	/*
	 * A push token belongs to one device. A heartbeat may move it only
	 * between the caller's own devices: taking it from another user's phone
	 * would silence that person's alerts, so that needs an activation code.
	 */
	if (hb->push_token && !token_taken_by_other_user(conn, params[0], hb->push_token, &taken))
		goto fail;
	if (taken) {
		struct audit_entry e = { .actor_kind = hb->actor->kind,
					 .actor_id = hb->actor->id,
					 .action = "device.push_token_conflict",
					 .outcome = "denied",
					 .ip = hb->actor->ip,
					 .request_id = hb->actor->request_id };
		if (!audit_write(conn, &e) || !db_commit(conn))
			goto fail;
		*conflict = true;
		return true;
	}
	if (hb->push_token) {
		struct devices_revoke r = { .user_id = hb->user_id,
					    .push_token = hb->push_token,
					    .token_taker = hb->device_id,
					    .reason = "push_token_reused" };
		if (!devices_revoke(conn, &r, &moved))
			goto fail;
	}
	/* what the phone reports, last_seen and the token's expiry, never past the activation's lifetime */
	*out = store_query(
		conn, "devices_heartbeat",
		"UPDATE devices d SET push_token = COALESCE($2, d.push_token), app_version = COALESCE($3, d.app_version),"
		" os_version = COALESCE($4, d.os_version), locale = COALESCE($5, d.locale),"
		" model = COALESCE($7, d.model), last_seen_at = now(),"
		" access_token_expires_at = LEAST(now() + make_interval(days => $6::int),"
		"   d.first_seen_at + make_interval(days => $8::int)),"
		/* a phone whose push token the provider rejected is back once it reports a new one */
		" state = CASE WHEN d.state = 'token_invalid' AND $2::text IS DISTINCT FROM d.push_token AND $2::text IS NOT NULL"
		"   THEN 'active' ELSE d.state END,"
		" state_reason = CASE WHEN d.state = 'token_invalid' AND $2::text IS DISTINCT FROM d.push_token AND $2::text IS NOT NULL"
		"   THEN 'new_push_token' ELSE d.state_reason END,"
		" state_changed_at = CASE WHEN d.state = 'token_invalid' AND $2::text IS DISTINCT FROM d.push_token"
		"   AND $2::text IS NOT NULL THEN now() ELSE d.state_changed_at END"
		" WHERE d.id = $1 AND d.state IN ('active', 'token_invalid') RETURNING " DEVICE_COLUMNS,
		8, params, DEVICES_COL__COUNT);
	if (!*out || PQntuples(*out) != 1 || !db_commit(conn))
		goto fail;
	return true;
fail:
	db_rollback(conn);
	PQclear(*out);
	*out = NULL;
	return false;
}
