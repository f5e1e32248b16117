/*
 * session.c - staff sign-in, sessions, password change and TOTP enrolment
 * (see session.h).
 *
 * A sign-in locks the account's row (SELECT ... FOR UPDATE) for the whole
 * check, so concurrent attempts count their failures one after another
 * and a TOTP time step is spent once. The password is verified before
 * anything else is looked at, and an unknown login verifies against a
 * dummy hash, so all refusals cost the same Argon2id work. A wrong current
 * password at the change counts toward the same lockout, and the lock it
 * reaches ends every session of the account. A session that gains access
 * (temporary or expired password replaced, TOTP confirmed) is renewed: new
 * token, new CSRF token, the old one revoked.
 */
#include "staff/session.h"
#include "core/config.h"
#include "db/audit.h"
#include "core/tokens.h"
#include "db/db.h"
#include "staff/accounts.h"
#include "staff/password.h"
#include "store/store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A new token's text and the hex of its SHA-256. */
static void new_token(char text[STAFF_TOKEN_TEXT], char hex[65], unsigned char raw_hash[32])
{
	unsigned char raw[32], h[32];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(text, STAFF_TOKEN_TEXT, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
	if (hex)
		sodium_bin2hex(hex, 65, h, sizeof(h));
	if (raw_hash)
		memcpy(raw_hash, h, sizeof(h));
	sodium_memzero(raw, sizeof(raw));
}

static bool audit(PGconn *conn, const char *actor, const char *action, const char *target, const char *outcome,
		  const struct staff_request *rq, const char *details)
{
	struct audit_entry e = { .actor_kind = "staff",
				 .actor_id = actor,
				 .action = action,
				 .target = target,
				 .outcome = outcome,
				 .ip = rq->ip,
				 .request_id = rq->request_id,
				 .details = details };
	return audit_write(conn, &e);
}

/* End every open session of account id: it is locked. */
static bool end_sessions_locked(PGconn *conn, const char *id)
{
	const char *p[1] = { id };

	return db_run(conn,
		      "UPDATE staff_sessions SET revoked_at = now(), ended_reason = 'locked'"
		      " WHERE staff_id = $1 AND revoked_at IS NULL",
		      1, p);
}

/*
 * One more failure of account id (a wrong password or code at sign-in, a
 * wrong current password at the change): the one that reaches
 * auth.lockout_failures locks the account and starts the count again;
 * *locked says whether this one did. With end_sessions the lock also ends
 * every session of the account.
 */
static bool count_failure(PGconn *conn, const struct config *cfg, const char *id, bool end_sessions, bool *locked)
{
	char max[STORE_ID_TEXT], secs[STORE_ID_TEXT];
	long long n = 0;

	snprintf(max, sizeof(max), "%lld", cfg->auth_lockout_failures);
	snprintf(secs, sizeof(secs), "%lld", cfg->auth_lockout_seconds);
	const char *p[3] = { id, max, secs };
	*locked = false;
	if (!store_count(conn, "staff failure",
			 "WITH u AS (UPDATE staff SET"
			 " locked_until = CASE WHEN failed_logins + 1 >= $2::int"
			 " THEN now() + make_interval(secs => $3::int) END,"
			 " failed_logins = CASE WHEN failed_logins + 1 >= $2::int THEN 0 ELSE failed_logins + 1 END"
			 " WHERE id = $1 RETURNING locked_until IS NOT NULL AS locked)"
			 " SELECT count(*) FROM u WHERE locked",
			 3, p, &n))
		return false;
	*locked = n > 0;
	if (*locked && end_sessions && !end_sessions_locked(conn, id))
		return false;
	return true;
}

/*
 * Renew who's session when it gains access (inside the caller's
 * transaction): the old token is revoked ('renewed') and a new token and
 * CSRF token take its place, with the same absolute expiry. out->who is
 * who with the new session; the caller updates what changed.
 */
static bool renew(PGconn *conn, const struct staff_principal *who, const struct staff_request *rq,
		  struct staff_new_session *out)
{
	char id[STORE_ID_TEXT], hex[65], csrf_hex[65];
	unsigned char csrf_hash[32];
	long long n = 0;

	store_id(id, who->staff_id);
	new_token(out->token, hex, NULL);
	new_token(out->csrf, csrf_hex, csrf_hash);
	const char *p[6] = { id, who->session_hash, hex, csrf_hex, rq->ip, rq->user_agent };
	if (!store_count(conn, "staff session renew",
			 "WITH old AS (UPDATE staff_sessions SET revoked_at = now(), ended_reason = 'renewed'"
			 " WHERE token_hash = decode($2, 'hex') AND staff_id = $1 AND revoked_at IS NULL RETURNING expires_at),"
			 " n AS (INSERT INTO staff_sessions (token_hash, staff_id, expires_at, ip, user_agent, csrf_hash)"
			 " SELECT decode($3, 'hex'), $1, old.expires_at, $5, left($6, 512), decode($4, 'hex') FROM old"
			 " RETURNING 1) SELECT count(*) FROM n",
			 6, p, &n) ||
	    n != 1) {
		sodium_memzero(out, sizeof(*out));
		return false;
	}
	out->who = *who;
	snprintf(out->who.session_hash, sizeof(out->who.session_hash), "%s", hex);
	memcpy(out->who.csrf_hash, csrf_hash, sizeof(csrf_hash));
	return true;
}

enum signin_col {
	S_ID,
	S_HASH,
	S_ACTIVE,
	S_LOCKED,
	S_TEMPORARY,
	S_EXPIRED,
	S_TOTP,
	S_OFFICE,
	S_ROLE,
	S_TEMP_EXPIRED,
	S_APPROVER,
	S__COUNT
};

/* Open the sealed TOTP secret in columns 0 (ciphertext) and 1 (nonce), as hex, of res's first row. */
static bool open_secret(const PGresult *res, const struct secrets_kek *kek, unsigned char secret[64], size_t *slen)
{
	unsigned char ct[128], nonce[SECRETS_NONCE_BYTES];
	size_t ctlen = 0, nlen = 0;
	const char *c = PQgetvalue(res, 0, 0), *n = PQgetvalue(res, 0, 1);

	return kek && sodium_hex2bin(ct, sizeof(ct), c, strlen(c), NULL, &ctlen, NULL) == 0 &&
	       sodium_hex2bin(nonce, sizeof(nonce), n, strlen(n), NULL, &nlen, NULL) == 0 && nlen == sizeof(nonce) &&
	       secrets_open(kek, ct, ctlen, nonce, secret, 64, slen);
}

/* The second factor: a fresh TOTP code (its step above the last used) or an unused recovery code. */
static bool second_factor(PGconn *conn, const struct secrets_kek *kek, long long staff_id, const char *id,
			  const char *totp_code, const char *recovery_code, bool *db_ok, const char **reason)
{
	*db_ok = true;
	if (totp_code && *totp_code) {
		const char *params[1] = { id };
		PGresult *res = store_query(conn, "staff totp secret",
					    "SELECT encode(secret_ct, 'hex'), encode(secret_nonce, 'hex') FROM staff_totp"
					    " WHERE staff_id = $1 AND confirmed_at IS NOT NULL",
					    1, params, 2);
		unsigned char secret[64];
		size_t slen = 0;
		uint64_t step = 0;
		bool ok = res && PQntuples(res) == 1 && open_secret(res, kek, secret, &slen) &&
			  staff_totp_verify(secret, slen, totp_code, time(NULL), &step);
		sodium_memzero(secret, sizeof(secret));
		*db_ok = res != NULL;
		PQclear(res);
		if (!ok) {
			*reason = "wrong_code";
			return false;
		}
		char s[STORE_ID_TEXT];
		snprintf(s, sizeof(s), "%llu", (unsigned long long)step);
		const char *p2[2] = { id, s };
		long long n;
		/* a code is good once: its step must be above the last one accepted */
		if (!store_count(conn, "staff totp step",
				 "WITH u AS (UPDATE staff_totp SET last_step = $2::bigint WHERE staff_id = $1"
				 " AND last_step < $2::bigint RETURNING 1) SELECT count(*) FROM u",
				 2, p2, &n)) {
			*db_ok = false;
			return false;
		}
		*reason = n == 1 ? "totp" : "replayed_code";
		return n == 1;
	}
	if (recovery_code && *recovery_code) {
		unsigned char h[32], key[32];
		char hex[65];
		long long n;
		tokens_recovery_key(kek, key);
		bool formed = staff_totp_recovery_hash(key, staff_id, recovery_code, h);
		sodium_memzero(key, sizeof(key));
		if (!formed) {
			*reason = "wrong_code";
			return false;
		}
		sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
		const char *params[2] = { id, hex };
		if (!store_count(conn, "staff recovery code",
				 "WITH u AS (UPDATE staff_recovery_codes SET used_at = now() WHERE staff_id = $1"
				 " AND code_hash = decode($2, 'hex') AND used_at IS NULL RETURNING 1) SELECT count(*) FROM u",
				 2, params, &n)) {
			*db_ok = false;
			return false;
		}
		*reason = n == 1 ? "recovery_code" : "wrong_code";
		return n == 1;
	}
	*reason = "code_missing";
	return false;
}

enum staff_result staff_session_signin(PGconn *conn, const struct config *cfg, const struct secrets_kek *kek,
				       const char *login, const char *password, size_t password_len,
				       const char *totp_code, const char *recovery_code, const struct staff_request *rq,
				       struct staff_new_session *out)
{
	char days[STORE_ID_TEXT], details[160], hex[65];
	PGresult *res = NULL;
	const char *reason = NULL;
	bool db_ok = true;

	memset(out, 0, sizeof(*out));
	snprintf(days, sizeof(days), "%lld", cfg->auth_password_max_age_days);
	if (!db_begin(conn))
		return STAFF_ERROR;
	const char *p1[2] = { login, days };
	res = store_query(conn, "staff signin",
			  "SELECT s.id, s.password_hash, s.active, coalesce(s.locked_until > now(), false),"
			  " s.password_temporary, s.password_changed_at < now() - make_interval(days => $2::int),"
			  " EXISTS (SELECT 1 FROM staff_totp t WHERE t.staff_id = s.id AND t.confirmed_at IS NOT NULL),"
			  " coalesce(s.office_code, ''), s.role::text,"
			  " s.password_temporary AND coalesce(s.temporary_until <= now(), true), s.approver"
			  " FROM staff s WHERE s.username = $1 FOR UPDATE",
			  2, p1, S__COUNT);
	if (!res)
		goto fail;
	if (PQntuples(res) == 0) {
		staff_password_dummy_verify(password, password_len);
		PQclear(res);
		/* people type their password into the login field: only a well-formed login is kept */
		const char *target = staff_accounts_login_ok(login) ? login : "(malformed)";
		if (!audit(conn, NULL, "staff.signin", target, "denied", rq, "{\"reason\": \"unknown_login\"}") ||
		    !db_commit(conn))
			goto fail_noclear;
		return STAFF_DENIED;
	}
	char id[STORE_ID_TEXT];
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, S_ID));
	bool pw_ok = staff_password_verify(PQgetvalue(res, 0, S_HASH), password, password_len);
	bool counts = false;
	if (!store_bool(res, 0, S_ACTIVE))
		reason = "disabled";
	else if (store_bool(res, 0, S_LOCKED))
		reason = "locked";
	else if (!pw_ok)
		reason = "wrong_password", counts = true;
	else if (store_bool(res, 0, S_TEMP_EXPIRED))
		/* the right temporary password, too late: not counted; `alertd staff reset` issues a fresh one */
		reason = "temporary_expired";
	else if (store_bool(res, 0, S_TOTP) && !kek) {
		/* the server's configuration, not the person: not a wrong code, not counted */
		PQclear(res);
		db_rollback(conn);
		return STAFF_NO_KEK;
	} else if (store_bool(res, 0, S_TOTP) &&
		   !second_factor(conn, kek, store_int(res, 0, S_ID), id, totp_code, recovery_code, &db_ok, &reason)) {
		if (!db_ok)
			goto fail;
		counts = true;
	}
	if (reason && strcmp(reason, "totp") != 0 && strcmp(reason, "recovery_code") != 0) {
		bool locked = false;
		if (counts && !count_failure(conn, cfg, id, false, &locked))
			goto fail;
		snprintf(details, sizeof(details), "{\"reason\": \"%s\", \"locked\": %s}", reason, locked ? "true" : "false");
		if (!audit(conn, login, "staff.signin", login, "denied", rq, details) || !db_commit(conn))
			goto fail;
		PQclear(res);
		return STAFF_DENIED;
	}
	/* signed in: a session, the lockout count cleared, the hash upgraded if its parameters are old */
	char rehash[STAFF_PASSWORD_HASH_MAX] = "";
	if (staff_password_needs_rehash(PQgetvalue(res, 0, S_HASH)) && !staff_password_hash(password, password_len, rehash))
		rehash[0] = '\0';
	unsigned char csrf_hash[32];
	char csrf_hex[65], life[STORE_ID_TEXT];
	new_token(out->token, hex, NULL);
	new_token(out->csrf, csrf_hex, csrf_hash);
	snprintf(life, sizeof(life), "%lld", cfg->auth_session_lifetime_seconds);
	const char *p3[7] = { id, hex, csrf_hex, life, rq->ip, rq->user_agent, rehash[0] ? rehash : NULL };
	if (!db_run(conn,
		    "WITH u AS (UPDATE staff SET failed_logins = 0, locked_until = NULL, last_login_at = now(),"
		    " password_hash = coalesce($7, password_hash) WHERE id = $1)"
		    " INSERT INTO staff_sessions (token_hash, staff_id, expires_at, ip, user_agent, csrf_hash)"
		    " VALUES (decode($2, 'hex'), $1, now() + make_interval(secs => $4::int), $5, left($6, 512),"
		    " decode($3, 'hex'))",
		    7, p3))
		goto fail;
	sodium_memzero(rehash, sizeof(rehash));
	struct staff_principal *w = &out->who;
	w->staff_id = store_int(res, 0, S_ID);
	snprintf(w->login, sizeof(w->login), "%s", login);
	snprintf(w->office, sizeof(w->office), "%s", PQgetvalue(res, 0, S_OFFICE));
	snprintf(w->role, sizeof(w->role), "%s", PQgetvalue(res, 0, S_ROLE));
	snprintf(w->session_hash, sizeof(w->session_hash), "%s", hex);
	memcpy(w->csrf_hash, csrf_hash, sizeof(csrf_hash));
	w->password_temporary = store_bool(res, 0, S_TEMPORARY);
	w->password_expired = store_bool(res, 0, S_EXPIRED);
	w->totp_enrolled = store_bool(res, 0, S_TOTP);
	w->approver = store_bool(res, 0, S_APPROVER);
	snprintf(details, sizeof(details), "{\"factor\": \"%s\"}", reason ? reason : "password");
	if (!audit(conn, login, "staff.signin", login, "ok", rq, details) || !db_commit(conn))
		goto fail;
	PQclear(res);
	return STAFF_OK;
fail:
	PQclear(res);
fail_noclear:
	db_rollback(conn);
	sodium_memzero(out, sizeof(*out));
	return STAFF_ERROR;
}

enum auth_col { A_ID, A_LOGIN, A_OFFICE, A_ROLE, A_CSRF, A_TEMPORARY, A_EXPIRED, A_TOTP, A_APPROVER, A__COUNT };

enum staff_result staff_session_authenticate(PGconn *conn, const struct config *cfg, const char *token, size_t len,
					     struct staff_principal *who)
{
	unsigned char h[32];
	char hex[65], idle[STORE_ID_TEXT], days[STORE_ID_TEXT];
	size_t clen = 0;

	memset(who, 0, sizeof(*who));
	if (len != STAFF_TOKEN_TEXT - 1)
		return STAFF_DENIED;
	crypto_hash_sha256(h, (const unsigned char *)token, len);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(idle, sizeof(idle), "%lld", cfg->auth_session_idle_seconds);
	snprintf(days, sizeof(days), "%lld", cfg->auth_password_max_age_days);
	const char *params[3] = { hex, idle, days };
	PGresult *res = store_query(
		conn, "staff session",
		"UPDATE staff_sessions ss SET last_seen_at = now() FROM staff s"
		" WHERE ss.token_hash = decode($1, 'hex') AND s.id = ss.staff_id AND ss.revoked_at IS NULL"
		" AND ss.expires_at > now() AND ss.last_seen_at > now() - make_interval(secs => $2::int) AND s.active"
		" RETURNING s.id, s.username, coalesce(s.office_code, ''), s.role::text, encode(ss.csrf_hash, 'hex'),"
		" s.password_temporary, s.password_changed_at < now() - make_interval(days => $3::int),"
		" EXISTS (SELECT 1 FROM staff_totp t WHERE t.staff_id = s.id AND t.confirmed_at IS NOT NULL), s.approver",
		3, params, A__COUNT);
	if (!res)
		return STAFF_ERROR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return STAFF_DENIED;
	}
	who->staff_id = store_int(res, 0, A_ID);
	snprintf(who->login, sizeof(who->login), "%s", PQgetvalue(res, 0, A_LOGIN));
	snprintf(who->office, sizeof(who->office), "%s", PQgetvalue(res, 0, A_OFFICE));
	snprintf(who->role, sizeof(who->role), "%s", PQgetvalue(res, 0, A_ROLE));
	snprintf(who->session_hash, sizeof(who->session_hash), "%s", hex);
	const char *csrf = PQgetvalue(res, 0, A_CSRF);
	bool ok = sodium_hex2bin(who->csrf_hash, sizeof(who->csrf_hash), csrf, strlen(csrf), NULL, &clen, NULL) == 0 &&
		  clen == sizeof(who->csrf_hash);
	who->password_temporary = store_bool(res, 0, A_TEMPORARY);
	who->password_expired = store_bool(res, 0, A_EXPIRED);
	who->totp_enrolled = store_bool(res, 0, A_TOTP);
	who->approver = store_bool(res, 0, A_APPROVER);
	PQclear(res);
	return ok ? STAFF_OK : STAFF_DENIED;
}

enum staff_result staff_session_reauth(PGconn *conn, const struct config *cfg, const struct secrets_kek *kek,
				       const struct staff_principal *who, const char *password, size_t password_len,
				       const char *totp_code, const char *recovery_code, const struct staff_request *rq)
{
	char id[STORE_ID_TEXT], details[160];
	const char *reason = NULL;
	bool db_ok = true, counts = false, locked = false;
	PGresult *res;

	store_id(id, who->staff_id);
	if (!db_begin(conn))
		return STAFF_ERROR;
	const char *p1[1] = { id };
	res = store_query(conn, "staff reauth",
			  "SELECT password_hash, active, coalesce(locked_until > now(), false),"
			  " EXISTS (SELECT 1 FROM staff_totp t WHERE t.staff_id = s.id AND t.confirmed_at IS NOT NULL)"
			  " FROM staff s WHERE id = $1 FOR UPDATE",
			  1, p1, 4);
	if (!res || PQntuples(res) != 1)
		goto fail;
	/* the Argon2id work first, whatever refuses afterwards */
	bool pw_ok = staff_password_verify(PQgetvalue(res, 0, 0), password, password_len);
	bool enrolled = store_bool(res, 0, 3);
	if (!store_bool(res, 0, 1))
		reason = "disabled";
	else if (store_bool(res, 0, 2))
		reason = "locked";
	else if (!pw_ok)
		reason = "wrong_password", counts = true;
	else if (enrolled && !kek) {
		PQclear(res);
		db_rollback(conn);
		return STAFF_NO_KEK;
	} else if (enrolled && !second_factor(conn, kek, who->staff_id, id, totp_code, recovery_code, &db_ok, &reason)) {
		if (!db_ok)
			goto fail;
		counts = true;
	}
	PQclear(res);
	res = NULL;
	if (reason && strcmp(reason, "totp") != 0 && strcmp(reason, "recovery_code") != 0) {
		/* counted like a wrong password at sign-in; the lock ends every session, this one included */
		if (counts && !count_failure(conn, cfg, id, true, &locked))
			goto fail;
		if (!counts && strcmp(reason, "locked") == 0 && !end_sessions_locked(conn, id))
			goto fail;
		snprintf(details, sizeof(details), "{\"reason\": \"%s\", \"locked\": %s}", reason, locked ? "true" : "false");
		if (!audit(conn, who->login, "staff.reauth", who->login, "denied", rq, details) || !db_commit(conn))
			goto fail;
		return STAFF_DENIED;
	}
	const char *p2[2] = { id, who->session_hash };
	long long n = 0;
	snprintf(details, sizeof(details), "{\"factor\": \"%s\"}", reason ? reason : "password");
	if (!db_run(conn, "UPDATE staff SET failed_logins = 0 WHERE id = $1", 1, p1) ||
	    !store_count(conn, "staff reauth stamp",
			 "WITH u AS (UPDATE staff_sessions SET reauth_at = now() WHERE token_hash = decode($2, 'hex')"
			 " AND staff_id = $1 AND revoked_at IS NULL RETURNING 1) SELECT count(*) FROM u",
			 2, p2, &n) ||
	    n != 1 || !audit(conn, who->login, "staff.reauth", who->login, "ok", rq, details) || !db_commit(conn))
		goto fail;
	return STAFF_OK;
fail:
	PQclear(res);
	db_rollback(conn);
	return STAFF_ERROR;
}

bool staff_session_reauth_fresh(PGconn *conn, const struct config *cfg, const struct staff_principal *who, bool *fresh)
{
	char secs[STORE_ID_TEXT];
	long long n = 0;

	*fresh = false;
	snprintf(secs, sizeof(secs), "%lld", cfg->auth_reauth_seconds);
	const char *p[2] = { who->session_hash, secs };
	if (!store_count(conn, "staff reauth fresh",
			 "SELECT count(*) FROM staff_sessions WHERE token_hash = decode($1, 'hex') AND revoked_at IS NULL"
			 " AND reauth_at > now() - make_interval(secs => $2::int)",
			 2, p, &n))
		return false;
	*fresh = n == 1;
	return true;
}

bool staff_session_end(PGconn *conn, const struct staff_principal *who, const struct staff_request *rq)
{
	const char *params[1] = { who->session_hash };

	if (!db_begin(conn))
		return false;
	if (!db_run(conn,
		    "UPDATE staff_sessions SET revoked_at = now(), ended_reason = 'logout'"
		    " WHERE token_hash = decode($1, 'hex') AND revoked_at IS NULL",
		    1, params) ||
	    !audit(conn, who->login, "staff.signout", who->login, "ok", rq, NULL) || !db_commit(conn)) {
		db_rollback(conn);
		return false;
	}
	return true;
}

enum staff_password_change staff_session_change_password(PGconn *conn, const struct config *cfg,
							 const struct staff_principal *who, const char *current,
							 size_t current_len, const char *fresh, size_t fresh_len,
							 const struct staff_request *rq, char *message, size_t messagelen,
							 struct staff_new_session *renewed)
{
	char id[STORE_ID_TEXT], keep[STORE_ID_TEXT], hash[STAFF_PASSWORD_HASH_MAX];
	struct staff_password_policy policy = { .min_chars = cfg->auth_password_min_length };
	enum staff_password_change result = STAFF_PASSWORD_CHANGE_ERROR;
	PGresult *res = NULL;

	memset(renewed, 0, sizeof(*renewed));
	if (staff_password_check(&policy, fresh, fresh_len, who->login, message, messagelen) != STAFF_PASSWORD_OK)
		return STAFF_PASSWORD_REFUSED;
	store_id(id, who->staff_id);
	snprintf(keep, sizeof(keep), "%lld", cfg->auth_password_history);
	if (!db_begin(conn))
		return STAFF_PASSWORD_CHANGE_ERROR;
	const char *p1[1] = { id };
	res = store_query(conn, "staff password",
			  "SELECT password_hash, coalesce(locked_until > now(), false) FROM staff WHERE id = $1 FOR UPDATE",
			  1, p1, 2);
	if (!res || PQntuples(res) != 1)
		goto out;
	bool current_ok = staff_password_verify(PQgetvalue(res, 0, 0), current, current_len);
	if (store_bool(res, 0, 1)) {
		/* locked (at sign-in): no change, and the account's sessions end, this one included */
		result = STAFF_PASSWORD_LOCKED;
		if (!end_sessions_locked(conn, id) ||
		    !audit(conn, who->login, "staff.password_change", who->login, "denied", rq, "{\"reason\": \"locked\"}") ||
		    !db_commit(conn))
			result = STAFF_PASSWORD_CHANGE_ERROR;
		goto out;
	}
	if (!current_ok) {
		char details[80];
		bool locked = false;
		snprintf(message, messagelen, "is not your current password");
		result = STAFF_PASSWORD_WRONG_CURRENT;
		/* counted like a wrong password at sign-in; the lock also ends every session, this one included */
		bool counted = count_failure(conn, cfg, id, true, &locked);
		snprintf(details, sizeof(details), "{\"reason\": \"wrong_current\", \"locked\": %s}",
			 locked ? "true" : "false");
		if (locked)
			result = STAFF_PASSWORD_LOCKED;
		if (!counted || !audit(conn, who->login, "staff.password_change", who->login, "denied", rq, details) ||
		    !db_commit(conn))
			result = STAFF_PASSWORD_CHANGE_ERROR;
		goto out;
	}
	PQclear(res);
	const char *p2[2] = { id, keep };
	res = store_query(conn, "staff password history",
			  "SELECT password_hash FROM staff_password_history WHERE staff_id = $1 ORDER BY id DESC LIMIT $2::int",
			  2, p2, 1);
	if (!res)
		goto out;
	for (int r = 0; r < PQntuples(res); r++)
		if (staff_password_verify(PQgetvalue(res, r, 0), fresh, fresh_len)) {
			snprintf(message, messagelen, "must differ from your last %lld passwords", cfg->auth_password_history);
			result = STAFF_PASSWORD_REUSED;
			if (!audit(conn, who->login, "staff.password_change", who->login, "denied", rq,
				   "{\"reason\": \"reused\"}") ||
			    !db_commit(conn))
				result = STAFF_PASSWORD_CHANGE_ERROR;
			goto out;
		}
	if (!staff_password_hash(fresh, fresh_len, hash))
		goto out;
	const char *p3[3] = { id, hash, who->session_hash };
	/* the new password ends every other session of the account */
	bool ok = db_run(conn,
			 "WITH u AS (UPDATE staff SET password_hash = $2, password_temporary = false,"
			 " temporary_until = NULL, password_changed_at = now() WHERE id = $1),"
			 " h AS (INSERT INTO staff_password_history (staff_id, password_hash) VALUES ($1, $2))"
			 " UPDATE staff_sessions SET revoked_at = now(), ended_reason = 'password_changed'"
			 " WHERE staff_id = $1 AND revoked_at IS NULL AND token_hash <> decode($3, 'hex')",
			 3, p3) &&
		  audit(conn, who->login, "staff.password_change", who->login, "ok", rq, NULL);
	/* a temporary or expired password replaced: the session gains access, so it gets a new token */
	bool gains = who->password_temporary || who->password_expired;
	if (ok && gains) {
		ok = renew(conn, who, rq, renewed);
		renewed->who.password_temporary = false;
		renewed->who.password_expired = false;
	}
	ok = ok && db_commit(conn);
	sodium_memzero(hash, sizeof(hash));
	if (ok)
		result = STAFF_PASSWORD_CHANGED;
out:
	PQclear(res);
	if (result == STAFF_PASSWORD_CHANGE_ERROR)
		db_rollback(conn);
	if (result != STAFF_PASSWORD_CHANGED)
		sodium_memzero(renewed, sizeof(*renewed));
	return result;
}

enum staff_totp_result staff_session_totp_enrol(PGconn *conn, const struct secrets_kek *kek, const struct staff_principal *who,
						const struct staff_request *rq, char base32[STAFF_TOTP_BASE32_MAX])
{
	char id[STORE_ID_TEXT], ct_hex[STAFF_TOTP_CT_HEX_MAX], nonce_hex[STAFF_TOTP_NONCE_HEX_MAX];
	long long n = 0;

	if (!staff_totp_new_sealed(kek, base32, ct_hex, nonce_hex))
		return STAFF_TOTP_ERROR;
	store_id(id, who->staff_id);
	const char *params[3] = { id, ct_hex, nonce_hex };
	if (!db_begin(conn))
		return STAFF_TOTP_ERROR;
	/* a confirmed enrolment is never replaced here: only `alertd staff reset --totp` removes it */
	if (!store_count(conn, "staff totp enrol",
			 "WITH u AS (INSERT INTO staff_totp (staff_id, secret_ct, secret_nonce)"
			 " VALUES ($1, decode($2, 'hex'), decode($3, 'hex')) ON CONFLICT (staff_id) DO UPDATE"
			 " SET secret_ct = EXCLUDED.secret_ct, secret_nonce = EXCLUDED.secret_nonce, created_at = now()"
			 " WHERE staff_totp.confirmed_at IS NULL RETURNING 1) SELECT count(*) FROM u",
			 3, params, &n) ||
	    !audit(conn, who->login, "staff.totp_enrol", who->login, n == 1 ? "ok" : "denied", rq,
		   n == 1 ? NULL : "{\"reason\": \"already_enrolled\"}") ||
	    !db_commit(conn)) {
		db_rollback(conn);
		sodium_memzero(base32, STAFF_TOTP_BASE32_MAX);
		return STAFF_TOTP_ERROR;
	}
	if (n != 1)
		sodium_memzero(base32, STAFF_TOTP_BASE32_MAX);
	return n == 1 ? STAFF_TOTP_OK : STAFF_TOTP_ALREADY;
}

enum staff_totp_result staff_session_totp_confirm(PGconn *conn, const struct secrets_kek *kek,
						  const struct staff_principal *who, const char *code,
						  const struct staff_request *rq,
						  char codes[STAFF_RECOVERY_CODES][STAFF_RECOVERY_CODE_LEN + 1],
						  struct staff_new_session *renewed)
{
	char id[STORE_ID_TEXT], step_text[STORE_ID_TEXT];
	enum staff_totp_result result = STAFF_TOTP_ERROR;
	unsigned char secret[64], key[32] = { 0 };
	size_t slen = 0;
	uint64_t step = 0;
	PGresult *res;

	memset(renewed, 0, sizeof(*renewed));
	store_id(id, who->staff_id);
	if (!db_begin(conn))
		return STAFF_TOTP_ERROR;
	const char *p1[1] = { id };
	res = store_query(conn, "staff totp pending",
			  "SELECT encode(secret_ct, 'hex'), encode(secret_nonce, 'hex'), confirmed_at IS NOT NULL"
			  " FROM staff_totp WHERE staff_id = $1 FOR UPDATE",
			  1, p1, 3);
	if (!res)
		goto out;
	if (PQntuples(res) != 1 || store_bool(res, 0, 2)) {
		result = PQntuples(res) == 1 ? STAFF_TOTP_ALREADY : STAFF_TOTP_NO_PENDING;
		goto out;
	}
	bool ok = open_secret(res, kek, secret, &slen);
	if (!ok)
		goto out;
	if (!staff_totp_verify(secret, slen, code, time(NULL), &step)) {
		result = STAFF_TOTP_BAD_CODE;
		if (!audit(conn, who->login, "staff.totp_confirm", who->login, "denied", rq, "{\"reason\": \"wrong_code\"}") ||
		    !db_commit(conn))
			result = STAFF_TOTP_ERROR;
		goto out;
	}
	snprintf(step_text, sizeof(step_text), "%llu", (unsigned long long)step);
	const char *p2[2] = { id, step_text };
	/* the confirming code is spent: its step is the last used */
	if (!db_run(conn,
		    "WITH d AS (DELETE FROM staff_recovery_codes WHERE staff_id = $1)"
		    " UPDATE staff_totp SET confirmed_at = now(), last_step = $2::bigint WHERE staff_id = $1",
		    2, p2))
		goto out;
	tokens_recovery_key(kek, key);
	for (int i = 0; i < STAFF_RECOVERY_CODES; i++) {
		unsigned char h[32];
		char hex[65];
		staff_totp_recovery_code(codes[i]);
		if (!staff_totp_recovery_hash(key, who->staff_id, codes[i], h))
			goto out;
		sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
		const char *p3[2] = { id, hex };
		if (!db_run(conn, "INSERT INTO staff_recovery_codes (staff_id, code_hash) VALUES ($1, decode($2, 'hex'))",
			    2, p3))
			goto out;
	}
	/* the session gains access: a new token */
	if (audit(conn, who->login, "staff.totp_confirm", who->login, "ok", rq, "{\"recovery_codes\": 10}") &&
	    renew(conn, who, rq, renewed) && db_commit(conn)) {
		renewed->who.totp_enrolled = true;
		result = STAFF_TOTP_OK;
	}
out:
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(key, sizeof(key));
	PQclear(res);
	if (result != STAFF_TOTP_OK && result != STAFF_TOTP_BAD_CODE)
		db_rollback(conn);
	if (result != STAFF_TOTP_OK) {
		sodium_memzero(codes, sizeof(char[STAFF_RECOVERY_CODES][STAFF_RECOVERY_CODE_LEN + 1]));
		sodium_memzero(renewed, sizeof(*renewed));
	}
	return result;
}
