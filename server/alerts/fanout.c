/*
 * fanout.c - alerts and outbox rows for stored events (see fanout.h).
 *
 * Three statements per batch, whatever its size: recipients of every unit
 * in the batch, history for the rules that need it, then one INSERT of all
 * alerts with their outbox rows. Decisions (rules, language, quiet hours)
 * are made here in C by the pure functions of rules.c and alertfmt.c.
 */
#include "alerts/fanout.h"
#include "core/clock.h"
#include "alerts/alertfmt.h"
#include "core/buf.h"
#include "core/config.h"
#include "db/db.h"
#include "ingest/event.h"
#include "core/log.h"
#include "alerts/rules.h"
#include "mail/mailfmt.h"
#include "mail/message.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define FANOUT_MAX_SQL_PARAM (64u * 1024 * 1024)

/* Rules in the order that names an alert when several fire: the strongest signal first. */
static const enum rule_id rule_priority[] = { RULE_SAME_CERTIFICATE, RULE_SIGNATURE_GAP,   RULE_CASH_WITHDRAWAL,
					      RULE_RAPID_REPEAT,     RULE_NEW_BENEFICIARY, RULE_LARGE_AMOUNT,
					      RULE_REJECTED,	     RULE_OFF_HOURS };

struct recipient {
	long long user_id;
	const char *unit_code, *office_code, *lang, *quiet_from, *quiet_to;
	bool privacy;
	long long large_threshold; /* 0: the configured default */
	long long min_amount;
	json_t *toggles;
	json_t *devices; /* [[id, platform], ...] */
	/* the e-mail fallback (docs/alerts.md "E-mail fallback") */
	bool reachable;					 /* a reachable device (docs/coverage.md) */
	const char *email, *contact_email, *office_name; /* NULL when none */
};

/* o.a.b.c (b and c may be NULL), or NULL when any step is missing. */
static const json_t *member_at(const json_t *o, const char *a, const char *b, const char *c)
{
	const json_t *v = json_object_get(o, a);
	if (b)
		v = json_object_get(v, b);
	if (c)
		v = json_object_get(v, c);
	return v;
}

static const char *str_at(const json_t *o, const char *a, const char *b, const char *c)
{
	return json_string_value(member_at(o, a, b, c));
}

static int64_t time_of(const char *s)
{
	int64_t us = 0;
	return s && event_parse_rfc3339(s, &us) ? us : 0;
}

/* Minutes since local midnight of "HH:MM". */
static int hhmm(const char *s)
{
	return (s[0] - '0') * 600 + (s[1] - '0') * 60 + (s[3] - '0') * 10 + (s[4] - '0');
}

/*
 * When an info alert is due: now, or the end of the user's quiet hours
 * [from, to) in Vietnam time when now falls inside them (windows may wrap
 * midnight). Returns seconds since the epoch.
 */
static int64_t due_at(int64_t now_s, const char *from, const char *to)
{
	if (!from || !to)
		return now_s;
	int64_t local = now_s + CLOCK_VN_OFFSET_SECONDS;
	int minute = (int)((local % 86400) / 60);
	int f = hhmm(from), t = hhmm(to);
	bool inside = f < t ? (minute >= f && minute < t) : (minute >= f || minute < t);
	if (!inside)
		return now_s;
	int64_t midnight = local - local % 86400;
	int64_t end = midnight + (int64_t)t * 60;
	if (end <= local)
		end += 86400; /* the window ends tomorrow morning */
	return end - CLOCK_VN_OFFSET_SECONDS;
}

static void iso(int64_t s, char out[32])
{
	time_t t = (time_t)s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool load_recipients(PGconn *conn, const struct config *cfg, const struct fanout_event *events, size_t n, PGresult **out)
{
	struct buf units;
	char active_days[24];

	buf_init(&units, FANOUT_MAX_SQL_PARAM);
	buf_append(&units, "{", 1);
	for (size_t i = 0; i < n; i++)
		buf_printf(&units, "%s%s", i ? "," : "", events[i].unit_code); /* 7 digits, checked at ingest */
	buf_append(&units, "}", 1);
	snprintf(active_days, sizeof(active_days), "%lld", cfg->coverage_active_days);
	const char *params[2] = { units.data, active_days };
	*out = buf_ok(&units)
		       ? db_exec(conn,
				 "SELECT u.id, u.unit_code, b.office_code, b.privacy_mode, COALESCE(b.large_amount_threshold, 0),"
				 " COALESCE(p.lang, 'vi'), COALESCE(p.min_amount, 0), to_char(p.quiet_from, 'HH24:MI'),"
				 " to_char(p.quiet_to, 'HH24:MI'), COALESCE(p.toggles, '{}')::text,"
				 " COALESCE((SELECT json_agg(json_build_array(d.id, d.platform) ORDER BY d.id) FROM devices d"
				 "   WHERE d.user_id = u.id AND d.state = 'active'"
				 /* a phone whose access token lapsed (idle or past its lifetime) must activate again first */
				 "   AND (d.access_token_expires_at IS NULL OR d.access_token_expires_at > now())), '[]')::text,"
				 /* reachable as docs/coverage.md defines it: no reachable phone, an e-mail for a risk alert */
				 " EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id AND d.state = 'active'"
				 "   AND d.push_token IS NOT NULL AND d.last_seen_at > now() - make_interval(days => $2::int)),"
				 " u.email, b.contact_email, o.name"
				 " FROM users u JOIN budget_units b ON b.code = u.unit_code JOIN offices o ON o.code = b.office_code"
				 " LEFT JOIN user_preferences p ON p.user_id = u.id"
				 " WHERE u.unit_code = ANY($1::text[]) AND u.active AND b.active ORDER BY u.id",
				 2, params)
		       : NULL;
	buf_free(&units);
	return *out != NULL;
}

/*
 * History for new_beneficiary / rapid_repeat and "seen before", one row per
 * voucher event, keyed by index. Only earlier events of the event's own
 * source count, so that another source (scoped to the same unit, or leaked)
 * cannot switch the rules off in advance with a forged voucher or payment.
 * "Seen before" is the same voucher: the same number and the same
 * dossier_code (both absent counts as the same), since numbers are reused.
 */
static bool load_history(PGconn *conn, const struct config *cfg, const struct fanout_event *events, size_t n,
			 bool *paid_before, bool *recent, bool *seen_before)
{
	struct buf k, u, id, acct, num, amt, o;
	char window[24];
	bool ok = false, any = false;
	PGresult *res = NULL;
	struct buf *all[] = { &k, &u, &id, &acct, &num, &amt, &o };

	for (size_t i = 0; i < 7; i++) {
		buf_init(all[i], FANOUT_MAX_SQL_PARAM);
		buf_append(all[i], "[", 1);
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *ev = events[i].event;
		const char *a = str_at(json_object_get(ev, "data"), "voucher", "beneficiary", "account");
		if (strcmp(json_string_value(json_object_get(ev, "type")), "voucher.status_changed") != 0)
			continue;
		/* arrays travel as JSON, built by jansson, so no value needs escaping by hand */
		json_t *row =
			json_pack("[i,s,I,s?,s,I,s,I,s?]", (int)i, events[i].unit_code, (json_int_t)events[i].event_id, a,
				  str_at(json_object_get(ev, "data"), "voucher", "number", NULL),
				  json_integer_value(member_at(json_object_get(ev, "data"), "voucher", "amount", NULL)),
				  json_string_value(json_object_get(ev, "occurred_at")), (json_int_t)events[i].source_id,
				  str_at(json_object_get(ev, "data"), "voucher", "dossier_code", NULL));
		char *text = row ? json_dumps(row, JSON_COMPACT) : NULL;
		json_decref(row);
		if (!text)
			goto out;
		buf_printf(&k, "%s%s", any ? "," : "", text);
		free(text);
		any = true;
	}
	if (!any) {
		ok = true;
		goto out;
	}
	buf_append(&k, "]", 1);
	snprintf(window, sizeof(window), "%lld", cfg->risk_repeat_window_minutes);
	const char *params[2] = { k.data, window };
	res = db_exec(conn,
		      "SELECT (i->>0)::int,"
		      " EXISTS (SELECT 1 FROM events e WHERE e.source_id = (i->>7)::bigint AND e.unit_code = i->>1"
		      "   AND e.type = 'voucher.status_changed'"
		      "   AND (e.payload->'data'->'voucher'->'beneficiary'->>'account') = i->>3 AND e.id <> (i->>2)::bigint"
		      "   AND e.payload->'data'->'voucher'->>'number' <> i->>4 AND e.occurred_at <= (i->>6)::timestamptz),"
		      " EXISTS (SELECT 1 FROM events e WHERE e.source_id = (i->>7)::bigint AND e.unit_code = i->>1"
		      "   AND e.type = 'voucher.status_changed'"
		      "   AND (e.payload->'data'->'voucher'->'beneficiary'->>'account') = i->>3 AND e.id <> (i->>2)::bigint"
		      "   AND e.payload->'data'->'voucher'->>'number' <> i->>4"
		      "   AND (e.payload->'data'->'voucher'->>'amount')::bigint = (i->>5)::bigint"
		      "   AND e.occurred_at > (i->>6)::timestamptz - make_interval(mins => $2::int)"
		      "   AND e.occurred_at <= (i->>6)::timestamptz),"
		      " EXISTS (SELECT 1 FROM events e WHERE e.source_id = (i->>7)::bigint AND e.unit_code = i->>1"
		      "   AND e.type = 'voucher.status_changed' AND e.payload->'data'->'voucher'->>'number' = i->>4"
		      "   AND e.payload->'data'->'voucher'->>'dossier_code' IS NOT DISTINCT FROM i->>8"
		      "   AND e.id < (i->>2)::bigint)"
		      " FROM jsonb_array_elements($1::jsonb) AS i",
		      2, params);
	if (!res)
		goto out;
	for (int r = 0; r < PQntuples(res); r++) {
		long idx = strtol(PQgetvalue(res, r, 0), NULL, 10);
		if (idx >= 0 && (size_t)idx < n) {
			paid_before[idx] = strcmp(PQgetvalue(res, r, 1), "t") == 0;
			recent[idx] = strcmp(PQgetvalue(res, r, 2), "t") == 0;
			seen_before[idx] = strcmp(PQgetvalue(res, r, 3), "t") == 0;
		}
	}
	ok = true;
out:
	PQclear(res);
	for (size_t i = 0; i < 7; i++)
		buf_free(all[i]);
	return ok;
}

/* Fill the rule inputs from a voucher event. */
static void voucher_view(const json_t *ev, struct rules_voucher *v)
{
	const json_t *data = json_object_get(ev, "data");
	const json_t *vo = json_object_get(data, "voucher");
	const json_t *sigs = json_object_get(vo, "signatures");
	size_t i;
	const json_t *s;

	memset(v, 0, sizeof(*v));
	v->kind = json_string_value(json_object_get(vo, "kind"));
	v->form = json_string_value(json_object_get(vo, "form"));
	v->status = json_string_value(json_object_get(data, "status"));
	v->amount = json_integer_value(json_object_get(vo, "amount"));
	v->occurred_at_us = time_of(json_string_value(json_object_get(ev, "occurred_at")));
	v->submitted_at_us = v->status && strcmp(v->status, "submitted") == 0 ? v->occurred_at_us : 0;
	v->beneficiary_account = str_at(vo, "beneficiary", "account", NULL);
	json_array_foreach(sigs, i, s) {
		if (v->nsignatures >= 4)
			break;
		struct rules_signature *rs = &v->signatures[v->nsignatures++];
		rs->role = json_string_value(json_object_get(s, "role"));
		rs->signer = json_string_value(json_object_get(s, "signer"));
		rs->certificate_serial = json_string_value(json_object_get(s, "certificate_serial"));
		rs->signed_at_us = time_of(json_string_value(json_object_get(s, "signed_at")));
	}
}

static void event_view(const json_t *ev, struct alertfmt_event *out)
{
	const json_t *data = json_object_get(ev, "data");
	const json_t *vo = json_object_get(data, "voucher");

	memset(out, 0, sizeof(*out));
	out->type = json_string_value(json_object_get(ev, "type"));
	out->occurred_at_us = time_of(json_string_value(json_object_get(ev, "occurred_at")));
	if (vo) {
		out->account = json_string_value(json_object_get(vo, "account"));
		out->currency = json_string_value(json_object_get(vo, "currency"));
		out->amount = json_integer_value(json_object_get(vo, "amount"));
		out->voucher_number = json_string_value(json_object_get(vo, "number"));
		out->voucher_kind = json_string_value(json_object_get(vo, "kind"));
		out->voucher_form = json_string_value(json_object_get(vo, "form"));
		out->status = json_string_value(json_object_get(data, "status"));
		out->reason = json_string_value(json_object_get(data, "reason"));
	} else {
		out->account = json_string_value(json_object_get(data, "account"));
		out->currency = json_string_value(json_object_get(data, "currency"));
		out->amount = json_integer_value(json_object_get(data, "amount"));
		out->balance_after = json_integer_value(json_object_get(data, "balance_after"));
		out->description = json_string_value(json_object_get(data, "description"));
	}
}

static const char *opt(PGresult *res, int r, int c)
{
	return PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
}

static void recipient_at(PGresult *res, int r, struct recipient *rc)
{
	json_error_t e;

	rc->user_id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
	rc->unit_code = PQgetvalue(res, r, 1);
	rc->office_code = PQgetvalue(res, r, 2);
	rc->privacy = strcmp(PQgetvalue(res, r, 3), "t") == 0;
	rc->large_threshold = strtoll(PQgetvalue(res, r, 4), NULL, 10);
	rc->lang = PQgetvalue(res, r, 5);
	rc->min_amount = strtoll(PQgetvalue(res, r, 6), NULL, 10);
	rc->quiet_from = opt(res, r, 7);
	rc->quiet_to = opt(res, r, 8);
	rc->toggles = json_loads(PQgetvalue(res, r, 9), 0, &e);
	rc->devices = json_loads(PQgetvalue(res, r, 10), 0, &e);
	rc->reachable = strcmp(PQgetvalue(res, r, 11), "t") == 0;
	rc->email = opt(res, r, 12);
	rc->contact_email = opt(res, r, 13);
	rc->office_name = PQgetvalue(res, r, 14);
}

/*
 * The e-mail fallback of a risk alert for rc, who has no reachable phone:
 * to rc's own address, else the unit's contact address, once per event and
 * address (*sent holds the addresses this event already mails, at most
 * FANOUT_MAIL_PER_EVENT). Adds ma, mk, ms, mb to row; nothing when there is
 * no usable address or it was mailed already. False on a text that does not
 * fit or memory.
 */
#define FANOUT_MAIL_PER_EVENT 64
static bool add_fallback(json_t *row, const struct recipient *rc, const struct alertfmt_event *view, const char *rule,
			 const char **sent, size_t *nsent)
{
	char subject[MAILFMT_SUBJECT_MAX], body[MAILFMT_BODY_MAX];
	/* mail_addr_ok is stricter than the roster's check: an address mail_outbox would refuse is skipped */
	const char *addr = rc->email && mail_addr_ok(rc->email) ? rc->email : NULL;
	const char *kind = "user";

	if (!addr && rc->contact_email && mail_addr_ok(rc->contact_email)) {
		addr = rc->contact_email;
		kind = "unit_contact";
	}
	if (!addr || *nsent >= FANOUT_MAIL_PER_EVENT)
		return true;
	for (size_t k = 0; k < *nsent; k++)
		if (strcasecmp(sent[k], addr) == 0)
			return true;
	if (!mailfmt_fallback(alertfmt_lang(rc->lang), rule, view->occurred_at_us, rc->unit_code, rc->office_name,
			      subject, body))
		return false;
	sent[(*nsent)++] = addr;
	return json_object_set_new(row, "ma", json_string(addr)) == 0 &&
	       json_object_set_new(row, "mk", json_string(kind)) == 0 &&
	       json_object_set_new(row, "ms", json_string(subject)) == 0 &&
	       json_object_set_new(row, "mb", json_string(body)) == 0;
}

#define COLLAPSE_HASH_BYTES 16
#define COLLAPSE_MAX (4 + 2 * COLLAPSE_HASH_BYTES + 1)

/*
 * The collapse key of a balance alert of view's account into out: a phone
 * that was offline shows only the latest balance of an account. NULL when
 * there is none (no key, no account, not a balance alert).
 */
static const char *collapse_of(const unsigned char *key, const struct alertfmt_event *view, char out[COLLAPSE_MAX])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	if (!key || !view->account || !view->account[0] || strcmp(view->type, "balance.changed") != 0)
		return NULL;
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key, FANOUT_COLLAPSE_KEY_BYTES);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)view->account, strlen(view->account));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
	memcpy(out, "bal-", 4);
	sodium_bin2hex(out + 4, COLLAPSE_MAX - 4, mac, COLLAPSE_HASH_BYTES);
	return out;
}

/* One alert (with its devices) as an element of the insert statement's jsonb array. */
static json_t *alert_row(const struct fanout_event *fe, const struct recipient *rc, const struct alertfmt_event *view,
			 unsigned fired, const char *rule, bool privacy, int64_t due_s, const char *collapse)
{
	char title[ALERTFMT_TITLE_MAX], body[ALERTFMT_BODY_MAX], due[32];
	enum alert_lang lang = strcmp(rc->lang, "en") == 0 ? ALERT_LANG_EN : ALERT_LANG_VI;
	json_t *rules = json_array();

	/*
	 * The alert keeps the full text: the app reads it over its authenticated
	 * API. Privacy mode governs only what the push itself carries through
	 * Google or Apple (details.push_privacy, honoured by the dispatcher).
	 */
	if (!alertfmt_render(view, rule, lang, false, title, body)) {
		json_decref(rules);
		return NULL;
	}
	for (int r = 0; r < RULE__COUNT; r++)
		if (fired & (1u << r))
			json_array_append_new(rules, json_string(rules_name((enum rule_id)r)));
	iso(due_s, due);
	return json_pack("{s:I,s:s,s:I,s:s,s:s,s:s,s:s,s:s?,s:s,s:s,s:s,s:{s:s,s:o,s:b},s:s,s:s,s:s?,s:O}", "e",
			 (json_int_t)fe->event_id, "eo", json_string_value(json_object_get(fe->event, "occurred_at")),
			 "u", (json_int_t)rc->user_id, "unit", rc->unit_code, "office", rc->office_code, "kind",
			 view->type, "sev", rule ? "risk" : "info", "rule", rule, "lang", rc->lang, "title", title,
			 "body", body, "details", "event_type", view->type, "risk_rules", rules, "push_privacy", privacy,
			 "due", due, "prio", rule ? "high" : "normal", "ck", rule ? NULL : collapse, "devs", rc->devices);
}

/* Should an info alert be skipped for this user's preferences? */
static bool muted(const struct recipient *rc, const struct alertfmt_event *view)
{
	long long magnitude = view->amount < 0 ? -view->amount : view->amount;

	if (json_is_false(json_object_get(rc->toggles, view->type)))
		return true;
	return rc->min_amount > 0 && magnitude < rc->min_amount;
}

bool fanout_events(PGconn *conn, const struct config *cfg, const unsigned char *collapse_key,
		   const struct fanout_event *events, size_t n, long long *alerts)
{
	PGresult *rec = NULL, *res = NULL;
	bool *paid_before = calloc(n + 1, sizeof(bool)), *recent = calloc(n + 1, sizeof(bool));
	bool *seen_before = calloc(n + 1, sizeof(bool));
	struct recipient *rcs = NULL;
	json_t *rows = json_array();
	char *text = NULL;
	bool ok = false;
	int64_t now_s = clock_wall_us() / 1000000;

	*alerts = 0;
	if (!paid_before || !recent || !seen_before || !rows)
		goto out;
	if (n == 0) {
		ok = true;
		goto out;
	}
	if (!load_recipients(conn, cfg, events, n, &rec) ||
	    !load_history(conn, cfg, events, n, paid_before, recent, seen_before))
		goto out;
	int nrec = PQntuples(rec);
	rcs = calloc((size_t)nrec + 1, sizeof(*rcs));
	if (!rcs)
		goto out;
	for (int r = 0; r < nrec; r++)
		recipient_at(rec, r, &rcs[r]);
	for (size_t i = 0; i < n; i++) {
		struct alertfmt_event view;
		char collapse_buf[COLLAPSE_MAX];
		event_view(events[i].event, &view);
		const char *collapse = collapse_of(collapse_key, &view, collapse_buf);
		const char *mailed[FANOUT_MAIL_PER_EVENT];
		size_t nmailed = 0;
		for (int r = 0; r < nrec; r++) {
			struct recipient *rc = &rcs[r];
			if (strcmp(rc->unit_code, events[i].unit_code) != 0)
				continue;
			struct rules_config rcfg;
			rules_config_default(&rcfg); /* working hours stay the treasury's; the rest is configured */
			rcfg.signature_gap_seconds = (int)cfg->risk_signature_gap_seconds;
			rcfg.large_amount_threshold =
				rc->large_threshold > 0 ? rc->large_threshold : cfg->risk_large_amount_vnd;
			rcfg.repeat_window_minutes = (int)cfg->risk_repeat_window_minutes;
			unsigned fired;
			if (strcmp(view.type, "voucher.status_changed") == 0) {
				struct rules_voucher v;
				struct rules_history hist = { paid_before[i], recent[i] };
				voucher_view(events[i].event, &v);
				fired = rules_voucher(&v, &hist, &rcfg);
				/* how a voucher was signed, its size and timing are news once: at its first status */
				if (seen_before[i])
					fired &= ~((1u << RULE_SIGNATURE_GAP) | (1u << RULE_SAME_CERTIFICATE) |
						   (1u << RULE_LARGE_AMOUNT) | (1u << RULE_OFF_HOURS));
			} else {
				fired = rules_balance(view.amount, &rcfg);
			}
			const char *rule = NULL;
			for (size_t p = 0; p < sizeof(rule_priority) / sizeof(rule_priority[0]) && !rule; p++)
				if (fired & (1u << rule_priority[p]))
					rule = rules_name(rule_priority[p]);
			/* risk alerts are never muted and never wait for quiet hours */
			if (!rule && muted(rc, &view))
				continue;
			int64_t due = rule ? now_s : due_at(now_s, rc->quiet_from, rc->quiet_to);
			json_t *row = alert_row(&events[i], rc, &view, fired, rule,
						rc->privacy || cfg->alerts_privacy_mode, due, collapse);
			if (!row || (rule && !rc->reachable && !add_fallback(row, rc, &view, rule, mailed, &nmailed)) ||
			    json_array_append_new(rows, row))
				goto out;
		}
	}
	if (json_array_size(rows) == 0) {
		ok = true;
		goto out;
	}
	text = json_dumps(rows, JSON_COMPACT);
	if (!text)
		goto out;
	const char *params[1] = { text };
	res = db_exec(
		conn,
		"WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS (e bigint, eo timestamptz, u bigint,"
		"   unit text, office text, kind text, sev alert_severity, rule text, lang text, title text, body text,"
		"   details jsonb, due timestamptz, prio text, ck text, devs jsonb, ma text, mk text, ms text, mb text)),"
		" a AS (INSERT INTO alerts (event_id, event_occurred_at, user_id, unit_code, office_code, kind, severity,"
		"   risk_rule, lang, title, body, details)"
		"   SELECT e, eo, u, unit, office, kind, sev, rule, lang, title, body, details FROM input"
		"   ON CONFLICT DO NOTHING RETURNING id, event_id, user_id),"
		" o AS (INSERT INTO push_outbox (alert_id, device_id, provider, due_at, priority, collapse_key)"
		"   SELECT a.id, (d->>0)::bigint, CASE d->>1 WHEN 'ios' THEN 'apns' ELSE 'fcm' END, i.due, i.prio, i.ck"
		"   FROM a JOIN input i ON i.e = a.event_id AND i.u = a.user_id, jsonb_array_elements(i.devs) d"
		"   ORDER BY a.id RETURNING id),"
		/* the e-mail fallback of risk alerts nobody's phone can receive (one per event and address) */
		" m AS (INSERT INTO mail_outbox (purpose, alert_id, user_id, unit_code, office_code, to_kind, to_addr,"
		"   lang, subject, body)"
		"   SELECT 'fallback', a.id, a.user_id, i.unit, i.office, i.mk, i.ma, i.lang, i.ms, i.mb"
		"   FROM a JOIN input i ON i.e = a.event_id AND i.u = a.user_id WHERE i.ma IS NOT NULL"
		"   ON CONFLICT DO NOTHING RETURNING id)"
		" SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM o), (SELECT count(*) FROM m)",
		1, params);
	if (!res)
		goto out;
	*alerts = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	if (strtoll(PQgetvalue(res, 0, 1), NULL, 10) > 0) {
		/* delivered to listening dispatchers when this transaction commits, not before */
		PGresult *note = db_exec(conn, "SELECT pg_notify('alertd_outbox', '')", 0, NULL);
		if (!note)
			goto out;
		PQclear(note);
	}
	ok = true;
out:
	for (int r = 0; rcs && rec && r < PQntuples(rec); r++) {
		json_decref(rcs[r].toggles);
		json_decref(rcs[r].devices);
	}
	free(rcs);
	free(text);
	json_decref(rows);
	PQclear(res);
	PQclear(rec);
	free(paid_before);
	free(recent);
	free(seen_before);
	return ok;
}

bool fanout_reroute(PGconn *conn, const struct config *cfg, const unsigned char *collapse_key, long long *routed,
		    long long *alerts)
{
	char hours[24];
	PGresult *res = NULL;
	struct fanout_event *evs = NULL;
	json_t **parsed = NULL;
	bool ok = false;
	int n = 0;

	*routed = *alerts = 0;
	snprintf(hours, sizeof(hours), "%lld", cfg->alerts_reroute_max_age_hours);
	if (!db_begin(conn))
		return false;
	/*
	 * every unrouted event whose unit is now known gets routed, if its source's scope covers
	 * the unit's office (others stay unrouted); only young ones get alerts
	 */
	const char *params[1] = { hours };
	res = db_exec(conn,
		      "UPDATE events e SET routed_at = now() FROM budget_units b"
		      " WHERE e.routed_at IS NULL AND b.code = e.unit_code AND b.active"
		      "   AND alertd_source_covers(e.source_id, e.unit_code, e.office_code)"
		      " RETURNING e.id, e.unit_code, e.payload::text, e.occurred_at > now() - make_interval(hours => $1::int),"
		      "   e.source_id",
		      1, params);
	if (!res)
		goto out;
	n = PQntuples(res);
	evs = calloc((size_t)n + 1, sizeof(*evs));
	parsed = calloc((size_t)n + 1, sizeof(*parsed));
	if (!evs || !parsed)
		goto out;
	size_t young = 0;
	for (int r = 0; r < n; r++) {
		if (strcmp(PQgetvalue(res, r, 3), "t") != 0)
			continue;
		json_error_t e;
		parsed[young] = json_loads(PQgetvalue(res, r, 2), 0, &e);
		if (!parsed[young])
			continue;
		evs[young].event_id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
		evs[young].source_id = strtoll(PQgetvalue(res, r, 4), NULL, 10);
		evs[young].unit_code = PQgetvalue(res, r, 1);
		evs[young].event = parsed[young];
		young++;
	}
	if (!fanout_events(conn, cfg, collapse_key, evs, young, alerts))
		goto out;
	if (!db_commit(conn))
		goto out;
	*routed = n;
	ok = true;
out:
	if (!ok)
		db_rollback(conn);
	for (int i = 0; parsed && i < n; i++)
		json_decref(parsed[i]);
	free(parsed);
	free(evs);
	PQclear(res);
	return ok;
}
