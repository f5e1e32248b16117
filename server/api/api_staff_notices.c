/*
 * api_staff_notices.c - the staff routes of security notices (see
 * api_staff_notices.h). The handlers check the input and the caller's
 * rights; the SQL lives in notices/notices_store.c, the text rules in
 * notices/notices.c. Every refusal of an action is audited, as every
 * success is (in the change's own transaction).
 *
 * Who may do what: operators and admins write notices for their subtree;
 * the approver permission (staff.approver), on another account than the
 * author's, of the notice's office or a parent office, approves after a
 * fresh re-authentication; only the author withdraws, before approval.
 * A notice outside the caller's subtree is 404, as everything is.
 */
#include "api/api_staff_notices.h"
#include "api/api_staff.h"
#include "api/api_staff_accounts.h"
#include "core/app.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/reload.h"
#include "db/audit.h"
#include "http/validate.h"
#include "ingest/event.h"
#include "notices/notices.h"
#include "notices/notices_store.h"
#include "staff/export.h"
#include "staff/reauth.h"

#include <stdio.h>
#include <string.h>

#define UNITS_LITERAL_MAX (NOTICES_UNITS_MAX * 8 + 3)
/* the latest a notice may be scheduled for */
#define SEND_AT_MAX_DAYS 90

static const char *const roles[] = { "account_holder", "chief_accountant", "accountant", NULL };
static const char *const modes[] = { "office_hours", "immediate", "at", NULL };
static const char *const states[] = { "pending_approval", "approved", "sending", "sent", "withdrawn", NULL };

/*
 * The end of a body's checks: HTTP_FAILED when they could not run (parsed
 * false), else a 422 with the errors (*done), or on (errors empty). errors
 * is freed either way.
 */
static bool errors_or_reply(struct http_req *req, struct http_resp *resp, json_t *errors, bool parsed, enum http_outcome *out)
{
	bool go_on = false;

	*out = HTTP_DONE;
	if (!parsed)
		*out = HTTP_FAILED;
	else if (json_array_size(errors) > 0)
		validate_reply(resp, req, NULL, errors);
	else
		go_on = true;
	json_decref(errors);
	return go_on;
}

static bool author_role(const struct http_req *req)
{
	return strcmp(req->staff.role, "operator") == 0 || strcmp(req->staff.role, "admin") == 0;
}

static struct notice_actor actor_of(const struct http_req *req)
{
	return (struct notice_actor){
		.staff_id = req->staff.staff_id, .login = req->staff.login, .ip = req->remote, .request_id = req->request_id
	};
}

/* An optional string member of o: NULL when absent or null; an error when present but not a string. */
static const char *opt_string(json_t *o, const char *key, const char *prefix, json_t *errors, bool *ok)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*ok &= validate_member_error(errors, prefix, key, "must be a string");
		return NULL;
	}
	return json_string_value(v);
}

/*
 * The target member into d (units and roles as array literals in the
 * caller's buffers); the office defaults to the caller's. Errors appended.
 * False only when an error could not be added.
 */
static bool parse_target(const struct http_req *req, json_t *t, struct notice_draft *d, char *units, size_t ulen,
			 char *rolebuf, size_t rlen, json_t *errors)
{
	static const char *const known[] = { "office", "units", "roles", "only_unprotected", NULL };
	bool ok = true;
	json_t *v;
	size_t i;

	d->office = req->scope_office;
	d->units = units;
	d->roles = rolebuf;
	snprintf(units, ulen, "{}");
	snprintf(rolebuf, rlen, "{}");
	if (!t)
		return true;
	if (!json_is_object(t))
		return validate_error(errors, "target", "must be an object");
	ok &= validate_unknown_members(errors, t, "target.", known);
	const char *office = opt_string(t, "office", "target.", errors, &ok);
	if (office)
		d->office = office;
	if ((v = json_object_get(t, "units")) && !json_is_null(v)) {
		struct buf b;
		buf_init(&b, ulen);
		buf_append(&b, "{", 1);
		if (!json_is_array(v) || json_array_size(v) > NOTICES_UNITS_MAX)
			ok &= validate_errorf(errors, "target.units", "must be an array of at most %d unit codes",
					      NOTICES_UNITS_MAX);
		else
			for (i = 0; i < json_array_size(v); i++) {
				const char *c = json_string_value(json_array_get(v, i));
				bool code = c && strlen(c) == 7 && strspn(c, "0123456789") == 7;
				if (!code) {
					ok &= validate_errorf(errors, "target.units",
							      "item %zu is not a 7-digit unit code", i);
					break;
				}
				buf_printf(&b, "%s%s", i ? "," : "", c);
			}
		buf_append(&b, "}", 1);
		if (buf_ok(&b))
			snprintf(units, ulen, "%s", b.data);
		buf_free(&b);
	}
	if ((v = json_object_get(t, "roles")) && !json_is_null(v)) {
		size_t o = 1;
		rolebuf[0] = '{';
		if (!json_is_array(v) || json_array_size(v) > 3)
			ok &= validate_error(errors, "target.roles", "must be an array of roles");
		else
			for (i = 0; i < json_array_size(v); i++) {
				const char *r = json_string_value(json_array_get(v, i));
				int k = -1;
				for (int j = 0; r && roles[j]; j++)
					if (strcmp(r, roles[j]) == 0)
						k = j;
				if (k < 0) {
					ok &= validate_error(errors, "target.roles",
							     "must be account_holder, chief_accountant or accountant");
					break;
				}
				o += (size_t)snprintf(rolebuf + o, rlen - o, "%s%s", i ? "," : "", roles[k]);
			}
		snprintf(rolebuf + o, rlen - o, "}");
	}
	if ((v = json_object_get(t, "only_unprotected")) && !json_is_null(v)) {
		if (!json_is_boolean(v))
			ok &= validate_error(errors, "target.only_unprotected", "must be true or false");
		else
			d->only_unprotected = json_is_true(v);
	}
	return ok;
}

/*
 * The database checks of a target: the office in the caller's subtree and
 * every unit in the office's. *replied when a 422 was answered. False on a
 * database error.
 */
static bool target_in_scope(struct http_req *req, struct http_resp *resp, const struct notice_draft *d, bool *replied)
{
	PGconn *conn = http_db(req);
	json_t *bad = NULL;
	bool in = false;

	*replied = false;
	if (!conn || !notices_store_office_in_scope(conn, req->scope_office, d->office, &in))
		return false;
	if (!in) {
		/* as every office outside the caller's subtree: not found, the same answer as an unknown one */
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
		*replied = true;
		return true;
	}
	if (!notices_store_units_outside(conn, d->office, d->units, &bad))
		return false;
	if (json_array_size(bad) > 0) {
		char *list = json_dumps(bad, JSON_COMPACT);
		char msg[VALIDATE_MESSAGE_MAX];
		snprintf(msg, sizeof(msg), "unknown, or not of the targeted offices: %s", list ? list : "");
		free(list);
		validate_reply_one(resp, req, "target.units", msg);
		*replied = true;
	}
	json_decref(bad);
	return true;
}

/* target_in_scope() as an "...or reply" check: false with *out to return when it answered or failed. */
static bool target_or_reply(struct http_req *req, struct http_resp *resp, const struct notice_draft *d, enum http_outcome *out)
{
	bool replied = false;

	if (!target_in_scope(req, resp, d, &replied)) {
		*out = HTTP_FAILED;
		return false;
	}
	*out = HTTP_DONE;
	return !replied;
}

enum http_outcome api_staff_notice_templates(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	size_t n;
	const struct notice_template *t = notices_templates(&n);
	json_t *items = json_array();

	(void)app;
	(void)req;
	for (size_t i = 0; items && i < n; i++)
		if (json_array_append_new(items, json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", t[i].id, "title_vi",
							   t[i].title_vi, "body_vi", t[i].body_vi, "title_en",
							   t[i].title_en, "body_en", t[i].body_en)) != 0) {
			json_decref(items);
			return HTTP_FAILED;
		}
	if (!items)
		return HTTP_FAILED;
	http_resp_json(resp, 200, json_pack("{s:o}", "templates", items));
	return HTTP_DONE;
}

enum http_outcome api_staff_notice_preview(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	static const char *const known[] = { "target", NULL };
	char units[UNITS_LITERAL_MAX], rolebuf[80];
	struct notice_draft d = { 0 };
	json_t *errors = json_array(), *reach = NULL;
	enum http_outcome early;

	if (!author_role(req)) {
		json_decref(errors);
		http_resp_problem(resp, req, PROBLEM_ROLE_NOT_ALLOWED, "notices need the operator or admin role", NULL);
		return HTTP_DONE;
	}
	bool parsed = errors && validate_unknown_members(errors, req->json, "", known) &&
		      parse_target(req, json_object_get(req->json, "target"), &d, units, sizeof(units), rolebuf,
				   sizeof(rolebuf), errors);
	if (!errors_or_reply(req, resp, errors, parsed, &early) || !target_or_reply(req, resp, &d, &early))
		return early;
	if (!notices_store_reach(http_db(req), &d, app->cfg->coverage_active_days, &reach))
		return HTTP_FAILED;
	http_resp_json(resp, 200, reach);
	return HTTP_DONE;
}

/* The text members of a create body into d, checked (caps, characters, links). */
static bool parse_text(const struct app *app, json_t *body, struct notice_draft *d, json_t *errors)
{
	static const char *const fields[] = { "title_vi", "body_vi", "title_en", "body_en" };
	const char **slots[] = { &d->title_vi, &d->body_vi, &d->title_en, &d->body_en };
	char msg[VALIDATE_MESSAGE_MAX];
	bool ok = true;

	for (int i = 0; i < 4; i++) {
		*slots[i] = opt_string(body, fields[i], "", errors, &ok);
		bool title = i % 2 == 0;
		if (!*slots[i]) {
			if (i < 2)
				ok &= validate_error(errors, fields[i], "is required");
			continue;
		}
		const char *s = *slots[i];
		/* the allow-list is reloadable (SIGHUP): this request reads one snapshot of it */
		const struct config *live = config_live_acquire(app->live);
		bool text_ok = notices_text_ok(s, strlen(s), title ? NOTICES_TITLE_MAX : NOTICES_BODY_MAX, !title,
					       live->notices_allowed_link_domains, msg, sizeof(msg));
		config_live_release(app->live, live);
		if (!text_ok)
			ok &= validate_error(errors, fields[i], msg);
	}
	if ((d->title_en == NULL) != (d->body_en == NULL))
		ok &= validate_error(errors, d->title_en ? "body_en" : "title_en",
				     "the English text needs both a title and a body");
	d->template = opt_string(body, "template", "", errors, &ok);
	if (d->template && !notices_template(d->template))
		ok &= validate_error(errors, "template", "is not one of GET /v1/staff/notice-templates");
	return ok;
}

/* The send member into d: the mode (default office_hours) and, for "at", a time in the next 90 days. */
static bool parse_send(json_t *s, struct notice_draft *d, json_t *errors)
{
	static const char *const known[] = { "mode", "at", NULL };
	bool ok = true;

	d->send_mode = "office_hours";
	if (!s)
		return true;
	if (!json_is_object(s))
		return validate_error(errors, "send", "must be an object");
	ok &= validate_unknown_members(errors, s, "send.", known);
	const char *mode = opt_string(s, "mode", "send.", errors, &ok);
	const char *at = opt_string(s, "at", "send.", errors, &ok);
	if (mode) {
		int k = -1;
		for (int j = 0; modes[j]; j++)
			if (strcmp(mode, modes[j]) == 0)
				k = j;
		if (k < 0)
			return ok && validate_error(errors, "send.mode", "must be office_hours, immediate or at");
		d->send_mode = modes[k];
	}
	if (strcmp(d->send_mode, "at") == 0) {
		int64_t us = 0, now = clock_wall_us();
		if (!at || !event_parse_rfc3339(at, &us) || us <= now || us > now + (int64_t)SEND_AT_MAX_DAYS * 86400 * 1000000)
			return ok && validate_errorf(errors, "send.at", "must be a time (RFC 3339) in the next %d days",
						     SEND_AT_MAX_DAYS);
		d->send_after = at;
	} else if (at) {
		ok &= validate_error(errors, "send.at", "is only for the mode \"at\"");
	}
	return ok;
}

enum http_outcome api_staff_notice_create(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	static const char *const known[] = { "template", "title_vi", "body_vi", "title_en",
					     "body_en",	 "target",   "send",	NULL };
	char units[UNITS_LITERAL_MAX], rolebuf[80];
	struct notice_draft d = { 0 };
	json_t *errors, *reach = NULL, *out = NULL;
	enum http_outcome early;

	if (!author_role(req))
		return api_staff_refuse(req, resp, "notice.create", NULL, "role", PROBLEM_ROLE_NOT_ALLOWED,
					"writing notices needs the operator or admin role");
	errors = json_array();
	bool parsed = errors && validate_unknown_members(errors, req->json, "", known) &&
		      parse_text(app, req->json, &d, errors) &&
		      parse_target(req, json_object_get(req->json, "target"), &d, units, sizeof(units), rolebuf,
				   sizeof(rolebuf), errors) &&
		      parse_send(json_object_get(req->json, "send"), &d, errors);
	if (!errors_or_reply(req, resp, errors, parsed, &early) || !target_or_reply(req, resp, &d, &early))
		return early;
	PGconn *conn = http_db(req);
	if (!notices_store_reach(conn, &d, app->cfg->coverage_active_days, &reach))
		return HTTP_FAILED;
	json_int_t users = json_integer_value(json_object_get(reach, "users"));
	json_decref(reach);
	if (users == 0) {
		validate_reply_one(resp, req, "target", "reaches no user");
		return HTTP_DONE;
	}
	struct notice_actor who = actor_of(req);
	if (!notices_store_create(conn, &d, &who, &out))
		return HTTP_FAILED;
	http_resp_json(resp, 201, out);
	return HTTP_DONE;
}

enum http_outcome api_staff_notice_list(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	static const struct validate_int limit_spec = { 1, 200, 50, "must be 1 to 200" };
	static const struct validate_int before_spec = { 1, 999999999999999999LL, 0, "must be a notice id" };
	long long limit, before;
	int state;
	json_t *items = NULL;
	const char *office = http_query(req, "office");
	bool in = false;

	(void)app;
	if (!office)
		office = req->scope_office;
	PGconn *conn = http_db(req);
	if (!conn || !notices_store_office_in_scope(conn, req->scope_office, office, &in))
		return HTTP_FAILED;
	if (!in) {
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
		return HTTP_DONE;
	}
	if (!validate_int_or_reply(req, resp, "limit", http_query(req, "limit"), &limit_spec, &limit) ||
	    !validate_int_or_reply(req, resp, "before", http_query(req, "before"), &before_spec, &before) ||
	    !validate_enum_or_reply(req, resp, "state", http_query(req, "state"), states, -1,
				    "must be pending_approval, approved, sending, sent or withdrawn", &state))
		return HTTP_DONE;
	if (!notices_store_list(conn, office, state >= 0 ? states[state] : NULL, before, limit, &items))
		return HTTP_FAILED;
	json_int_t n = (json_int_t)json_array_size(items);
	json_t *last = n ? json_object_get(json_array_get(items, (size_t)n - 1), "id") : NULL;
	http_resp_json(resp, 200, json_pack("{s:o,s:O?}", "notices", items, "next_before", n == limit && last ? last : NULL));
	return HTTP_DONE;
}

/* What the caller may do with notice n (its JSON): can_approve, can_withdraw. */
static bool add_rights(const struct http_req *req, json_t *n)
{
	const char *state = json_string_value(json_object_get(n, "state"));
	const char *author = json_string_value(json_object_get(n, "author"));
	bool pending = state && strcmp(state, "pending_approval") == 0;
	bool own = req->staff.staff_id && author && strcmp(author, req->staff.login) == 0;
	return json_object_set_new(n, "can_approve", json_boolean(pending && !own && req->staff.approver)) == 0 &&
	       json_object_set_new(n, "can_withdraw", json_boolean(pending && own)) == 0;
}

enum http_outcome api_staff_notice_get(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	long long id;
	json_t *n = NULL;

	(void)app;
	if (!validate_path_id_or_reply(req, resp, "id", &id))
		return HTTP_DONE;
	PGconn *conn = http_db(req);
	if (!conn || !notices_store_get(conn, req->scope_office, id, &n))
		return HTTP_FAILED;
	if (!n) {
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
		return HTTP_DONE;
	}
	if (!add_rights(req, n)) {
		json_decref(n);
		return HTTP_FAILED;
	}
	http_resp_json(resp, 200, n);
	return HTTP_DONE;
}

/* Answer the outcome of an approval or withdrawal (the notice, or the refusal). */
static enum http_outcome change_reply(struct http_req *req, struct http_resp *resp, enum notice_change r,
				      const char *action, const char *target, json_t *out)
{
	switch (r) {
	case NOTICE_CHANGED:
		if (!add_rights(req, out)) {
			json_decref(out);
			return HTTP_FAILED;
		}
		http_resp_json(resp, 200, out);
		return HTTP_DONE;
	case NOTICE_NOT_FOUND:
		return api_staff_refuse(req, resp, action, target, "not_found", PROBLEM_NOT_FOUND, NULL);
	case NOTICE_WRONG_STATE:
		http_resp_problem(resp, req, PROBLEM_CONFLICT, "the notice is no longer pending approval", NULL);
		return HTTP_DONE;
	case NOTICE_HASH_MISMATCH:
		http_resp_problem(resp, req, PROBLEM_NOTICE_CHANGED,
				  "text_sha256 is not the hash of this notice's text: reload it and read it again", NULL);
		return HTTP_DONE;
	case NOTICE_OWN:
		http_resp_problem(resp, req, PROBLEM_OWN_NOTICE, "another approver must approve your notice", NULL);
		return HTTP_DONE;
	case NOTICE_NOT_AUTHOR:
		http_resp_problem(resp, req, PROBLEM_FORBIDDEN, "only the author withdraws a notice", NULL);
		return HTTP_DONE;
	case NOTICE_CHANGE_ERROR:
		break;
	}
	return HTTP_FAILED;
}

enum http_outcome api_staff_notice_approve(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	static const char *const known[] = { "text_sha256", NULL };
	char holidays[NOTICES_HOLIDAYS_MAX * 11 + 3];
	const char *target = router_param(&req->match, "id");
	long long id;
	json_t *errors, *n = NULL;

	if (!validate_path_id_or_reply(req, resp, "id", &id))
		return HTTP_DONE;
	if (!req->staff.approver)
		return api_staff_refuse(req, resp, "notice.approve", target, "not_approver", PROBLEM_NOT_APPROVER,
					"approving notices needs the approver permission");
	const char *sha = json_string_value(json_object_get(req->json, "text_sha256"));
	errors = json_array();
	bool parsed = errors && validate_unknown_members(errors, req->json, "", known) &&
		      ((sha && strlen(sha) == 64 && strspn(sha, "0123456789abcdef") == 64) ||
		       validate_error(errors, "text_sha256", "must be the text_sha256 of the notice you read"));
	enum http_outcome early;
	if (!errors_or_reply(req, resp, errors, parsed, &early))
		return early;
	/* the 404 and the own-notice refusal first, as for a role change, then the re-authentication */
	PGconn *conn = http_db(req);
	if (!conn || !notices_store_get(conn, req->scope_office, id, &n))
		return HTTP_FAILED;
	if (!n)
		return api_staff_refuse(req, resp, "notice.approve", target, "not_found", PROBLEM_NOT_FOUND, NULL);
	bool own = strcmp(json_string_value(json_object_get(n, "author")), req->staff.login) == 0;
	json_decref(n);
	if (own)
		return api_staff_refuse(req, resp, "notice.approve", target, "own_notice", PROBLEM_OWN_NOTICE,
					"another approver must approve your notice");
	enum http_outcome stale;
	if (!staff_reauth_fresh_or_reply(app, req, resp, &stale))
		return stale == HTTP_DONE && !api_staff_audit_denied(req, "notice.approve", target, "reauth_required")
			       ? HTTP_FAILED
			       : stale;
	if (!notices_holidays_array(app->cfg->notices_holidays, holidays, sizeof(holidays)))
		return HTTP_FAILED; /* checked at start-up */
	struct notice_actor who = actor_of(req);
	enum notice_change r = notices_store_approve(conn, req->scope_office, id, sha, holidays, &who, &n);
	return change_reply(req, resp, r, "notice.approve", target, n);
}

enum http_outcome api_staff_notice_withdraw(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	const char *target = router_param(&req->match, "id");
	long long id;
	json_t *n = NULL;

	(void)app;
	if (!validate_path_id_or_reply(req, resp, "id", &id))
		return HTTP_DONE;
	PGconn *conn = http_db(req);
	if (!conn)
		return HTTP_FAILED;
	struct notice_actor who = actor_of(req);
	enum notice_change r = notices_store_withdraw(conn, req->scope_office, id, &who, &n);
	return change_reply(req, resp, r, "notice.withdraw", target, n);
}

/* The report of notice id in scope into *out (NULL: answered 404). False on a database error. */
static bool report_or_reply(struct http_req *req, struct http_resp *resp, long long id, json_t **out)
{
	PGconn *conn = http_db(req);

	if (!conn || !notices_store_report(conn, req->scope_office, id, out))
		return false;
	if (!*out)
		http_resp_problem(resp, req, PROBLEM_NOT_FOUND, NULL, NULL);
	return true;
}

enum http_outcome api_staff_notice_report(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	long long id;
	json_t *r = NULL;

	(void)app;
	if (!validate_path_id_or_reply(req, resp, "id", &id))
		return HTTP_DONE;
	if (!report_or_reply(req, resp, id, &r))
		return HTTP_FAILED;
	if (r)
		http_resp_json(resp, 200, r);
	return HTTP_DONE;
}

/* The report as a two-column table: measure, value; failures as failed:REASON, mails as emailed:STATE. */
static enum http_outcome report_export(const struct app *app, struct http_req *req, struct http_resp *resp, bool xlsx)
{
	static const char *const headers[] = { "measure", "value" };
	static const char *const plain[] = { "notice_id", "state",     "targeted", "alerts", "read",
					     "pushed",	  "delivered", "pending",  "failed", "emailed" };
	enum { MAX_ROWS = 64 };
	char values[MAX_ROWS][32], names[MAX_ROWS][96], filename[48];
	const char *cells[MAX_ROWS * 2];
	size_t rows = 0;
	long long id;
	json_t *r = NULL, *v;
	const char *k;

	if (!validate_path_id_or_reply(req, resp, "id", &id))
		return HTTP_DONE;
	if (!report_or_reply(req, resp, id, &r))
		return HTTP_FAILED;
	if (!r)
		return HTTP_DONE;
	enum http_outcome stale;
	if (!staff_reauth_fresh_or_reply(app, req, resp, &stale)) {
		json_decref(r);
		return stale;
	}
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++, rows++) {
		v = json_object_get(r, plain[i]);
		snprintf(names[rows], sizeof(names[rows]), "%s", plain[i]);
		if (json_is_string(v))
			snprintf(values[rows], sizeof(values[rows]), "%s", json_string_value(v));
		else
			snprintf(values[rows], sizeof(values[rows]), "%lld", (long long)json_integer_value(v));
	}
	const char *groups[2] = { "failed_by_reason", "emailed_by_state" };
	for (int g = 0; g < 2; g++)
		json_object_foreach(json_object_get(r, groups[g]), k, v) {
			if (rows >= MAX_ROWS)
				break;
			snprintf(names[rows], sizeof(names[rows]), "%s:%s", g ? "emailed" : "failed", k);
			snprintf(values[rows], sizeof(values[rows]), "%lld", (long long)json_integer_value(v));
			rows++;
		}
	for (size_t i = 0; i < rows; i++) {
		cells[i * 2] = names[i];
		cells[i * 2 + 1] = values[i];
	}
	json_decref(r);
	struct staff_export t = { .sheet = "notice", .ncols = 2, .headers = headers, .nrows = rows, .cells = cells };
	snprintf(filename, sizeof(filename), "notice-%lld-report", id);
	return api_staff_export_send(req, resp, xlsx, &t, filename);
}

enum http_outcome api_staff_notice_report_csv(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	return report_export(app, req, resp, false);
}

enum http_outcome api_staff_notice_report_xlsx(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	return report_export(app, req, resp, true);
}
