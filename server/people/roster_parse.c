/*
 * roster_parse.c - the roster CSV into the import's state (see roster_parse.h
 * and docs/roster.md): libcsv fed one physical line at a time, each field
 * normalised (roster_fields.c), each row checked on its own and against the
 * earlier rows naming the same office, unit or login. The office and unit
 * columns repeat on every row of a unit: the first valid value wins and a
 * later different one rejects its row.
 */
#include "people/roster_parse.h"
#include "ingest/event.h"
#include "core/buf.h"
#include "people/roster_fields.h"
#include "core/strmap.h"

#include <csv.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCOLS 13
#define NAME_MAX_CHARS 255
#define LOGIN_MAX_CHARS 128
#define ARENA_BLOCK (256 * 1024)

enum col {
	C_OFFICE_CODE,
	C_OFFICE_NAME,
	C_PARENT,
	C_UNIT_CODE,
	C_UNIT_NAME,
	C_UNIT_EMAIL,
	C_UNIT_PHONE,
	C_ACCOUNTS,
	C_LOGIN,
	C_USER_NAME,
	C_USER_EMAIL,
	C_USER_PHONE,
	C_ROLES,
};

static const char *const col_names[NCOLS] = {
	"office_code", "office_name", "parent_office_code", "unit_code",  "unit_name",	"unit_email", "unit_phone",
	"accounts",    "user_login",  "user_name",	    "user_email", "user_phone", "roles",
};

/* ---- small containers ---------------------------------------------------- */

/* Bump allocator for strings that live as long as the import. */
struct roster_arena_block {
	struct roster_arena_block *next;
	size_t used, cap;
	char data[];
};

static char *arena_dup(struct roster_arena *a, const char *s, size_t len)
{
	struct roster_arena_block *b = a->head;

	if (!b || b->cap - b->used < len + 1) {
		size_t cap = len + 1 > ARENA_BLOCK ? len + 1 : ARENA_BLOCK;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	char *p = b->data + b->used;
	memcpy(p, s, len);
	p[len] = '\0';
	b->used += len + 1;
	return p;
}

static void arena_free(struct roster_arena *a)
{
	while (a->head) {
		struct roster_arena_block *next = a->head->next;
		free(a->head);
		a->head = next;
	}
}

/*
 * Room for at least n elements of size elem in array p of *cap: returns the
 * (possibly moved) array, or NULL on allocation failure (p is then intact).
 */
static void *grow(void *p, size_t *cap, size_t n, size_t elem)
{
	if (n <= *cap)
		return p;
	size_t c = *cap ? *cap : 64;
	while (c < n)
		c *= 2;
	if (c > SIZE_MAX / elem)
		return NULL;
	void *q = realloc(p, c * elem);
	if (q)
		*cap = c;
	return q;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- rows ---------------------------------------------------------------- */

static const char *keep(struct roster_state *imp, const char *s)
{
	char *p;

	if (!s)
		return NULL;
	p = arena_dup(&imp->arena, s, strlen(s));
	if (!p)
		imp->oom = true;
	return p ? p : "";
}

/* Record a reason for rows[ri]; a row keeps the reason of its leftmost failing column. */
__attribute__((format(printf, 4, 0))) static void vreject(struct roster_state *imp, size_t ri, int col, const char *fmt,
							  va_list ap)
{
	struct roster_row *r = &imp->rows[ri];
	char msg[600];

	if (col >= r->reason_col)
		return;
	int n = snprintf(msg, sizeof(msg), "%s: ", col_names[col]);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	if (r->reason_col == NCOLS)
		imp->nrejected++;
	r->reason_col = col;
	r->reason = keep(imp, msg);
}

__attribute__((format(printf, 4, 5))) static void reject(struct roster_state *imp, size_t ri, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreject(imp, ri, col, fmt, ap);
	va_end(ap);
}

void roster_reject_parent(struct roster_state *imp, const struct roster_office *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreject(imp, o->parent.row, C_PARENT, fmt, ap);
	va_end(ap);
}

/* First valid value of a column wins; a later different one rejects its row. */
static void agree(struct roster_state *imp, size_t ri, struct roster_attr *a, int col, const char *val, const char *what,
		  const char *code)
{
	if (!a->set) {
		a->v = keep(imp, val);
		a->line = imp->rows[ri].line;
		a->row = ri;
		a->set = true;
	} else if (!roster_streq(a->v, val)) {
		reject(imp, ri, col, "differs from line %ld for %s %s", a->line, what, code);
	}
}

/* A name column: 1-255 characters, no control characters. */
static bool name_ok(struct roster_state *imp, size_t ri, int col, const char *s)
{
	if (!*s)
		reject(imp, ri, col, "is required");
	else if (event_utf8_length(s) > NAME_MAX_CHARS)
		reject(imp, ri, col, "is longer than %d characters", NAME_MAX_CHARS);
	else if (roster_has_control(s, false))
		reject(imp, ri, col, "contains a control character");
	else
		return true;
	return false;
}

/*
 * Canonical form of an account list into imp->scratch2: items trimmed,
 * checked, sorted, duplicates dropped, joined with ';'. False with a reason
 * recorded on the row.
 */
static bool accounts_canon(struct roster_state *imp, size_t ri, const char *s)
{
	size_t n = 0;
	char clipped[72];

	if (!*s) {
		reject(imp, ri, C_ACCOUNTS, "at least one account is required");
		return false;
	}
	imp->scratch.len = 0;
	imp->scratch.failed = false;
	if (!buf_append(&imp->scratch, s, strlen(s) + 1)) {
		imp->oom = true;
		return false;
	}
	for (char *p = imp->scratch.data;;) {
		char *semi = strchr(p, ';');
		if (semi)
			*semi = '\0';
		const char *t = roster_trim_ascii(p);
		if (!*t) {
			reject(imp, ri, C_ACCOUNTS, "empty item in the list");
			return false;
		}
		if (!roster_account_valid(t)) {
			reject(imp, ri, C_ACCOUNTS,
			       "'%s' is not an account (1-32 characters of A-Z a-z 0-9 . -, starting with a letter or digit)",
			       roster_clip(t, clipped, 40));
			return false;
		}
		const char **items = grow(imp->items, &imp->capitems, n + 1, sizeof(*items));
		if (!items) {
			imp->oom = true;
			return false;
		}
		imp->items = items;
		imp->items[n++] = t;
		if (!semi)
			break;
		p = semi + 1;
	}
	qsort(imp->items, n, sizeof(*imp->items), cmp_str);
	imp->scratch2.len = 0;
	imp->scratch2.failed = false;
	for (size_t i = 0; i < n; i++) {
		if (i && strcmp(imp->items[i], imp->items[i - 1]) == 0)
			continue;
		if (imp->scratch2.len)
			buf_append(&imp->scratch2, ";", 1);
		buf_append(&imp->scratch2, imp->items[i], strlen(imp->items[i]));
	}
	if (!buf_append(&imp->scratch2, "", 0)) {
		imp->oom = true;
		return false;
	}
	return true;
}

static struct roster_office *office_for(struct roster_state *imp, const char *code)
{
	size_t i;

	if (strmap_get(&imp->office_map, code, &i))
		return &imp->offices[i];
	struct roster_office *offices = grow(imp->offices, &imp->capoffices, imp->noffices + 1, sizeof(*offices));
	if (!offices)
		goto oom;
	imp->offices = offices;
	struct roster_office *o = &offices[imp->noffices];
	memset(o, 0, sizeof(*o));
	o->code = keep(imp, code);
	o->db = -1;
	if (imp->oom || !strmap_put(&imp->office_map, o->code, imp->noffices))
		goto oom;
	imp->noffices++;
	return o;
oom:
	imp->oom = true;
	return NULL;
}

static struct roster_unit *unit_for(struct roster_state *imp, const char *code)
{
	size_t i;

	if (strmap_get(&imp->unit_map, code, &i))
		return &imp->units[i];
	struct roster_unit *units = grow(imp->units, &imp->capunits, imp->nunits + 1, sizeof(*units));
	if (!units)
		goto oom;
	imp->units = units;
	struct roster_unit *u = &units[imp->nunits];
	memset(u, 0, sizeof(*u));
	u->code = keep(imp, code);
	u->db = -1;
	if (imp->oom || !strmap_put(&imp->unit_map, u->code, imp->nunits))
		goto oom;
	imp->nunits++;
	return u;
oom:
	imp->oom = true;
	return NULL;
}

/* Validate one data row (fields normalised; status[i] 2 = unassigned code point). */
static void add_row(struct roster_state *imp, const char *const f[NCOLS], const int status[NCOLS], long line)
{
	bool ok[NCOLS];
	char why[256];
	unsigned roles = 0;

	struct roster_row *rows = grow(imp->rows, &imp->caprows, imp->nrows + 1, sizeof(*rows));
	if (!rows) {
		imp->oom = true;
		return;
	}
	imp->rows = rows;
	size_t ri = imp->nrows++;
	struct roster_row *r = &imp->rows[ri];
	memset(r, 0, sizeof(*r));
	r->line = line;
	r->reason_col = NCOLS;
	r->db = -1;
	for (int i = 0; i < NCOLS; i++) {
		ok[i] = status[i] == 0;
		if (!ok[i])
			reject(imp, ri, i, "contains an unassigned Unicode code point");
	}
	const char *email_msg = "is not an email address",
		   *phone_msg = "is not a phone number (8-15 digits, optional leading +)";

	if (ok[C_OFFICE_CODE] && !(ok[C_OFFICE_CODE] = roster_code_valid(f[C_OFFICE_CODE], 4, false)))
		reject(imp, ri, C_OFFICE_CODE, "must be 4 characters of 0-9 and A-Z");
	ok[C_OFFICE_NAME] = ok[C_OFFICE_NAME] && name_ok(imp, ri, C_OFFICE_NAME, f[C_OFFICE_NAME]);
	if (ok[C_PARENT] && *f[C_PARENT]) {
		if (!roster_code_valid(f[C_PARENT], 4, false)) {
			reject(imp, ri, C_PARENT, "must be empty or 4 characters of 0-9 and A-Z");
			ok[C_PARENT] = false;
		} else if (strcmp(f[C_PARENT], f[C_OFFICE_CODE]) == 0) {
			reject(imp, ri, C_PARENT, "an office cannot be its own parent");
			ok[C_PARENT] = false;
		}
	}
	if (ok[C_UNIT_CODE] && !(ok[C_UNIT_CODE] = roster_code_valid(f[C_UNIT_CODE], 7, true)))
		reject(imp, ri, C_UNIT_CODE, "must be 7 digits");
	ok[C_UNIT_NAME] = ok[C_UNIT_NAME] && name_ok(imp, ri, C_UNIT_NAME, f[C_UNIT_NAME]);
	if (ok[C_UNIT_EMAIL] && *f[C_UNIT_EMAIL] && !(ok[C_UNIT_EMAIL] = roster_email_valid(f[C_UNIT_EMAIL])))
		reject(imp, ri, C_UNIT_EMAIL, "%s", email_msg);
	if (ok[C_UNIT_PHONE] && *f[C_UNIT_PHONE] && !(ok[C_UNIT_PHONE] = roster_phone_valid(f[C_UNIT_PHONE])))
		reject(imp, ri, C_UNIT_PHONE, "%s", phone_msg);
	ok[C_ACCOUNTS] = ok[C_ACCOUNTS] && accounts_canon(imp, ri, f[C_ACCOUNTS]);
	if (ok[C_LOGIN]) {
		const char *s = f[C_LOGIN];
		ok[C_LOGIN] = false;
		if (!*s)
			reject(imp, ri, C_LOGIN, "is required");
		else if (event_utf8_length(s) > LOGIN_MAX_CHARS)
			reject(imp, ri, C_LOGIN, "is longer than %d characters", LOGIN_MAX_CHARS);
		else if (roster_has_control(s, true))
			reject(imp, ri, C_LOGIN, "contains white space or a control character");
		else if (s[0] == '~') /* a pseudonymised user's login (docs/privacy.md) must never match a new one */
			reject(imp, ri, C_LOGIN, "must not start with '~' (reserved for pseudonymised accounts)");
		else
			ok[C_LOGIN] = true;
	}
	ok[C_USER_NAME] = ok[C_USER_NAME] && name_ok(imp, ri, C_USER_NAME, f[C_USER_NAME]);
	if (ok[C_USER_EMAIL] && *f[C_USER_EMAIL] && !(ok[C_USER_EMAIL] = roster_email_valid(f[C_USER_EMAIL])))
		reject(imp, ri, C_USER_EMAIL, "%s", email_msg);
	if (ok[C_USER_PHONE] && *f[C_USER_PHONE] && !(ok[C_USER_PHONE] = roster_phone_valid(f[C_USER_PHONE])))
		reject(imp, ri, C_USER_PHONE, "%s", phone_msg);
	if (ok[C_ROLES] && !(ok[C_ROLES] = roster_roles_parse(f[C_ROLES], &roles, why, sizeof(why))))
		reject(imp, ri, C_ROLES, "%s", why);

#define NUL_IF_EMPTY(s) (*(s) ? (s) : NULL)
	/* the office and unit columns repeat on every row of a unit: they must agree */
	if (ok[C_OFFICE_CODE]) {
		struct roster_office *o = office_for(imp, f[C_OFFICE_CODE]);
		if (!o)
			return;
		if (ok[C_OFFICE_NAME])
			agree(imp, ri, &o->name, C_OFFICE_NAME, f[C_OFFICE_NAME], "office", o->code);
		if (ok[C_PARENT])
			agree(imp, ri, &o->parent, C_PARENT, NUL_IF_EMPTY(f[C_PARENT]), "office", o->code);
	}
	if (ok[C_UNIT_CODE]) {
		struct roster_unit *u = unit_for(imp, f[C_UNIT_CODE]);
		if (!u)
			return;
		r = &imp->rows[ri];
		r->unit = u->code;
		if (ok[C_OFFICE_CODE])
			agree(imp, ri, &u->office, C_OFFICE_CODE, f[C_OFFICE_CODE], "unit", u->code);
		if (ok[C_UNIT_NAME])
			agree(imp, ri, &u->name, C_UNIT_NAME, f[C_UNIT_NAME], "unit", u->code);
		if (ok[C_UNIT_EMAIL])
			agree(imp, ri, &u->email, C_UNIT_EMAIL, NUL_IF_EMPTY(f[C_UNIT_EMAIL]), "unit", u->code);
		if (ok[C_UNIT_PHONE])
			agree(imp, ri, &u->phone, C_UNIT_PHONE, NUL_IF_EMPTY(f[C_UNIT_PHONE]), "unit", u->code);
		if (ok[C_ACCOUNTS])
			agree(imp, ri, &u->accounts, C_ACCOUNTS, imp->scratch2.data, "unit", u->code);
	}
	r = &imp->rows[ri];
	if (ok[C_LOGIN]) {
		size_t other;
		r->login = keep(imp, f[C_LOGIN]);
		if (strmap_get(&imp->login_map, r->login, &other))
			reject(imp, ri, C_LOGIN, "duplicate of line %ld", imp->rows[other].line);
		else if (!imp->oom && !strmap_put(&imp->login_map, r->login, ri))
			imp->oom = true;
	}
	r->name = keep(imp, f[C_USER_NAME]);
	r->email = keep(imp, NUL_IF_EMPTY(f[C_USER_EMAIL]));
	r->phone = keep(imp, NUL_IF_EMPTY(f[C_USER_PHONE]));
	r->roles = roles;
#undef NUL_IF_EMPTY
}

/* ---- CSV parsing ----------------------------------------------------------- */

struct parse {
	struct roster_state *imp;
	long line;	/* physical line being fed to libcsv */
	long row_start; /* line the current row started on, 0 = between rows */
	int nfields;
	bool header_seen;
	struct buf cell[NCOLS]; /* normalised fields of the current row */
	struct buf raw[NCOLS];	/* the same fields as read: a repeat skips normalising again */
	int status[NCOLS];
	enum roster_result failure; /* ROSTER_OK while fine */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static void parse_fail(struct parse *ps, enum roster_result rc, const char *fmt, ...)
{
	va_list ap;

	if (ps->failure != ROSTER_OK)
		return;
	ps->failure = rc;
	va_start(ap, fmt);
	vsnprintf(ps->err, ps->errlen, fmt, ap);
	va_end(ap);
}

static void on_field(void *field, size_t len, void *data)
{
	struct parse *ps = data;
	const char *s = field ? field : "";

	if (ps->failure != ROSTER_OK)
		return;
	int i = ps->nfields++;
	if (i >= NCOLS)
		return;
	if (!field)
		len = 0;
	/* office and unit columns repeat on every row of a unit: cell[i] still holds their normal form */
	if (ps->header_seen && ps->raw[i].data && ps->raw[i].len == len && memcmp(ps->raw[i].data, s, len) == 0)
		return;
	ps->raw[i].len = 0;
	if (!buf_append(&ps->raw[i], s, len)) {
		parse_fail(ps, ROSTER_DB_ERROR, "out of memory");
		return;
	}
	int st = roster_normalize_into(&ps->cell[i], s, len);
	if (st == 1)
		parse_fail(ps, ROSTER_MALFORMED, "line %ld: invalid UTF-8 (or a NUL byte) in column %d", ps->line, i + 1);
	else if (st == 3)
		parse_fail(ps, ROSTER_DB_ERROR, "out of memory");
	else if (st == 2)
		roster_normalize_into(&ps->cell[i], "", 0);
	ps->status[i] = st;
}

static void on_row(int c, void *data)
{
	struct parse *ps = data;
	long line = ps->row_start ? ps->row_start : ps->line;
	int n = ps->nfields;
	const char *f[NCOLS];
	bool empty = true;

	(void)c;
	ps->nfields = 0;
	ps->row_start = 0;
	if (ps->failure != ROSTER_OK)
		return;
	for (int i = 0; i < NCOLS; i++) {
		f[i] = i < n && ps->cell[i].data ? ps->cell[i].data : "";
		empty = empty && !*f[i] && (i >= n || ps->status[i] == 0);
	}
	if (!ps->header_seen) {
		ps->header_seen = true;
		bool match = n == NCOLS;
		for (int i = 0; match && i < NCOLS; i++)
			match = strcmp(f[i], col_names[i]) == 0;
		if (!match)
			parse_fail(ps, ROSTER_MALFORMED,
				   "line %ld: the header must be exactly: office_code,office_name,parent_office_code,"
				   "unit_code,unit_name,unit_email,unit_phone,accounts,user_login,user_name,user_email,"
				   "user_phone,roles",
				   line);
		return;
	}
	if (n != NCOLS) {
		parse_fail(ps, ROSTER_MALFORMED, "line %ld: expected %d columns, found %d", line, NCOLS, n);
		return;
	}
	if (empty) /* a row of empty fields (",,,,,,,,,,,,", as spreadsheets export) is skipped */
		return;
	add_row(ps->imp, f, ps->status, line);
	if (ps->imp->oom)
		parse_fail(ps, ROSTER_DB_ERROR, "out of memory");
}

static bool blank_line(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

/*
 * True when the physical line p[0..n) (its LF, if any, last) holds a CR that
 * does not end it as CRLF: CR-only line ends (classic Mac OS, some exports),
 * which libcsv would take as row ends on a line that is counted once, or a
 * CR inside a field. docs/roster.md allows LF and CRLF only.
 */
static bool lone_cr(const char *p, size_t n)
{
	const char *cr = memchr(p, '\r', n);

	return cr && !(cr + 2 == p + n && cr[1] == '\n');
}

/* Parse and validate the whole file. ROSTER_OK, MALFORMED, or DB_ERROR (out of memory), with err. */
enum roster_result roster_parse(struct roster_state *imp, const char *data, size_t len, char *err, size_t errlen)
{
	struct csv_parser csv;
	struct parse ps = { .imp = imp, .err = err, .errlen = errlen, .failure = ROSTER_OK };
	const char *p = data, *end = data + len;

	for (int i = 0; i < NCOLS; i++) {
		buf_init(&ps.cell[i], ROSTER_PARAM_MAX);
		buf_init(&ps.raw[i], ROSTER_PARAM_MAX);
	}
	if (csv_init(&csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		snprintf(err, errlen, "out of memory");
		return ROSTER_DB_ERROR;
	}
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	/* one physical line per call, so the callbacks know the line number */
	while (p < end && ps.failure == ROSTER_OK) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		ps.line++;
		if (lone_cr(p, n)) {
			parse_fail(&ps, ROSTER_MALFORMED,
				   "line %ld: a carriage return (CR) not followed by a line feed; lines must end with LF or "
				   "CRLF (save the file with Windows or Unix line ends)",
				   ps.line);
			break;
		}
		if (!ps.row_start && !blank_line(p, n))
			ps.row_start = ps.line;
		if (csv_parse(&csv, p, n, on_field, on_row, &ps) != n) {
			int e = csv_error(&csv);
			if (e == CSV_EPARSE)
				parse_fail(&ps, ROSTER_MALFORMED,
					   "line %ld: invalid CSV (a quote inside an unquoted field, or text after a closing quote)",
					   ps.line);
			else
				parse_fail(&ps, ROSTER_DB_ERROR, "CSV parser: %s", csv_strerror(e));
		}
		p += n;
	}
	if (ps.failure == ROSTER_OK && csv_fini(&csv, on_field, on_row, &ps) != 0)
		parse_fail(&ps, ROSTER_MALFORMED, "line %ld: unterminated quoted field",
			   ps.row_start ? ps.row_start : ps.line);
	if (ps.failure == ROSTER_OK && !ps.header_seen)
		parse_fail(&ps, ROSTER_MALFORMED, "line 1: the file is empty (a header line is required)");
	csv_free(&csv);
	for (int i = 0; i < NCOLS; i++) {
		buf_free(&ps.cell[i]);
		buf_free(&ps.raw[i]);
	}
	return ps.failure;
}

/* ---- results ------------------------------------------------------------- */

/* Units with no, or several, account holders among the valid rows. */
bool roster_collect_warnings(struct roster_state *imp, json_t *warnings)
{
	for (size_t i = 0; i < imp->nrows; i++) {
		const struct roster_row *r = &imp->rows[i];
		size_t ui;
		if (r->reason_col != NCOLS || !strmap_get(&imp->unit_map, r->unit, &ui))
			continue;
		struct roster_unit *u = &imp->units[ui];
		u->valid_rows++;
		if (!(r->roles & ROSTER_ROLE_HOLDER))
			continue;
		if (u->holders < ROSTER_HOLDERS_LISTED)
			u->holder_logins[u->holders] = r->login;
		u->holders++;
	}
	for (size_t i = 0; i < imp->nunits; i++) {
		const struct roster_unit *u = &imp->units[i];
		struct buf msg;
		/* no warning for a unit whose every row was rejected: the rejections say enough */
		if (u->holders == 1 || u->valid_rows == 0)
			continue;
		buf_init(&msg, 8192);
		if (u->holders == 0) {
			buf_printf(&msg, "no user has the account_holder role");
		} else {
			buf_printf(&msg, "%d users have the account_holder role:", u->holders);
			for (int k = 0; k < u->holders && k < ROSTER_HOLDERS_LISTED; k++)
				buf_printf(&msg, "%s %s", k ? "," : "", u->holder_logins[k]);
			if (u->holders > ROSTER_HOLDERS_LISTED)
				buf_printf(&msg, ", ...");
		}
		json_t *w = buf_ok(&msg) ? json_pack("{s:s,s:s}", "unit_code", u->code, "message", msg.data) : NULL;
		buf_free(&msg);
		if (!w || json_array_append_new(warnings, w) != 0)
			return false;
	}
	return true;
}

bool roster_list_rejected(const struct roster_state *imp, json_t *rejected)
{
	for (size_t i = 0; i < imp->nrows; i++) {
		const struct roster_row *r = &imp->rows[i];
		if (r->reason_col == NCOLS)
			continue;
		json_t *o = json_pack("{s:I,s:s}", "line", (json_int_t)r->line, "reason", r->reason ? r->reason : "");
		if (!o || json_array_append_new(rejected, o) != 0)
			return false;
	}
	return true;
}

/* ---- lifetime ------------------------------------------------------------ */

void roster_state_init(struct roster_state *imp)
{
	memset(imp, 0, sizeof(*imp));
	buf_init(&imp->scratch, ROSTER_PARAM_MAX);
	buf_init(&imp->scratch2, ROSTER_PARAM_MAX);
}

void roster_state_free(struct roster_state *imp)
{
	PQclear(imp->db_offices);
	PQclear(imp->db_units);
	PQclear(imp->db_accounts);
	PQclear(imp->db_users);
	PQclear(imp->db_roles);
	PQclear(imp->db_members);
	strmap_free(&imp->office_map);
	strmap_free(&imp->unit_map);
	strmap_free(&imp->login_map);
	strmap_free(&imp->db_office_map);
	free(imp->rows);
	free(imp->offices);
	free(imp->units);
	free(imp->items);
	buf_free(&imp->scratch);
	buf_free(&imp->scratch2);
	arena_free(&imp->arena);
}
