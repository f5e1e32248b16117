/*
 * instructions.c - bulk activation codes with their instructions e-mail
 * (see instructions.h).
 *
 * The scope check covers every selected unit before anything is issued,
 * so a request naming one unit outside the caller's subtree does nothing.
 * The code reaches the mail only through activation.c's on_issued hook,
 * inside the issuing transaction: it is rendered, sealed and inserted
 * there, and the plain text is wiped before the hook returns.
 */
#include "mail/instructions.h"
#include "alerts/alertfmt.h"
#include "core/config.h"
#include "db/audit.h"
#include "db/db.h"
#include "mail/mailfmt.h"
#include "mail/message.h"
#include "mail/reminders.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct issue_ctx {
	const struct secrets_kek *kek;
	const struct activation_actor *actor;
	const char *unit_code, *office_code, *office_name;
	const char *login, *full_name, *email, *lang;
	char mail_id[24];
};

/* activation.c's hook: the sealed instructions mail and its audit row, in the issuing transaction. */
static bool queue_sealed(PGconn *conn, void *arg, const char *user_id, const char *code, const char *expires_at)
{
	struct issue_ctx *c = arg;
	char subject[MAILFMT_SUBJECT_MAX], body[MAILFMT_BODY_MAX], details[96];
	unsigned char nonce[SECRETS_NONCE_BYTES], *ct = NULL, *sealed = NULL;
	char *hex = NULL;
	size_t ctlen = 0;
	bool ok = false;
	PGresult *res = NULL;

	if (!mailfmt_instructions(alertfmt_lang(c->lang), c->full_name, c->login, code, expires_at, c->office_name,
				  subject, body) ||
	    !secrets_seal(c->kek, (const unsigned char *)body, strlen(body), &ct, &ctlen, nonce))
		goto out;
	/* body_sealed is the nonce, then the secretbox (migration 0022) */
	size_t total = SECRETS_NONCE_BYTES + ctlen;
	if (!(sealed = malloc(total)) || !(hex = malloc(2 * total + 1)))
		goto out;
	memcpy(sealed, nonce, SECRETS_NONCE_BYTES);
	memcpy(sealed + SECRETS_NONCE_BYTES, ct, ctlen);
	sodium_bin2hex(hex, 2 * total + 1, sealed, total);
	const char *params[8] = {
		user_id, c->unit_code, c->office_code, c->email, strcmp(c->lang, "en") == 0 ? "en" : "vi",
		subject, hex,	       c->actor->id
	};
	res = db_exec(conn,
		      "INSERT INTO mail_outbox (purpose, user_id, unit_code, office_code, to_kind, to_addr, lang, subject,"
		      " body_sealed, manual, created_by)"
		      " VALUES ('instructions', $1::bigint, $2, $3, 'user', $4, $5, $6, decode($7, 'hex'), true, $8)"
		      " RETURNING id",
		      8, params);
	if (!res || PQntuples(res) != 1)
		goto out;
	snprintf(c->mail_id, sizeof(c->mail_id), "%s", PQgetvalue(res, 0, 0));
	snprintf(details, sizeof(details), "{\"mail_id\":%s,\"unit\":\"%s\"}", c->mail_id, c->unit_code);
	struct audit_entry e = { .actor_kind = c->actor->kind,
				 .actor_id = c->actor->id,
				 .action = "mail.instructions",
				 .target = c->login,
				 .outcome = "ok",
				 .ip = c->actor->ip,
				 .request_id = c->actor->request_id,
				 .details = details };
	ok = audit_write(conn, &e);
out:
	sodium_memzero(body, sizeof(body));
	PQclear(res);
	free(ct);
	free(sealed);
	free(hex);
	return ok;
}

/* Every unit active and within scope: true in *all (one statement). False on a database error. */
static bool all_in_scope(PGconn *conn, const char *const *units, size_t n, const char *scope_office, bool *all)
{
	json_t *arr = json_array();
	char *text = NULL;
	PGresult *res = NULL;
	char want[24];

	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, json_string(units[i]));
	text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
	json_decref(arr);
	snprintf(want, sizeof(want), "%zu", n);
	const char *params[3] = { text, scope_office, want };
	if (text)
		res = db_exec(conn,
			      "SELECT count(DISTINCT b.code) = $3::int FROM budget_units b"
			      " WHERE b.code IN (SELECT jsonb_array_elements_text($1::jsonb)) AND b.active"
			      " AND alertd_office_in_scope($2, b.office_code)",
			      3, params);
	free(text);
	if (!res || PQntuples(res) != 1) {
		PQclear(res);
		return false;
	}
	*all = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return true;
}

static bool skip(json_t *list, const char *login, const char *reason)
{
	return json_array_append_new(list, json_pack("{s:s,s:s}", "login", login, "reason", reason)) == 0;
}

/* One unit's uncovered users: each skipped or issued and mailed. False on a database error. */
static bool one_unit(PGconn *conn, const struct config *cfg, const unsigned char code_key[32], const struct secrets_kek *kek,
		     const char *unit_code, const char *scope_office, const struct activation_actor *actor, json_t *report)
{
	PGresult *users = NULL, *unit = NULL;
	json_t *mailed = json_array(), *skipped = json_array();
	bool ok = false;
	const char *p[1] = { unit_code };

	if (!mailed || !skipped ||
	    !(unit = db_exec(conn,
			     "SELECT b.office_code, o.name FROM budget_units b JOIN offices o ON o.code = b.office_code"
			     " WHERE b.code = $1",
			     1, p)) ||
	    PQntuples(unit) != 1 || !mail_uncovered_users(conn, cfg, unit_code, &users))
		goto out;
	for (int r = 0; r < PQntuples(users); r++) {
		const char *login = PQgetvalue(users, r, MAIL_UC_LOGIN);
		const char *email = PQgetisnull(users, r, MAIL_UC_EMAIL) ? NULL : PQgetvalue(users, r, MAIL_UC_EMAIL);
		/* the user's own address only: the unit's shared mailbox never receives someone's code */
		if (!email || !mail_addr_ok(email)) {
			if (!skip(skipped, login, "no_email"))
				goto out;
			continue;
		}
		struct issue_ctx c = { .kek = kek,
				       .actor = actor,
				       .unit_code = unit_code,
				       .office_code = PQgetvalue(unit, 0, 0),
				       .office_name = PQgetvalue(unit, 0, 1),
				       .login = login,
				       .full_name = PQgetvalue(users, r, MAIL_UC_FULL_NAME),
				       .email = email,
				       .lang = PQgetvalue(users, r, MAIL_UC_LANG) };
		struct activation_actor a = *actor;
		a.on_issued = queue_sealed;
		a.on_issued_ctx = &c;
		char code[TOKENS_CODE_LEN + 1], expires[64];
		enum activation_result ar = activation_issue(conn, code_key, login, scope_office,
							     cfg->app_activation_code_ttl_hours, &a, code, expires);
		sodium_memzero(code, sizeof(code));
		if (ar == ACTIVATION_DB_ERROR)
			goto out;
		if (ar == ACTIVATION_OK) {
			if (json_array_append_new(mailed, json_pack("{s:s,s:I}", "login", login, "mail_id",
								    (json_int_t)strtoll(c.mail_id, NULL, 10))))
				goto out;
		} else if (!skip(skipped, login, ar == ACTIVATION_CAPPED ? "daily_cap" : "not_found")) {
			goto out;
		}
	}
	ok = json_array_append_new(report,
				   json_pack("{s:s,s:O,s:O}", "unit", unit_code, "mailed", mailed, "skipped", skipped)) == 0;
out:
	json_decref(mailed);
	json_decref(skipped);
	PQclear(users);
	PQclear(unit);
	return ok;
}

enum mail_instructions_result mail_instructions_bulk(PGconn *conn, const struct config *cfg,
						     const unsigned char code_key[32], const struct secrets_kek *kek,
						     const char *const *units, size_t n, const char *scope_office,
						     const struct activation_actor *actor, json_t **report)
{
	bool all = false;
	json_t *out = NULL;

	*report = NULL;
	if (!all_in_scope(conn, units, n, scope_office, &all))
		return MAIL_INSTRUCTIONS_ERROR;
	if (!all)
		return MAIL_INSTRUCTIONS_NOT_FOUND;
	if (!(out = json_array()))
		return MAIL_INSTRUCTIONS_ERROR;
	for (size_t i = 0; i < n; i++)
		if (!one_unit(conn, cfg, code_key, kek, units[i], scope_office, actor, out)) {
			json_decref(out);
			return MAIL_INSTRUCTIONS_ERROR;
		}
	*report = out;
	return MAIL_INSTRUCTIONS_DONE;
}
