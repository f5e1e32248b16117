/*
 * coverage.c - the staff's coverage queries (see coverage.h): reads of the
 * tables the refresh maintains (migration 0014), each bounded by the
 * caller's scope through alertd_office_in_scope / alertd_office_subtree.
 */
#include "staff/coverage.h"
#include "core/log.h"
#include "db/audit.h"
#include "db/db.h"
#include "store/store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const coverage_sort_names[] = { "worst", "code", "name", NULL };
const char *const coverage_status_names[] = { "protected", "partial", "unprotected", "not_protected", NULL };

#define TODAY_VN "(now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"

/* The figures of a coverage_offices or coverage_daily row f (absent row: zeros), in fig_col order. */
#define FIGURES(f)                                                                                                        \
	"COALESCE(" f ".units, 0), COALESCE(" f ".protected, 0), COALESCE(" f ".partial, 0),"                             \
	" COALESCE(" f ".unprotected, 0),"                                                                                \
	" COALESCE(round(100.0 * " f ".protected / NULLIF(" f ".units, 0), 2), 0)::text,"                                 \
	" COALESCE(" f ".never_installed, 0), COALESCE(" f ".installed_unreachable, 0), COALESCE(" f ".users, 0),"        \
	" COALESCE(" f ".covered_users, 0), COALESCE(" f ".reachable_devices, 0), COALESCE(" f ".shared_phone_units, 0)," \
	" COALESCE(" f ".volume_30d, 0)::text, COALESCE(" f ".volume_at_risk, 0)::text,"                                  \
	" COALESCE(round(100.0 * " f ".volume_at_risk / NULLIF(" f ".volume_30d, 0), 2), 0)::text"

enum fig_col {
	FIG_UNITS,
	FIG_PROTECTED,
	FIG_PARTIAL,
	FIG_UNPROTECTED,
	FIG_PROTECTED_PCT,
	FIG_NEVER_INSTALLED,
	FIG_INSTALLED_UNREACHABLE,
	FIG_USERS,
	FIG_COVERED_USERS,
	FIG_REACHABLE_DEVICES,
	FIG_SHARED_PHONE_UNITS,
	FIG_VOLUME_30D,
	FIG_VOLUME_AT_RISK,
	FIG_MONEY_AT_RISK_PCT,
	FIG__COUNT
};

static const char *const fig_names[FIG__COUNT] = {
	[FIG_UNITS] = "units",
	[FIG_PROTECTED] = "protected",
	[FIG_PARTIAL] = "partial",
	[FIG_UNPROTECTED] = "unprotected",
	[FIG_PROTECTED_PCT] = "protected_pct",
	[FIG_NEVER_INSTALLED] = "never_installed",
	[FIG_INSTALLED_UNREACHABLE] = "installed_unreachable",
	[FIG_USERS] = "users",
	[FIG_COVERED_USERS] = "covered_users",
	[FIG_REACHABLE_DEVICES] = "reachable_devices",
	[FIG_SHARED_PHONE_UNITS] = "shared_phone_units",
	[FIG_VOLUME_30D] = "volume_30d",
	[FIG_VOLUME_AT_RISK] = "volume_at_risk",
	[FIG_MONEY_AT_RISK_PCT] = "money_at_risk_pct",
};

/*
 * Add the figures of row r, starting at column from, to obj: counts as
 * integers, percentages as numbers (two decimals, computed by the
 * database), VND as decimal strings. False when out of memory.
 */
static bool add_figures(json_t *obj, const PGresult *res, int r, int from)
{
	bool ok = obj != NULL;

	for (int c = 0; ok && c < FIG__COUNT; c++) {
		const char *v = PQgetvalue(res, r, from + c);
		json_t *j;
		if (c == FIG_VOLUME_30D || c == FIG_VOLUME_AT_RISK)
			j = json_string(v);
		else if (c == FIG_PROTECTED_PCT || c == FIG_MONEY_AT_RISK_PCT)
			j = json_real(strtod(v, NULL));
		else
			j = json_integer((json_int_t)store_int(res, r, from + c));
		ok = json_object_set_new(obj, fig_names[c], j) == 0;
	}
	return ok;
}

/* {"pct": number, "date"} from columns pct, date of row r, or JSON null when pct is NULL. */
static json_t *target_json(const PGresult *res, int r, int pct, int date)
{
	if (PQgetisnull(res, r, pct))
		return json_null();
	return json_pack("{s:f,s:s}", "pct", strtod(PQgetvalue(res, r, pct), NULL), "date", PQgetvalue(res, r, date));
}

/* ------------------------------------------------------------------ overview */

enum ov_col {
	OV_KIND, /* 0: the office asked for, 1: a child */
	OV_CODE,
	OV_NAME,
	OV_LEVEL,
	OV_COMPUTED_AT,
	OV_ACTIVE_DAYS,
	OV_TARGET_PCT,
	OV_TARGET_DATE,
	OV_FIGURES,
	OV__COUNT = OV_FIGURES + FIG__COUNT
};

static const char overview_sql[] =
	"SELECT x.kind, o.code, o.name, o.level,"
	" to_char(s.computed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), s.active_days,"
	" t.target_pct::text, t.target_date::text, " FIGURES(
		"f") " FROM"
		     " (SELECT 0 AS kind, code FROM offices WHERE code = $2 AND alertd_office_in_scope($1, $2)"
		     "  UNION ALL SELECT 1, c.code FROM offices c WHERE c.parent_code = $2 AND alertd_office_in_scope($1, $2)) x"
		     " JOIN offices o ON o.code = x.code"
		     " LEFT JOIN coverage_offices f ON f.office_code = o.code"
		     " LEFT JOIN coverage_targets t ON t.office_code = o.code AND x.kind = 0"
		     " LEFT JOIN coverage_refresh_state s ON x.kind = 0"
		     " ORDER BY x.kind, o.code";

static json_t *office_json(const PGresult *res, int r)
{
	return json_pack("{s:s,s:s,s:I}", "code", PQgetvalue(res, r, OV_CODE), "name", PQgetvalue(res, r, OV_NAME),
			 "level", (json_int_t)store_int(res, r, OV_LEVEL));
}

enum coverage_result coverage_overview(PGconn *conn, const char *scope, const char *office, json_t **out)
{
	const char *params[2] = { scope, office };
	PGresult *res = store_query(conn, "coverage_overview", overview_sql, 2, params, OV__COUNT);
	json_t *o = NULL, *children = NULL, *totals = NULL;

	*out = NULL;
	if (!res)
		return COVERAGE_ERROR;
	if (PQntuples(res) == 0 || store_int(res, 0, OV_KIND) != 0) {
		PQclear(res);
		return COVERAGE_NOT_FOUND;
	}
	children = json_array();
	totals = json_object();
	if (!children || !totals || !add_figures(totals, res, 0, OV_FIGURES))
		goto fail;
	for (int r = 1; r < PQntuples(res); r++) {
		json_t *c = office_json(res, r);
		if (!add_figures(c, res, r, OV_FIGURES) || json_array_append_new(children, c) != 0)
			goto fail;
	}
	o = json_pack("{s:o,s:o?,s:I,s:o,s:o,s:o}", "office", office_json(res, 0), "computed_at",
		      PQgetisnull(res, 0, OV_COMPUTED_AT) ? NULL : json_string(PQgetvalue(res, 0, OV_COMPUTED_AT)),
		      "active_days", (json_int_t)store_int(res, 0, OV_ACTIVE_DAYS), "totals", totals, "target",
		      target_json(res, 0, OV_TARGET_PCT, OV_TARGET_DATE), "children", children);
	totals = children = NULL; /* stolen, even when json_pack failed */
	if (!o)
		goto fail;
	PQclear(res);
	*out = o;
	return COVERAGE_OK;
fail:
	log_error("coverage_overview: out of memory building the answer");
	json_decref(totals);
	json_decref(children);
	PQclear(res);
	return COVERAGE_ERROR;
}

/* --------------------------------------------------------------------- trend */

enum tr_col { TR_DAY, TR_FIGURES, TR__COUNT = TR_FIGURES + FIG__COUNT };

static const char trend_sql[] =
	"SELECT f.day::text, " FIGURES("f") " FROM coverage_daily f"
					    " WHERE f.office_code = $2 AND alertd_office_in_scope($1, $2)"
					    " AND f.day > " TODAY_VN " - $3::int ORDER BY f.day";

enum coverage_result coverage_trend(PGconn *conn, const char *scope, const char *office, long long days, json_t **out)
{
	json_t *head = NULL, *points = NULL;
	PGresult *res = NULL;
	char d[STORE_ID_TEXT];
	enum coverage_result rc = coverage_overview(conn, scope, office, &head);

	*out = NULL;
	if (rc != COVERAGE_OK)
		return rc;
	const char *params[3] = { scope, office, store_id(d, days) };
	res = store_query(conn, "coverage_trend", trend_sql, 3, params, TR__COUNT);
	points = json_array();
	if (!res || !points)
		goto fail;
	for (int r = 0; r < PQntuples(res); r++) {
		json_t *p = json_pack("{s:s}", "day", PQgetvalue(res, r, TR_DAY));
		if (!add_figures(p, res, r, TR_FIGURES) || json_array_append_new(points, p) != 0)
			goto fail;
	}
	json_t *o = json_pack("{s:O,s:I,s:O,s:o}", "office", json_object_get(head, "office"), "days", (json_int_t)days,
			      "target", json_object_get(head, "target"), "points", points);
	points = NULL;
	if (!o)
		goto fail;
	json_decref(head);
	PQclear(res);
	*out = o;
	return COVERAGE_OK;
fail:
	if (res)
		log_error("coverage_trend: out of memory building the answer");
	json_decref(points);
	json_decref(head);
	PQclear(res);
	return COVERAGE_ERROR;
}

/* --------------------------------------------------------------------- units */

/*
 * A cursor is base64url (no padding) of a JSON array naming its sort and
 * the last row's keys: ["w", status, volume_30d, code], ["c", code] or
 * ["n", search_name, code]. Not a secret: a forged cursor only moves where
 * the page starts, inside the caller's scope.
 */
struct cursor_keys {
	char a[2100], b[64], c[16];
	int n; /* keys set: 0 = no cursor */
};

static bool digits(const char *s, size_t min, size_t max)
{
	size_t n = strspn(s, "0123456789");
	return s[n] == '\0' && n >= min && n <= max;
}

static bool volume_ok(const char *s)
{
	size_t n = strspn(s, "0123456789");
	if (n < 1 || n > 40)
		return false;
	return s[n] == '\0' || (s[n] == '.' && digits(s + n + 1, 1, 20));
}

static bool parse_cursor(enum coverage_sort sort, const char *text, struct cursor_keys *k)
{
	unsigned char bin[COVERAGE_CURSOR_MAX / 4 * 3 + 3];
	size_t len = 0;
	json_t *a = NULL;
	bool ok = false;

	memset(k, 0, sizeof(*k));
	if (!text)
		return true;
	if (strlen(text) > COVERAGE_CURSOR_MAX || sodium_base642bin(bin, sizeof(bin), text, strlen(text), NULL, &len,
								    NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return false;
	a = json_loadb((const char *)bin, len, JSON_REJECT_DUPLICATES, NULL);
	static const char tags[COVERAGE_SORT__COUNT][2] = { "w", "c", "n" };
	static const size_t sizes[COVERAGE_SORT__COUNT] = { 4, 2, 3 };
	if (!json_is_array(a) || json_array_size(a) != sizes[sort])
		goto out;
	for (size_t i = 0; i < json_array_size(a); i++)
		if (!json_is_string(json_array_get(a, i)))
			goto out;
	if (strcmp(json_string_value(json_array_get(a, 0)), tags[sort]) != 0)
		goto out;
	const char *v1 = json_string_value(json_array_get(a, 1));
	const char *v2 = sizes[sort] > 2 ? json_string_value(json_array_get(a, 2)) : NULL;
	const char *v3 = sizes[sort] > 3 ? json_string_value(json_array_get(a, 3)) : NULL;
	switch (sort) {
	case COVERAGE_SORT_WORST:
		ok = (strcmp(v1, "protected") == 0 || strcmp(v1, "partial") == 0 || strcmp(v1, "unprotected") == 0) &&
		     volume_ok(v2) && digits(v3, 7, 7);
		if (ok) {
			snprintf(k->a, sizeof(k->a), "%s", v1);
			snprintf(k->b, sizeof(k->b), "%s", v2);
			snprintf(k->c, sizeof(k->c), "%s", v3);
			k->n = 3;
		}
		break;
	case COVERAGE_SORT_CODE:
		ok = digits(v1, 7, 7);
		if (ok) {
			snprintf(k->a, sizeof(k->a), "%s", v1);
			k->n = 1;
		}
		break;
	case COVERAGE_SORT_NAME:
		ok = strlen(v1) < sizeof(k->a) && digits(v2, 7, 7);
		if (ok) {
			snprintf(k->a, sizeof(k->a), "%s", v1);
			snprintf(k->b, sizeof(k->b), "%s", v2);
			k->n = 2;
		}
		break;
	case COVERAGE_SORT__COUNT:
		break;
	}
out:
	json_decref(a);
	return ok;
}

bool coverage_cursor_ok(enum coverage_sort sort, const char *text)
{
	struct cursor_keys k;
	return sort >= 0 && sort < COVERAGE_SORT__COUNT && parse_cursor(sort, text, &k);
}

enum unit_col {
	U_CODE,
	U_NAME,
	U_OFFICE_CODE,
	U_OFFICE_NAME,
	U_STATUS,
	U_MISSING_ROLES, /* JSON array text */
	U_NEVER_INSTALLED,
	U_INSTALLED_UNREACHABLE,
	U_SHARED_PHONE,
	U_USERS,
	U_COVERED_USERS,
	U_REACHABLE_DEVICES,
	U_UNREACHABLE_DEVICES,
	U_NEVER_INSTALLED_USERS,
	U_UNREACHABLE_USERS,
	U_HOLDERS,
	U_CHIEFS,
	U_VOLUME_30D,
	U_CONTACT_EMAIL,
	U_CONTACT_PHONE,
	U_CONTACTS, /* JSON array text */
	U_SEARCH_NAME,
	U__COUNT
};

/*
 * $1 scope, $2 office (checked in scope first), $3 status filter, $4 q
 * (LIKE-escaped, folded here), $5-$7 the cursor's keys, $8 limit + 1, $9
 * active_days. The contacts are the unit's active users with no reachable
 * device now (at most 20, holders and chiefs first).
 */
/*
 * Every column that only describes a unit already chosen (its name, office
 * name, contact details, whom to call) is a scalar subquery: PostgreSQL
 * evaluates those after ORDER BY ... LIMIT, for the page's rows only, so
 * the filter and the sort run over coverage_units alone.
 */
#define UNITS_SELECT                                                                                                           \
	"SELECT c.unit_code, (SELECT b.name FROM budget_units b WHERE b.code = c.unit_code), c.office_code,"                   \
	" (SELECT o.name FROM offices o WHERE o.code = c.office_code), c.status::text, to_json(c.missing_roles)::text,"        \
	" NOT c.ever_installed, c.status <> 'protected' AND c.unreachable_users > 0, c.shared_phone, c.users,"                 \
	" c.covered_users, c.reachable_devices, c.unreachable_devices, c.never_installed_users, c.unreachable_users,"          \
	" c.holders, c.chiefs, c.volume_30d::text,"                                                                            \
	" (SELECT b.contact_email FROM budget_units b WHERE b.code = c.unit_code),"                                            \
	" (SELECT b.contact_phone FROM budget_units b WHERE b.code = c.unit_code),"                                            \
	" (SELECT COALESCE(json_agg(json_build_object('id', u.id, 'login', u.dvctt_login, 'full_name', u.full_name,"           \
	"    'roles', u.roles, 'email', u.email, 'phone', u.phone, 'covered', false) ORDER BY u.rank, u.id), '[]')::text"      \
	"  FROM (SELECT x.id, x.dvctt_login, x.full_name, x.email, x.phone,"                                                   \
	"        COALESCE((SELECT json_agg(r.role ORDER BY r.role) FROM user_roles r WHERE r.user_id = x.id), '[]') AS roles," \
	"        CASE WHEN EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = x.id"                                          \
	"          AND r.role IN ('account_holder', 'chief_accountant')) THEN 0 ELSE 1 END AS rank"                            \
	"        FROM users x WHERE x.unit_code = c.unit_code AND x.active"                                                    \
	"        AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.user_id = x.id AND d.state = 'active'"                        \
	"          AND d.push_token IS NOT NULL AND d.last_seen_at > now() - make_interval(days => $9::int))"                  \
	"        ORDER BY 7, x.id LIMIT 20) u),"                                                                               \
	" c.search_name" UNITS_WHERE

/*
 * The filter's rows ($1-$4 as above); shared by the list and the export's
 * estimate. coverage_units.office_code follows a unit's move at once
 * (migration 0018's trigger on budget_units), so the scope needs no join.
 * The status is compared as the enum, not as text, so that a custom plan
 * can walk coverage_units_worst_idx for one status instead of sorting all.
 * A q of digits only is a unit code's prefix, matched through the primary
 * key's range (codes are digits: every code with that prefix sorts between
 * q and q followed by nines), never against the names: a name search would
 * scan every unit for a substring (a 7x slower answer at national scale).
 */
#define UNITS_WHERE                                                                                              \
	" FROM coverage_units c"                                                                                 \
	" WHERE alertd_office_in_scope($1, $2) AND c.office_code IN (SELECT alertd_office_subtree($2))"          \
	" AND ($3::text IS NULL OR c.status = ANY (CASE $3::text WHEN 'not_protected'"                           \
	"   THEN ARRAY['partial', 'unprotected']::coverage_status[] ELSE ARRAY[$3::text::coverage_status] END))" \
	" AND ($4::text IS NULL OR CASE WHEN $4::text ~ '^[0-9]+$'"                                              \
	"   THEN c.unit_code >= $4::text AND c.unit_code <= $4::text || '99999999999999999999'"                  \
	"    AND c.unit_code LIKE $4::text || '%'"                                                               \
	"   ELSE c.unit_code LIKE $4::text || '%' OR c.search_name LIKE '%' || alertd_fold($4::text) || '%' END)"

static const char *const units_sql[COVERAGE_SORT__COUNT] = {
	[COVERAGE_SORT_WORST] = UNITS_SELECT
	" AND ($5::text IS NULL OR (c.status, c.volume_30d, c.unit_code) < ($5::coverage_status, $6::numeric, $7::text))"
	" ORDER BY c.status DESC, c.volume_30d DESC, c.unit_code DESC LIMIT $8::int",
	[COVERAGE_SORT_CODE] = UNITS_SELECT " AND ($5::text IS NULL OR c.unit_code > $5::text)"
					    " AND $6::text IS NULL AND $7::text IS NULL"
					    " ORDER BY c.unit_code LIMIT $8::int",
	[COVERAGE_SORT_NAME] = UNITS_SELECT " AND ($5::text IS NULL OR (c.search_name, c.unit_code) > ($5::text, $6::text))"
					    " AND $7::text IS NULL ORDER BY c.search_name, c.unit_code LIMIT $8::int",
};

/* s with LIKE's wildcards and escape (\ % _) escaped; false when it does not fit out. */
static bool like_escape(const char *s, char *out, size_t outlen)
{
	size_t n = 0;
	for (; *s; s++) {
		if (n + 3 > outlen)
			return false;
		if (*s == '\\' || *s == '%' || *s == '_')
			out[n++] = '\\';
		out[n++] = *s;
	}
	out[n] = '\0';
	return true;
}

static json_t *parsed_array(const char *text)
{
	json_t *a = json_loads(text, 0, NULL);
	if (!json_is_array(a)) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *opt_string(const PGresult *res, int r, int col)
{
	return PQgetisnull(res, r, col) ? json_null() : json_string(PQgetvalue(res, r, col));
}

static json_t *unit_json(const PGresult *res, int r)
{
	json_t *roles = parsed_array(PQgetvalue(res, r, U_MISSING_ROLES));
	json_t *contacts = parsed_array(PQgetvalue(res, r, U_CONTACTS));

	if (!roles || !contacts) {
		json_decref(roles);
		json_decref(contacts);
		return NULL;
	}
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:b,s:b,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:o,s:o,s:o}", "code",
			 PQgetvalue(res, r, U_CODE), "name", PQgetvalue(res, r, U_NAME), "office_code",
			 PQgetvalue(res, r, U_OFFICE_CODE), "office_name", PQgetvalue(res, r, U_OFFICE_NAME), "status",
			 PQgetvalue(res, r, U_STATUS), "missing_roles", roles, "never_installed",
			 store_bool(res, r, U_NEVER_INSTALLED), "installed_unreachable",
			 store_bool(res, r, U_INSTALLED_UNREACHABLE), "shared_phone", store_bool(res, r, U_SHARED_PHONE),
			 "users", (json_int_t)store_int(res, r, U_USERS), "covered_users",
			 (json_int_t)store_int(res, r, U_COVERED_USERS), "reachable_devices",
			 (json_int_t)store_int(res, r, U_REACHABLE_DEVICES), "unreachable_devices",
			 (json_int_t)store_int(res, r, U_UNREACHABLE_DEVICES), "never_installed_users",
			 (json_int_t)store_int(res, r, U_NEVER_INSTALLED_USERS), "unreachable_users",
			 (json_int_t)store_int(res, r, U_UNREACHABLE_USERS), "holders",
			 (json_int_t)store_int(res, r, U_HOLDERS), "chiefs", (json_int_t)store_int(res, r, U_CHIEFS),
			 "volume_30d", PQgetvalue(res, r, U_VOLUME_30D), "contact_email", opt_string(res, r, U_CONTACT_EMAIL),
			 "contact_phone", opt_string(res, r, U_CONTACT_PHONE), "contacts", contacts);
}

/* The cursor after row r of res for sort (malloc'd base64url), NULL when out of memory. */
static char *make_cursor(enum coverage_sort sort, const PGresult *res, int r)
{
	json_t *a = sort == COVERAGE_SORT_WORST ? json_pack("[s,s,s,s]", "w", PQgetvalue(res, r, U_STATUS),
							    PQgetvalue(res, r, U_VOLUME_30D), PQgetvalue(res, r, U_CODE))
		    : sort == COVERAGE_SORT_CODE
			    ? json_pack("[s,s]", "c", PQgetvalue(res, r, U_CODE))
			    : json_pack("[s,s,s]", "n", PQgetvalue(res, r, U_SEARCH_NAME), PQgetvalue(res, r, U_CODE));
	char *text = a ? json_dumps(a, JSON_COMPACT) : NULL;
	char *out = NULL;

	json_decref(a);
	if (!text)
		return NULL;
	size_t need = sodium_base64_encoded_len(strlen(text), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	out = malloc(need);
	if (out)
		sodium_bin2base64(out, need, (const unsigned char *)text, strlen(text),
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	free(text);
	return out;
}

enum coverage_result coverage_units_list(PGconn *conn, const char *scope, const struct coverage_units_filter *f,
					 long long limit, json_t *units, char **next_cursor)
{
	struct cursor_keys k;
	char q[COVERAGE_Q_MAX * 2 + 1], lim[STORE_ID_TEXT], days[STORE_ID_TEXT];
	PGresult *res = NULL;

	*next_cursor = NULL;
	if (f->sort < 0 || f->sort >= COVERAGE_SORT__COUNT || !parse_cursor(f->sort, f->cursor, &k) ||
	    (f->q && (strlen(f->q) > COVERAGE_Q_MAX || !like_escape(f->q, q, sizeof(q)))) || limit < 1 || limit > 100000) {
		log_error("coverage_units_list: a filter the handler should have refused (a programming error)");
		return COVERAGE_ERROR;
	}
	const char *params[9] = { scope,
				  f->office,
				  f->status,
				  f->q ? q : NULL,
				  k.n >= 1 ? k.a : NULL,
				  k.n >= 2 ? k.b : NULL,
				  k.n >= 3 ? k.c : NULL,
				  store_id(lim, limit + 1),
				  store_id(days, f->active_days) };
	res = store_query(conn, "coverage_units_list", units_sql[f->sort], 9, params, U__COUNT);
	if (!res)
		return COVERAGE_ERROR;
	int n = PQntuples(res);
	for (int r = 0; r < n && r < limit; r++) {
		json_t *u = unit_json(res, r);
		if (!u || json_array_append_new(units, u) != 0)
			goto fail;
	}
	if (n > limit && !(*next_cursor = make_cursor(f->sort, res, (int)limit - 1)))
		goto fail;
	PQclear(res);
	return COVERAGE_OK;
fail:
	log_error("coverage_units_list: out of memory building the answer");
	PQclear(res);
	return COVERAGE_ERROR;
}

enum coverage_result coverage_units_people_estimate(PGconn *conn, const char *scope,
						    const struct coverage_units_filter *f, long long *people)
{
	char q[COVERAGE_Q_MAX * 2 + 1];

	*people = 0;
	if (f->q && (strlen(f->q) > COVERAGE_Q_MAX || !like_escape(f->q, q, sizeof(q)))) {
		log_error("coverage_units_people_estimate: a filter the handler should have refused (a programming error)");
		return COVERAGE_ERROR;
	}
	const char *params[4] = { scope, f->office, f->status, f->q ? q : NULL };
	PGresult *res = store_query(
		conn, "coverage_units_people_estimate",
		"SELECT coalesce(sum(least(20, c.never_installed_users + c.unreachable_users)), 0)::bigint" UNITS_WHERE,
		4, params, 1);
	if (!res)
		return COVERAGE_ERROR;
	*people = store_int(res, 0, 0);
	PQclear(res);
	return COVERAGE_OK;
}

/* -------------------------------------------------------------------- target */

/* "0.01".."100" with at most two decimals. */
static bool pct_ok(const char *s)
{
	size_t n = strspn(s, "0123456789");
	if (n < 1 || n > 3 || (n > 1 && s[0] == '0'))
		return false;
	if (s[n] != '\0' && !(s[n] == '.' && digits(s + n + 1, 1, 2)))
		return false;
	double v = strtod(s, NULL);
	return v > 0 && v <= 100;
}

/* YYYY-MM-DD, a day that exists, years 2000 to 2999. */
static bool date_ok(const char *s)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (strlen(s) != 10 || strspn(s, "0123456789") != 4 || s[4] != '-' || strspn(s + 5, "0123456789") != 2 ||
	    s[7] != '-' || strspn(s + 8, "0123456789") != 2)
		return false;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return y >= 2000 && y <= 2999 && m >= 1 && m <= 12 && d >= 1 && d <= (m == 2 && !leap ? 28 : mdays[m - 1]);
}

bool coverage_set_target(PGconn *conn, const char *office, const char *pct, const char *date, const char *actor_kind,
			 const char *actor_id, char *err, size_t errlen)
{
	PGresult *res = NULL;
	char details[128];

	if (!pct_ok(pct)) {
		snprintf(err, errlen, "the target must be a percentage above 0 and at most 100, with at most two decimals");
		return false;
	}
	if (!date_ok(date)) {
		snprintf(err, errlen, "the target date must be a real day, YYYY-MM-DD");
		return false;
	}
	if (!db_begin(conn))
		goto dberr;
	const char *params[4] = { office, pct, date, actor_id ? actor_id : "" };
	res = db_exec(conn,
		      "INSERT INTO coverage_targets (office_code, target_pct, target_date, set_by)"
		      " SELECT code, $2::numeric, $3::date, $4 FROM offices WHERE code = $1"
		      " ON CONFLICT (office_code) DO UPDATE SET target_pct = EXCLUDED.target_pct,"
		      " target_date = EXCLUDED.target_date, set_by = EXCLUDED.set_by, set_at = now()"
		      " RETURNING office_code",
		      4, params);
	if (!res)
		goto dberr;
	if (PQntuples(res) != 1) {
		PQclear(res);
		db_rollback(conn);
		snprintf(err, errlen, "no office %s in the roster", office);
		return false;
	}
	PQclear(res);
	snprintf(details, sizeof(details), "{\"pct\":%s,\"date\":\"%s\"}", pct, date);
	struct audit_entry a = { .actor_kind = actor_kind,
				 .actor_id = actor_id,
				 .action = "coverage.target",
				 .target = office,
				 .outcome = "ok",
				 .details = details };
	if (!audit_write(conn, &a) || !db_commit(conn))
		goto dberr;
	return true;
dberr:
	snprintf(err, errlen, "the database refused the change: %s", PQerrorMessage(conn));
	err[strcspn(err, "\n")] = '\0';
	db_rollback(conn);
	return false;
}
