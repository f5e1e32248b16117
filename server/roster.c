/*
 * roster.c - CSV roster import (see roster.h and docs/roster.md).
 *
 * Three phases:
 *   1. parse with libcsv, fed one physical line at a time so every row knows
 *      the line it starts on; every field is normalised to NFC and trimmed
 *      (utf8proc) and each row is validated on its own and against the
 *      earlier rows naming the same office, unit or login;
 *   2. in one transaction (serialised with other imports by an advisory
 *      lock): load the stored offices, units with their accounts, and users
 *      with their roles for everything the file names, with a handful of
 *      set-based queries (= ANY($1::text[])); check the office hierarchy;
 *   3. diff in C and write only the differences with one batched statement
 *      per kind of change (INSERT ... SELECT FROM unnest(...) / UPDATE ...
 *      FROM unnest(...)). An unchanged re-import therefore writes nothing.
 * Nothing is written unless every row is valid. Only data travels in the
 * array parameters; no SQL text is ever built from the file.
 */
#include "roster.h"
#include "audit.h"
#include "buf.h"
#include "db.h"
#include "log.h"

#include <csv.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>

#define NCOLS 13
#define NAME_MAX_CHARS 255
#define LOGIN_MAX_CHARS 128
#define EMAIL_MAX_CHARS 254
#define ARENA_BLOCK (256 * 1024)
#define PARAM_MAX ((size_t)1 << 30)
#define HOLDERS_LISTED 5
/* "alertdro" in ASCII; other alertd advisory locks use other keys. */
#define ROSTER_LOCK_KEY "7020097461417177711"

#define ROLE_HOLDER 1u
#define ROLE_CHIEF 2u
#define ROLE_ACCOUNTANT 4u

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
struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	char data[];
};

struct arena {
	struct arena_block *head;
};

static char *arena_dup(struct arena *a, const char *s, size_t len)
{
	struct arena_block *b = a->head;

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

static void arena_free(struct arena *a)
{
	while (a->head) {
		struct arena_block *next = a->head->next;
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

/* Open-addressing map from a string (not copied: it must outlive the map) to an index. */
struct strmap {
	size_t cap, n;
	const char **keys;
	uint64_t *hashes;
	size_t *vals;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	/* FNV's low bits are weak for keys that differ in a few digits; the table uses the low bits */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

/* Slot of key, or of the empty slot where it would go. */
static size_t strmap_slot(const struct strmap *m, const char *key, uint64_t h)
{
	size_t i = h & (m->cap - 1);

	while (m->keys[i] && (m->hashes[i] != h || strcmp(m->keys[i], key) != 0))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static bool strmap_get(const struct strmap *m, const char *key, size_t *val)
{
	if (!m->cap || !key)
		return false;
	size_t i = strmap_slot(m, key, hash_str(key));
	if (!m->keys[i])
		return false;
	if (val)
		*val = m->vals[i];
	return true;
}

/* Insert key (replacing the value of an equal key). False on allocation failure. */
static bool strmap_put(struct strmap *m, const char *key, size_t val)
{
	if (2 * (m->n + 1) > m->cap) {
		struct strmap bigger = { .cap = m->cap ? 2 * m->cap : 256 };
		bigger.keys = calloc(bigger.cap, sizeof(*bigger.keys));
		bigger.hashes = calloc(bigger.cap, sizeof(*bigger.hashes));
		bigger.vals = calloc(bigger.cap, sizeof(*bigger.vals));
		if (!bigger.keys || !bigger.hashes || !bigger.vals) {
			free(bigger.keys);
			free(bigger.hashes);
			free(bigger.vals);
			return false;
		}
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->keys[i])
				continue;
			size_t j = m->hashes[i] & (bigger.cap - 1);
			while (bigger.keys[j])
				j = (j + 1) & (bigger.cap - 1);
			bigger.keys[j] = m->keys[i];
			bigger.hashes[j] = m->hashes[i];
			bigger.vals[j] = m->vals[i];
		}
		bigger.n = m->n;
		free(m->keys);
		free(m->hashes);
		free(m->vals);
		*m = bigger;
	}
	uint64_t h = hash_str(key);
	size_t i = strmap_slot(m, key, h);
	if (!m->keys[i])
		m->n++;
	m->keys[i] = key;
	m->hashes[i] = h;
	m->vals[i] = val;
	return true;
}

static void strmap_free(struct strmap *m)
{
	free(m->keys);
	free(m->hashes);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* ---- text helpers --------------------------------------------------------- */

/* Unicode White_Space. */
static bool is_space_cp(int32_t c)
{
	return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

static bool is_control_cp(int32_t c)
{
	return c < 0x20 || (c >= 0x7F && c < 0xA0);
}

/* Number of characters (code points) of valid UTF-8 text. */
static size_t char_count(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* True when valid UTF-8 text s contains white space (spaces != NULL) or a control character. */
static bool has_cp(const char *s, bool spaces)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(s);

	while (len > 0) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate(p, len, &c);
		if (k <= 0)
			return true;
		if (is_control_cp(c) || (spaces && is_space_cp(c)))
			return true;
		p += k;
		len -= k;
	}
	return false;
}

/*
 * NFC-normalise and trim len bytes of in into out (reset first). Returns 0,
 * or 1 invalid UTF-8 / NUL byte, 2 unassigned code point, 3 out of memory.
 */
static int normalize_into(struct buf *out, const char *in, size_t len)
{
	const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)in;
	utf8proc_uint8_t *mapped = NULL;
	size_t n = len, start = 0;
	bool ascii = true;

	out->len = 0;
	if (out->data)
		out->data[0] = '\0';
	out->failed = false;
	if (len && memchr(in, '\0', len))
		return 1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] & 0x80) {
			ascii = false;
			break;
		}
	}
	/* ASCII is NFC already: skip utf8proc (and its allocation) for most fields */
	if (!ascii) {
		if (len > (size_t)PTRDIFF_MAX / 4)
			return 3;
		utf8proc_ssize_t r = utf8proc_map(s, (utf8proc_ssize_t)len, &mapped,
						  UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_REJECTNA);
		if (r < 0)
			return r == UTF8PROC_ERROR_NOTASSIGNED ? 2 : r == UTF8PROC_ERROR_NOMEM ? 3 : 1;
		s = mapped;
		n = (size_t)r;
	}
	while (start < n) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate(s + start, (utf8proc_ssize_t)(n - start), &c);
		if (k <= 0 || !is_space_cp(c))
			break;
		start += (size_t)k;
	}
	while (n > start) {
		size_t b = n - 1;
		utf8proc_int32_t c;
		while (b > start && (s[b] & 0xC0) == 0x80)
			b--;
		if (utf8proc_iterate(s + b, (utf8proc_ssize_t)(n - b), &c) <= 0 || !is_space_cp(c))
			break;
		n = b;
	}
	bool ok = buf_append(out, s + start, n - start) && buf_append(out, "", 0);
	free(mapped);
	return ok ? 0 : 3;
}

char *roster_normalize(const char *in, size_t len, int *status)
{
	struct buf b;

	buf_init(&b, PARAM_MAX);
	*status = normalize_into(&b, in, len);
	if (*status) {
		buf_free(&b);
		return NULL;
	}
	size_t n;
	char *s = buf_steal(&b, &n);
	if (!s)
		s = strdup("");
	if (!s)
		*status = 3;
	return s;
}

/* Copy at most max bytes of valid UTF-8 s into out (size max + 4), cut on a character boundary. */
static const char *clip(const char *s, char *out, size_t max)
{
	size_t n = strlen(s);
	bool cut = n > max;

	if (cut) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	memcpy(out + n, cut ? "..." : "", cut ? 4 : 1);
	return out;
}

static bool streq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool code_valid(const char *s, size_t len, bool digits_only)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (!digits_only && c >= 'A' && c <= 'Z')))
			return false;
	}
	return true;
}

bool roster_email_valid(const char *s)
{
	const char *at = strchr(s, '@');

	if (!at || at == s || strchr(at + 1, '@') || char_count(s) > EMAIL_MAX_CHARS || has_cp(s, true))
		return false;
	/* the domain needs a '.' that is neither its first nor its last character */
	const char *dom = at + 1;
	size_t dlen = strlen(dom);
	for (size_t i = 1; i + 1 < dlen; i++)
		if (dom[i] == '.')
			return true;
	return false;
}

bool roster_phone_valid(const char *s)
{
	size_t n;

	if (*s == '+')
		s++;
	n = strlen(s);
	return n >= 8 && n <= 15 && strspn(s, "0123456789") == n;
}

bool roster_account_valid(const char *s)
{
	static const char alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	size_t n = strlen(s);

	return n >= 1 && n <= 32 && strspn(s, alnum) >= 1 &&
	       strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-") == n;
}

static const char *trim_ascii(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

bool roster_roles_parse(const char *s, unsigned *mask, char *err, size_t errlen)
{
	static const char *const names[3] = { "account_holder", "chief_accountant", "accountant" };
	char item[64], clipped[72];
	const char *p = s;

	*mask = 0;
	if (!*s) {
		snprintf(err, errlen, "at least one role is required");
		return false;
	}
	for (;;) {
		size_t k = strcspn(p, ";");
		if (k >= sizeof(item)) {
			char whole[1024];
			snprintf(whole, sizeof(whole), "%.*s", k < 1000 ? (int)k : 1000, p);
			snprintf(err, errlen, "unknown role '%s' (use account_holder, chief_accountant, accountant)",
				 clip(whole, clipped, 40));
			return false;
		}
		memcpy(item, p, k);
		item[k] = '\0';
		const char *t = trim_ascii(item);
		unsigned bit = 0;
		for (unsigned i = 0; i < 3; i++)
			if (strcmp(t, names[i]) == 0)
				bit = 1u << i;
		if (!*t) {
			snprintf(err, errlen, "empty item in the list");
			return false;
		}
		if (!bit) {
			snprintf(err, errlen, "unknown role '%s' (use account_holder, chief_accountant, accountant)",
				 clip(t, clipped, 40));
			return false;
		}
		*mask |= bit;
		if (!p[k])
			return true;
		p += k + 1;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- import state --------------------------------------------------------- */

/* One column of an office or unit: the first valid value seen and where. */
struct attr {
	const char *v; /* NULL = empty (SQL NULL) */
	long line;
	size_t row;
	bool set;
};

struct office {
	const char *code;
	struct attr name, parent;
	int level; /* resolved: 1-3, 0 unknown/invalid */
	long db;   /* row in the loaded offices, -1 none */
};

struct unit {
	const char *code;
	struct attr office, name, email, phone, accounts; /* accounts: sorted, ';'-joined */
	long valid_rows;
	int holders;
	const char *holder_logins[HOLDERS_LISTED];
	long db;
	const char *db_accounts; /* canonical form of the stored accounts, NULL = none */
};

enum user_action { USER_CREATE, USER_UPDATE, USER_SAME };

struct row {
	long line;
	int reason_col; /* NCOLS = valid */
	const char *reason;
	const char *login, *name, *email, *phone, *unit;
	unsigned roles;
	long db; /* row in the loaded users, -1 none */
	unsigned db_roles;
	long long id;
	enum user_action action;
	bool moved, roles_changed;
};

struct import {
	struct arena arena;
	struct row *rows;
	size_t nrows, caprows;
	struct office *offices;
	size_t noffices, capoffices;
	struct unit *units;
	size_t nunits, capunits;
	struct strmap office_map, unit_map, login_map, db_office_map;
	long nrejected;
	bool oom;
	/* scratch for list parsing */
	const char **items;
	size_t capitems;
	struct buf scratch, scratch2;
	PGresult *db_offices, *db_units, *db_accounts, *db_users, *db_roles, *db_members;
};

/* Column indexes of the loading queries. */
enum { DO_CODE, DO_NAME, DO_PARENT, DO_LEVEL, DO_ACTIVE };
enum { DU_CODE, DU_NAME, DU_OFFICE, DU_EMAIL, DU_PHONE, DU_ACTIVE };
enum { DP_ID, DP_LOGIN, DP_UNIT, DP_NAME, DP_EMAIL, DP_PHONE, DP_ACTIVE };

static const char *dbval(const PGresult *res, long row, int col)
{
	return PQgetisnull(res, (int)row, col) ? NULL : PQgetvalue(res, (int)row, col);
}

static const char *keep(struct import *imp, const char *s)
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
__attribute__((format(printf, 4, 5))) static void reject(struct import *imp, size_t ri, int col, const char *fmt, ...)
{
	struct row *r = &imp->rows[ri];
	char msg[600];
	va_list ap;

	if (col >= r->reason_col)
		return;
	int n = snprintf(msg, sizeof(msg), "%s: ", col_names[col]);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	if (r->reason_col == NCOLS)
		imp->nrejected++;
	r->reason_col = col;
	r->reason = keep(imp, msg);
}

/* First valid value of a column wins; a later different one rejects its row. */
static void agree(struct import *imp, size_t ri, struct attr *a, int col, const char *val, const char *what,
		  const char *code)
{
	if (!a->set) {
		a->v = keep(imp, val);
		a->line = imp->rows[ri].line;
		a->row = ri;
		a->set = true;
	} else if (!streq(a->v, val)) {
		reject(imp, ri, col, "differs from line %ld for %s %s", a->line, what, code);
	}
}

/* A name column: 1-255 characters, no control characters. */
static bool name_ok(struct import *imp, size_t ri, int col, const char *s)
{
	if (!*s)
		reject(imp, ri, col, "is required");
	else if (char_count(s) > NAME_MAX_CHARS)
		reject(imp, ri, col, "is longer than %d characters", NAME_MAX_CHARS);
	else if (has_cp(s, false))
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
static bool accounts_canon(struct import *imp, size_t ri, const char *s)
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
		const char *t = trim_ascii(p);
		if (!*t) {
			reject(imp, ri, C_ACCOUNTS, "empty item in the list");
			return false;
		}
		if (!roster_account_valid(t)) {
			reject(imp, ri, C_ACCOUNTS,
			       "'%s' is not an account (1-32 characters of A-Z a-z 0-9 . -, starting with a letter or digit)",
			       clip(t, clipped, 40));
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

static struct office *office_for(struct import *imp, const char *code)
{
	size_t i;

	if (strmap_get(&imp->office_map, code, &i))
		return &imp->offices[i];
	struct office *offices = grow(imp->offices, &imp->capoffices, imp->noffices + 1, sizeof(*offices));
	if (!offices)
		goto oom;
	imp->offices = offices;
	struct office *o = &offices[imp->noffices];
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

static struct unit *unit_for(struct import *imp, const char *code)
{
	size_t i;

	if (strmap_get(&imp->unit_map, code, &i))
		return &imp->units[i];
	struct unit *units = grow(imp->units, &imp->capunits, imp->nunits + 1, sizeof(*units));
	if (!units)
		goto oom;
	imp->units = units;
	struct unit *u = &units[imp->nunits];
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
static void add_row(struct import *imp, const char *const f[NCOLS], const int status[NCOLS], long line)
{
	bool ok[NCOLS];
	char why[256];
	unsigned roles = 0;

	struct row *rows = grow(imp->rows, &imp->caprows, imp->nrows + 1, sizeof(*rows));
	if (!rows) {
		imp->oom = true;
		return;
	}
	imp->rows = rows;
	size_t ri = imp->nrows++;
	struct row *r = &imp->rows[ri];
	memset(r, 0, sizeof(*r));
	r->line = line;
	r->reason_col = NCOLS;
	r->db = -1;
	for (int i = 0; i < NCOLS; i++) {
		ok[i] = status[i] == 0;
		if (!ok[i])
			reject(imp, ri, i, "contains an unassigned Unicode code point");
	}
	const char *email_msg = "is not an email address", *phone_msg = "is not a phone number (8-15 digits, optional leading +)";

	if (ok[C_OFFICE_CODE] && !(ok[C_OFFICE_CODE] = code_valid(f[C_OFFICE_CODE], 4, false)))
		reject(imp, ri, C_OFFICE_CODE, "must be 4 characters of 0-9 and A-Z");
	ok[C_OFFICE_NAME] = ok[C_OFFICE_NAME] && name_ok(imp, ri, C_OFFICE_NAME, f[C_OFFICE_NAME]);
	if (ok[C_PARENT] && *f[C_PARENT]) {
		if (!code_valid(f[C_PARENT], 4, false)) {
			reject(imp, ri, C_PARENT, "must be empty or 4 characters of 0-9 and A-Z");
			ok[C_PARENT] = false;
		} else if (strcmp(f[C_PARENT], f[C_OFFICE_CODE]) == 0) {
			reject(imp, ri, C_PARENT, "an office cannot be its own parent");
			ok[C_PARENT] = false;
		}
	}
	if (ok[C_UNIT_CODE] && !(ok[C_UNIT_CODE] = code_valid(f[C_UNIT_CODE], 7, true)))
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
		else if (char_count(s) > LOGIN_MAX_CHARS)
			reject(imp, ri, C_LOGIN, "is longer than %d characters", LOGIN_MAX_CHARS);
		else if (has_cp(s, true))
			reject(imp, ri, C_LOGIN, "contains white space or a control character");
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
		struct office *o = office_for(imp, f[C_OFFICE_CODE]);
		if (!o)
			return;
		if (ok[C_OFFICE_NAME])
			agree(imp, ri, &o->name, C_OFFICE_NAME, f[C_OFFICE_NAME], "office", o->code);
		if (ok[C_PARENT])
			agree(imp, ri, &o->parent, C_PARENT, NUL_IF_EMPTY(f[C_PARENT]), "office", o->code);
	}
	if (ok[C_UNIT_CODE]) {
		struct unit *u = unit_for(imp, f[C_UNIT_CODE]);
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
	struct import *imp;
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
	int st = normalize_into(&ps->cell[i], s, len);
	if (st == 1)
		parse_fail(ps, ROSTER_MALFORMED, "line %ld: invalid UTF-8 (or a NUL byte) in column %d", ps->line, i + 1);
	else if (st == 3)
		parse_fail(ps, ROSTER_DB_ERROR, "out of memory");
	else if (st == 2)
		normalize_into(&ps->cell[i], "", 0);
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

/* Parse and validate the whole file. ROSTER_OK, MALFORMED, or DB_ERROR (out of memory), with err. */
static enum roster_result parse_all(struct import *imp, const char *data, size_t len, char *err, size_t errlen)
{
	struct csv_parser csv;
	struct parse ps = { .imp = imp, .err = err, .errlen = errlen, .failure = ROSTER_OK };
	const char *p = data, *end = data + len;

	for (int i = 0; i < NCOLS; i++) {
		buf_init(&ps.cell[i], PARAM_MAX);
		buf_init(&ps.raw[i], PARAM_MAX);
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
		parse_fail(&ps, ROSTER_MALFORMED, "line %ld: unterminated quoted field", ps.row_start ? ps.row_start : ps.line);
	if (ps.failure == ROSTER_OK && !ps.header_seen)
		parse_fail(&ps, ROSTER_MALFORMED, "line 1: the file is empty (a header line is required)");
	csv_free(&csv);
	for (int i = 0; i < NCOLS; i++) {
		buf_free(&ps.cell[i]);
		buf_free(&ps.raw[i]);
	}
	return ps.failure;
}

/* ---- database: arrays, loading, checks ------------------------------------ */

/* A PostgreSQL array literal, built as one text parameter. */
struct arr {
	struct buf b;
	size_t n;
	bool closed;
};

static void arr_init(struct arr *a)
{
	buf_init(&a->b, PARAM_MAX);
	buf_append(&a->b, "{", 1);
	a->n = 0;
	a->closed = false;
}

static void arr_add(struct arr *a, const char *s)
{
	if (a->n++)
		buf_append(&a->b, ",", 1);
	if (!s) {
		buf_append(&a->b, "NULL", 4);
		return;
	}
	buf_append(&a->b, "\"", 1);
	while (*s) {
		size_t k = strcspn(s, "\"\\");
		buf_append(&a->b, s, k);
		s += k;
		if (*s) {
			char esc[2] = { '\\', *s++ };
			buf_append(&a->b, esc, 2);
		}
	}
	buf_append(&a->b, "\"", 1);
}

static void arr_addll(struct arr *a, long long v)
{
	char t[24];

	snprintf(t, sizeof(t), "%lld", v);
	arr_add(a, t);
}

static void arr_free(struct arr *a)
{
	buf_free(&a->b);
}

/* The finished literal (no more elements may be added), or NULL (sets oom) if it did not fit in memory. */
static const char *arr_text(struct import *imp, struct arr *a)
{
	if (!a->closed) {
		buf_append(&a->b, "}", 1);
		a->closed = true;
	}
	if (!buf_ok(&a->b)) {
		imp->oom = true;
		return NULL;
	}
	return a->b.data;
}

/*
 * Run sql with the arrays as parameters $1..$n. NULL on a failed statement
 * (logged by db_exec) or on allocation failure (sets oom).
 */
static PGresult *exec_arrays(struct import *imp, PGconn *conn, const char *sql, struct arr *a, int n)
{
	const char *params[8];

	if (n > 8)
		return NULL;
	for (int i = 0; i < n; i++)
		if (!(params[i] = arr_text(imp, &a[i])))
			return NULL;
	return db_exec(conn, sql, n, params);
}

static bool exec_ok(PGconn *conn, const char *sql)
{
	PGresult *res = db_exec(conn, sql, 0, NULL);

	PQclear(res);
	return res != NULL;
}

/* Stored offices for every office and parent code in the file. */
static bool load_offices(struct import *imp, PGconn *conn)
{
	struct arr codes;

	arr_init(&codes);
	for (size_t i = 0; i < imp->noffices; i++) {
		arr_add(&codes, imp->offices[i].code);
		if (imp->offices[i].parent.v)
			arr_add(&codes, imp->offices[i].parent.v);
	}
	imp->db_offices = exec_arrays(imp, conn,
				      "SELECT code, name, parent_code, level, active FROM offices WHERE code = ANY($1::text[])",
				      &codes, 1);
	arr_free(&codes);
	if (!imp->db_offices)
		return false;
	for (long i = 0; i < PQntuples(imp->db_offices); i++) {
		const char *code = PQgetvalue(imp->db_offices, (int)i, DO_CODE);
		size_t oi;
		if (!strmap_put(&imp->db_office_map, code, (size_t)i)) {
			imp->oom = true;
			return false;
		}
		if (strmap_get(&imp->office_map, code, &oi))
			imp->offices[oi].db = i;
	}
	return true;
}

/*
 * Level of office o from the hierarchy: walk up at most 4 steps through the
 * file, then the database. 0 = unknown (an ancestor's parent is invalid or
 * missing, reported on that ancestor), -1 = loop, 4+ = too deep.
 */
static int office_level(struct import *imp, const struct office *o, bool *missing_parent)
{
	const struct office *cur = o;
	size_t i, di;

	*missing_parent = false;
	for (int steps = 0; steps <= 3; steps++) {
		if (!cur->parent.set)
			return 0;
		if (!cur->parent.v)
			return steps + 1;
		if (strmap_get(&imp->office_map, cur->parent.v, &i)) {
			cur = &imp->offices[i];
			if (cur == o)
				return -1;
			continue;
		}
		if (strmap_get(&imp->db_office_map, cur->parent.v, &di))
			return (int)strtol(PQgetvalue(imp->db_offices, (int)di, DO_LEVEL), NULL, 10) + steps + 1;
		*missing_parent = steps == 0;
		return 0;
	}
	return 4 + 1;
}

/* Resolve every office's level, and refuse changes that would break stored sub-offices. */
static bool check_hierarchy(struct import *imp, PGconn *conn)
{
	struct arr moved;
	PGresult *res = NULL;
	bool missing;

	arr_init(&moved);
	for (size_t i = 0; i < imp->noffices; i++) {
		struct office *o = &imp->offices[i];
		int level = office_level(imp, o, &missing);
		o->level = 0;
		if (missing)
			reject(imp, o->parent.row, C_PARENT, "office %s is neither in the file nor in the database",
			       o->parent.v);
		else if (level < 0)
			reject(imp, o->parent.row, C_PARENT, "the office hierarchy loops back to office %s", o->code);
		else if (level > 3)
			reject(imp, o->parent.row, C_PARENT,
			       "office %s would be at level 4 or deeper; there are at most 3 levels"
			       " (central, regional, transaction office)",
			       o->code);
		else
			o->level = level;
		if (o->level && o->db >= 0 &&
		    strtol(PQgetvalue(imp->db_offices, (int)o->db, DO_LEVEL), NULL, 10) != o->level)
			arr_add(&moved, o->code);
	}
	if (moved.n == 0) {
		arr_free(&moved);
		return true;
	}
	/* a stored sub-office not in the file keeps its level: its parent must too */
	res = exec_arrays(imp, conn, "SELECT code, parent_code FROM offices WHERE parent_code = ANY($1::text[]) ORDER BY code",
			  &moved, 1);
	arr_free(&moved);
	if (!res)
		return false;
	for (int i = 0; i < PQntuples(res); i++) {
		size_t pi;
		if (strmap_get(&imp->office_map, PQgetvalue(res, i, 0), NULL) ||
		    !strmap_get(&imp->office_map, PQgetvalue(res, i, 1), &pi))
			continue;
		const struct office *o = &imp->offices[pi];
		reject(imp, o->parent.row, C_PARENT,
		       "office %s would move to level %d, but its sub-office %s (not in the file) must stay one level"
		       " below it; include the sub-offices in the file",
		       o->code, o->level, PQgetvalue(res, i, 0));
	}
	PQclear(res);
	return true;
}

/* Units with no, or several, account holders among the valid rows. */
static bool collect_warnings(struct import *imp, json_t *warnings)
{
	for (size_t i = 0; i < imp->nrows; i++) {
		const struct row *r = &imp->rows[i];
		size_t ui;
		if (r->reason_col != NCOLS || !strmap_get(&imp->unit_map, r->unit, &ui))
			continue;
		struct unit *u = &imp->units[ui];
		u->valid_rows++;
		if (!(r->roles & ROLE_HOLDER))
			continue;
		if (u->holders < HOLDERS_LISTED)
			u->holder_logins[u->holders] = r->login;
		u->holders++;
	}
	for (size_t i = 0; i < imp->nunits; i++) {
		const struct unit *u = &imp->units[i];
		struct buf msg;
		/* no warning for a unit whose every row was rejected: the rejections say enough */
		if (u->holders == 1 || u->valid_rows == 0)
			continue;
		buf_init(&msg, 8192);
		if (u->holders == 0) {
			buf_printf(&msg, "no user has the account_holder role");
		} else {
			buf_printf(&msg, "%d users have the account_holder role:", u->holders);
			for (int k = 0; k < u->holders && k < HOLDERS_LISTED; k++)
				buf_printf(&msg, "%s %s", k ? "," : "", u->holder_logins[k]);
			if (u->holders > HOLDERS_LISTED)
				buf_printf(&msg, ", ...");
		}
		json_t *w = buf_ok(&msg) ? json_pack("{s:s,s:s}", "unit_code", u->code, "message", msg.data) : NULL;
		buf_free(&msg);
		if (!w || json_array_append_new(warnings, w) != 0)
			return false;
	}
	return true;
}

/*
 * Stored units and their accounts (canonical form), the stored users with
 * the file's logins and their roles, and the active members of the file's
 * units (the leavers among them are those whose login is not in the file).
 * Joins against unnest() let the planner pick hash joins for big files and
 * index lookups for small ones.
 */
static bool load_units_users(struct import *imp, PGconn *conn)
{
	struct arr units, logins, ids;
	struct strmap by_id = { 0 };
	bool ok = false;

	arr_init(&units);
	arr_init(&logins);
	arr_init(&ids);
	for (size_t i = 0; i < imp->nunits; i++)
		arr_add(&units, imp->units[i].code);
	for (size_t i = 0; i < imp->nrows; i++)
		arr_add(&logins, imp->rows[i].login);

	imp->db_units = exec_arrays(imp, conn,
				    "SELECT b.code, b.name, b.office_code, b.contact_email, b.contact_phone, b.active"
				    " FROM unnest($1::text[]) AS f(code) JOIN budget_units b ON b.code = f.code",
				    &units, 1);
	if (!imp->db_units)
		goto out;
	for (long i = 0; i < PQntuples(imp->db_units); i++) {
		size_t ui;
		if (strmap_get(&imp->unit_map, PQgetvalue(imp->db_units, (int)i, DU_CODE), &ui))
			imp->units[ui].db = i;
	}
	imp->db_accounts = exec_arrays(imp, conn,
				       "SELECT a.unit_code, string_agg(a.account, ';' ORDER BY a.account COLLATE \"C\")"
				       " FROM unnest($1::text[]) AS f(code) JOIN unit_accounts a ON a.unit_code = f.code"
				       " GROUP BY a.unit_code",
				       &units, 1);
	if (!imp->db_accounts)
		goto out;
	for (int i = 0; i < PQntuples(imp->db_accounts); i++) {
		size_t ui;
		if (strmap_get(&imp->unit_map, PQgetvalue(imp->db_accounts, i, 0), &ui))
			imp->units[ui].db_accounts = PQgetvalue(imp->db_accounts, i, 1);
	}

	imp->db_users = exec_arrays(imp, conn,
				    "SELECT u.id, u.dvctt_login, u.unit_code, u.full_name, u.email, u.phone, u.active"
				    " FROM unnest($1::text[]) AS l(login) JOIN users u ON u.dvctt_login = l.login",
				    &logins, 1);
	if (!imp->db_users)
		goto out;
	for (long i = 0; i < PQntuples(imp->db_users); i++) {
		size_t ri;
		const char *id = PQgetvalue(imp->db_users, (int)i, DP_ID);
		if (!strmap_get(&imp->login_map, PQgetvalue(imp->db_users, (int)i, DP_LOGIN), &ri))
			continue;
		imp->rows[ri].db = i;
		arr_add(&ids, id);
		if (!strmap_put(&by_id, id, ri)) {
			imp->oom = true;
			goto out;
		}
	}
	imp->db_roles = exec_arrays(imp, conn,
				    "SELECT r.user_id, r.role FROM unnest($1::bigint[]) AS i(id) JOIN user_roles r ON r.user_id = i.id",
				    &ids, 1);
	if (!imp->db_roles)
		goto out;
	for (int i = 0; i < PQntuples(imp->db_roles); i++) {
		size_t ri;
		const char *role = PQgetvalue(imp->db_roles, i, 1);
		if (strmap_get(&by_id, PQgetvalue(imp->db_roles, i, 0), &ri))
			imp->rows[ri].db_roles |= strcmp(role, "account_holder") == 0	  ? ROLE_HOLDER
						  : strcmp(role, "chief_accountant") == 0 ? ROLE_CHIEF
											  : ROLE_ACCOUNTANT;
	}
	PQclear(imp->db_roles); /* folded into the rows' masks */
	imp->db_roles = NULL;
	imp->db_members = exec_arrays(imp, conn,
				      "SELECT u.id, u.dvctt_login FROM unnest($1::text[]) AS f(code)"
				      " JOIN users u ON u.unit_code = f.code WHERE u.active",
				      &units, 1);
	ok = imp->db_members != NULL;
out:
	strmap_free(&by_id);
	arr_free(&units);
	arr_free(&logins);
	arr_free(&ids);
	return ok;
}

static void count(struct roster_counts *c, bool created, bool changed)
{
	if (created)
		c->created++;
	else if (changed)
		c->updated++;
	else
		c->unchanged++;
}

static bool write_offices(struct import *imp, PGconn *conn, struct roster_counts *c)
{
	struct arr a[4];
	PGresult *res;
	char level[8];

	for (int i = 0; i < 4; i++)
		arr_init(&a[i]);
	for (size_t i = 0; i < imp->noffices; i++) {
		struct office *o = &imp->offices[i];
		const PGresult *d = imp->db_offices;
		bool changed = o->db < 0 || !streq(dbval(d, o->db, DO_NAME), o->name.v) ||
			       !streq(dbval(d, o->db, DO_PARENT), o->parent.v) ||
			       strtol(PQgetvalue(d, (int)o->db, DO_LEVEL), NULL, 10) != o->level ||
			       strcmp(PQgetvalue(d, (int)o->db, DO_ACTIVE), "t") != 0;
		count(c, o->db < 0, changed);
		if (!changed)
			continue;
		snprintf(level, sizeof(level), "%d", o->level);
		arr_add(&a[0], o->code);
		arr_add(&a[1], o->name.v);
		arr_add(&a[2], level);
		arr_add(&a[3], o->parent.v);
	}
	/* one statement: the parent/level foreign key is checked at its end, so row order does not matter */
	res = a[0].n ? exec_arrays(imp, conn,
				   "INSERT INTO offices (code, name, level, parent_code)"
				   " SELECT * FROM unnest($1::text[], $2::text[], $3::smallint[], $4::text[])"
				   " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level,"
				   " parent_code = EXCLUDED.parent_code, active = true",
				   a, 4)
		     : NULL;
	bool ok = !a[0].n || res;
	PQclear(res);
	for (int i = 0; i < 4; i++)
		arr_free(&a[i]);
	return ok;
}

static bool write_units(struct import *imp, PGconn *conn, struct roster_counts *c)
{
	struct arr a[5], acc[3];
	PGresult *res = NULL;
	bool ok = false;

	for (int i = 0; i < 5; i++)
		arr_init(&a[i]);
	for (int i = 0; i < 3; i++)
		arr_init(&acc[i]);
	for (size_t i = 0; i < imp->nunits; i++) {
		struct unit *u = &imp->units[i];
		const PGresult *d = imp->db_units;
		bool created = u->db < 0;
		bool accounts = !streq(u->db_accounts, u->accounts.v);
		bool changed = created || accounts || !streq(dbval(d, u->db, DU_NAME), u->name.v) ||
			       !streq(dbval(d, u->db, DU_OFFICE), u->office.v) ||
			       !streq(dbval(d, u->db, DU_EMAIL), u->email.v) ||
			       !streq(dbval(d, u->db, DU_PHONE), u->phone.v) ||
			       strcmp(PQgetvalue(d, (int)u->db, DU_ACTIVE), "t") != 0;
		count(c, created, changed);
		if (!changed)
			continue;
		arr_add(&a[0], u->code);
		arr_add(&a[1], u->name.v);
		arr_add(&a[2], u->office.v);
		arr_add(&a[3], u->email.v);
		arr_add(&a[4], u->phone.v);
		if (!accounts)
			continue;
		if (!created) /* a new unit has no accounts to remove */
			arr_add(&acc[0], u->code);
		for (const char *p = u->accounts.v; *p;) {
			char one[40];
			size_t k = strcspn(p, ";");
			snprintf(one, sizeof(one), "%.*s", (int)k, p); /* accounts are at most 32 characters */
			arr_add(&acc[1], u->code);
			arr_add(&acc[2], one);
			p += k + (p[k] == ';');
		}
	}
	if (a[0].n) {
		res = exec_arrays(imp, conn,
				  "INSERT INTO budget_units (code, name, office_code, contact_email, contact_phone)"
				  " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])"
				  " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, office_code = EXCLUDED.office_code,"
				  " contact_email = EXCLUDED.contact_email, contact_phone = EXCLUDED.contact_phone, active = true",
				  a, 5);
		if (!res)
			goto out;
		PQclear(res);
	}
	if (acc[1].n) {
		/* a unit's accounts become exactly the file's list */
		if (acc[0].n) {
			res = exec_arrays(imp, conn,
					  "DELETE FROM unit_accounts a WHERE a.unit_code = ANY($1::text[]) AND NOT EXISTS"
					  " (SELECT 1 FROM unnest($2::text[], $3::text[]) AS v(unit_code, account)"
					  "  WHERE v.unit_code = a.unit_code AND v.account = a.account)",
					  acc, 3);
			if (!res)
				goto out;
			PQclear(res);
		}
		res = exec_arrays(imp, conn,
				  "INSERT INTO unit_accounts (unit_code, account)"
				  " SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
				  acc + 1, 2);
		if (!res)
			goto out;
		PQclear(res);
	}
	res = NULL;
	ok = true;
out:
	PQclear(res);
	for (int i = 0; i < 5; i++)
		arr_free(&a[i]);
	for (int i = 0; i < 3; i++)
		arr_free(&acc[i]);
	return ok;
}

/* Revoke the devices (not already revoked) of the users in ids; adds the count to *revoked. */
static bool revoke_devices(struct import *imp, PGconn *conn, struct arr *ids, const char *reason, long long *revoked)
{
	const char *params[2] = { arr_text(imp, ids), reason };
	PGresult *res;

	if (!params[0])
		return false;
	res = db_exec(conn,
		      "UPDATE devices SET state = 'revoked', state_reason = $2,"
		      " access_token_hash = NULL, access_token_expires_at = NULL"
		      " WHERE user_id = ANY($1::bigint[]) AND state <> 'revoked'",
		      2, params);
	if (!res)
		return false;
	*revoked += strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return true;
}

static bool write_users(struct import *imp, PGconn *conn, struct roster_report *rep)
{
	struct arr ins[5], upd[5], roles[2], changed_roles[2], moved, gone;
	PGresult *res = NULL;
	const PGresult *d = imp->db_users;
	bool ok = false;

	for (int i = 0; i < 5; i++) {
		arr_init(&ins[i]);
		arr_init(&upd[i]);
	}
	for (int i = 0; i < 2; i++) {
		arr_init(&roles[i]);
		arr_init(&changed_roles[i]);
	}
	arr_init(&moved);
	arr_init(&gone);
	for (int i = 0; i < PQntuples(imp->db_members); i++) {
		/* an active member of a unit the file names, missing from the file: a leaver */
		if (!strmap_get(&imp->login_map, PQgetvalue(imp->db_members, i, 1), NULL)) {
			arr_add(&gone, PQgetvalue(imp->db_members, i, 0));
			rep->users.deactivated++;
		}
	}
	for (size_t i = 0; i < imp->nrows; i++) {
		struct row *r = &imp->rows[i];
		if (r->db < 0) {
			r->action = USER_CREATE;
			rep->users.created++;
			arr_add(&ins[0], r->login);
			arr_add(&ins[1], r->unit);
			arr_add(&ins[2], r->name);
			arr_add(&ins[3], r->email);
			arr_add(&ins[4], r->phone);
			continue;
		}
		r->id = strtoll(PQgetvalue(d, (int)r->db, DP_ID), NULL, 10);
		r->moved = strcmp(PQgetvalue(d, (int)r->db, DP_UNIT), r->unit) != 0;
		r->roles_changed = r->db_roles != r->roles;
		bool changed = r->moved || r->roles_changed || !streq(dbval(d, r->db, DP_NAME), r->name) ||
			       !streq(dbval(d, r->db, DP_EMAIL), r->email) || !streq(dbval(d, r->db, DP_PHONE), r->phone) ||
			       strcmp(PQgetvalue(d, (int)r->db, DP_ACTIVE), "t") != 0;
		r->action = changed ? USER_UPDATE : USER_SAME;
		count(&rep->users, false, changed);
		if (!changed)
			continue;
		arr_addll(&upd[0], r->id);
		arr_add(&upd[1], r->unit);
		arr_add(&upd[2], r->name);
		arr_add(&upd[3], r->email);
		arr_add(&upd[4], r->phone);
		if (r->moved)
			arr_addll(&moved, r->id);
	}
	if (ins[0].n) {
		res = exec_arrays(imp, conn,
				  "INSERT INTO users (dvctt_login, unit_code, full_name, email, phone)"
				  " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])"
				  " RETURNING id, dvctt_login",
				  ins, 5);
		if (!res)
			goto out;
		for (int i = 0; i < PQntuples(res); i++) {
			size_t ri;
			if (strmap_get(&imp->login_map, PQgetvalue(res, i, 1), &ri))
				imp->rows[ri].id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		}
		PQclear(res);
		res = NULL;
	}
	if (upd[0].n) {
		res = exec_arrays(imp, conn,
				  "UPDATE users u SET unit_code = v.unit_code, full_name = v.full_name, email = v.email,"
				  " phone = v.phone, active = true, deactivated_at = NULL"
				  " FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])"
				  "  AS v(id, unit_code, full_name, email, phone)"
				  " WHERE u.id = v.id",
				  upd, 5);
		if (!res)
			goto out;
		PQclear(res);
		res = NULL;
	}
	/* roles: exactly the file's set, for new users and users whose set changed */
	for (size_t i = 0; i < imp->nrows; i++) {
		const struct row *r = &imp->rows[i];
		char mask[8];
		if (r->action != USER_CREATE && !r->roles_changed)
			continue;
		snprintf(mask, sizeof(mask), "%u", r->roles);
		arr_addll(&roles[0], r->id);
		arr_add(&roles[1], mask);
		if (r->action == USER_CREATE)
			continue;
		arr_addll(&changed_roles[0], r->id);
		arr_add(&changed_roles[1], mask);
	}
	if (changed_roles[0].n) {
		res = exec_arrays(imp, conn,
				  "DELETE FROM user_roles r USING unnest($1::bigint[], $2::int[]) AS v(id, mask)"
				  " WHERE r.user_id = v.id AND (v.mask & CASE r.role WHEN 'account_holder' THEN 1"
				  " WHEN 'chief_accountant' THEN 2 ELSE 4 END) = 0",
				  changed_roles, 2);
		if (!res)
			goto out;
		PQclear(res);
		res = NULL;
	}
	if (roles[0].n) {
		res = exec_arrays(imp, conn,
				  "INSERT INTO user_roles (user_id, role)"
				  " SELECT v.id, x.role FROM unnest($1::bigint[], $2::int[]) AS v(id, mask)"
				  " JOIN (VALUES (1, 'account_holder'::user_role), (2, 'chief_accountant'::user_role),"
				  "  (4, 'accountant'::user_role)) AS x(bit, role) ON (v.mask & x.bit) <> 0"
				  " ON CONFLICT DO NOTHING",
				  roles, 2);
		if (!res)
			goto out;
		PQclear(res);
		res = NULL;
	}
	/* a user moved to another unit must activate their phones again */
	if (moved.n && !revoke_devices(imp, conn, &moved, "user_moved_unit", &rep->devices_revoked))
		goto out;
	if (gone.n) {
		/* leavers: deactivated, live activation codes voided, devices revoked */
		res = exec_arrays(imp, conn, "UPDATE users SET active = false, deactivated_at = now() WHERE id = ANY($1::bigint[])",
				  &gone, 1);
		if (!res)
			goto out;
		PQclear(res);
		res = exec_arrays(imp, conn,
				  "UPDATE activation_codes SET voided_at = now()"
				  " WHERE user_id = ANY($1::bigint[]) AND used_at IS NULL AND voided_at IS NULL",
				  &gone, 1);
		if (!res)
			goto out;
		PQclear(res);
		res = NULL;
		if (!revoke_devices(imp, conn, &gone, "user_deactivated", &rep->devices_revoked))
			goto out;
	}
	ok = true;
out:
	PQclear(res);
	for (int i = 0; i < 5; i++) {
		arr_free(&ins[i]);
		arr_free(&upd[i]);
	}
	for (int i = 0; i < 2; i++) {
		arr_free(&roles[i]);
		arr_free(&changed_roles[i]);
	}
	arr_free(&moved);
	arr_free(&gone);
	return ok;
}

static json_t *counts_json(const struct roster_counts *c, bool with_deactivated)
{
	json_t *o = json_pack("{s:I,s:I,s:I}", "created", (json_int_t)c->created, "updated", (json_int_t)c->updated,
			      "unchanged", (json_int_t)c->unchanged);

	if (o && with_deactivated && json_object_set_new(o, "deactivated", json_integer(c->deactivated)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The counts only: the audit entry's details and the core of the report. */
static json_t *counts_object(const struct roster_report *rep)
{
	return json_pack("{s:I,s:o*,s:o*,s:o*,s:I}", "rows", (json_int_t)rep->rows, "offices",
			 counts_json(&rep->offices, false), "units", counts_json(&rep->units, false), "users",
			 counts_json(&rep->users, true), "devices_revoked", (json_int_t)rep->devices_revoked);
}

json_t *roster_report_json(const struct roster_report *report, bool dry_run)
{
	return json_pack("{s:b,s:I,s:o*,s:o*,s:o*,s:I,s:o*,s:o*}", "dry_run", dry_run, "rows", (json_int_t)report->rows,
			 "offices", counts_json(&report->offices, false), "units", counts_json(&report->units, false),
			 "users", counts_json(&report->users, true), "devices_revoked", (json_int_t)report->devices_revoked,
			 "rejected", report->rejected ? json_incref(report->rejected) : json_array(), "warnings",
			 report->warnings ? json_incref(report->warnings) : json_array());
}

void roster_report_free(struct roster_report *report)
{
	json_decref(report->rejected);
	json_decref(report->warnings);
	report->rejected = NULL;
	report->warnings = NULL;
}

static bool audit_import(PGconn *conn, const struct roster_report *rep, const char *actor_kind, const char *actor_id)
{
	json_t *counts = counts_object(rep);
	char *details = counts ? json_dumps(counts, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	struct audit_entry e = { .actor_kind = actor_kind, .actor_id = actor_id, .action = "roster.import",
				 .outcome = "ok", .details = details };
	bool ok = details && audit_write(conn, &e);

	free(details);
	json_decref(counts);
	return ok;
}

static bool list_rejected(const struct import *imp, json_t *rejected)
{
	for (size_t i = 0; i < imp->nrows; i++) {
		const struct row *r = &imp->rows[i];
		if (r->reason_col == NCOLS)
			continue;
		json_t *o = json_pack("{s:I,s:s}", "line", (json_int_t)r->line, "reason", r->reason ? r->reason : "");
		if (!o || json_array_append_new(rejected, o) != 0)
			return false;
	}
	return true;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void import_free(struct import *imp)
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

enum roster_result roster_import(PGconn *conn, const char *data, size_t len, bool dry_run,
				 const char *actor_kind, const char *actor_id, struct roster_report *report,
				 char *err, size_t errlen)
{
	struct import imp;
	enum roster_result rc;
	bool in_tx = false;
	long long started = now_ms(), parsed = 0;

	memset(report, 0, sizeof(*report));
	report->rejected = json_array();
	report->warnings = json_array();
	memset(&imp, 0, sizeof(imp));
	buf_init(&imp.scratch, PARAM_MAX);
	buf_init(&imp.scratch2, PARAM_MAX);
	if (errlen)
		err[0] = '\0';
	if (!report->rejected || !report->warnings) {
		imp.oom = true;
		goto fail;
	}
	rc = parse_all(&imp, data, len, err, errlen);
	if (rc != ROSTER_OK)
		goto out;
	parsed = now_ms();
	report->rows = (long long)imp.nrows;
	if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
		snprintf(err, errlen, "the database connection is not idle");
		rc = ROSTER_DB_ERROR;
		goto out;
	}
	if (!exec_ok(conn, "BEGIN"))
		goto fail;
	in_tx = true;
	/* one import at a time: each diffs against what it loaded */
	if (!exec_ok(conn, "SELECT pg_advisory_xact_lock(" ROSTER_LOCK_KEY ")"))
		goto fail;
	/* big set-based statements: hash joins in memory, no JIT compile time (both end with the transaction) */
	/* a national import takes longer than the connection's default statement timeout */
	if (!exec_ok(conn, "SET LOCAL work_mem = '64MB'") || !exec_ok(conn, "SET LOCAL jit = off") ||
	    !exec_ok(conn, "SET LOCAL statement_timeout = 0"))
		goto fail;
	if (!load_offices(&imp, conn) || !check_hierarchy(&imp, conn) || imp.oom)
		goto fail;
	if (!collect_warnings(&imp, report->warnings)) {
		imp.oom = true;
		goto fail;
	}
	if (imp.nrejected) {
		if (!list_rejected(&imp, report->rejected)) {
			imp.oom = true;
			goto fail;
		}
		snprintf(err, errlen, "%ld of %lld rows rejected; nothing was written", imp.nrejected, report->rows);
		rc = ROSTER_REJECTED;
		goto rollback;
	}
	if (!load_units_users(&imp, conn) || !write_offices(&imp, conn, &report->offices) ||
	    !write_units(&imp, conn, &report->units) || !write_users(&imp, conn, report))
		goto fail;
	if (!dry_run && !audit_import(conn, report, actor_kind, actor_id))
		goto fail;
	if (!exec_ok(conn, dry_run ? "ROLLBACK" : "COMMIT"))
		goto fail;
	in_tx = false;
	struct log_field f[] = { LOG_I("rows", report->rows), LOG_I("users_created", report->users.created),
				 LOG_I("users_updated", report->users.updated),
				 LOG_I("users_deactivated", report->users.deactivated),
				 LOG_I("devices_revoked", report->devices_revoked), LOG_I("dry_run", dry_run),
				 LOG_I("parse_ms", parsed - started), LOG_I("database_ms", now_ms() - parsed) };
	log_fields(LOG_INFO, "roster imported", f, 8);
	rc = ROSTER_OK;
	goto out;
fail:
	snprintf(err, errlen, "%s", imp.oom ? "out of memory" : "database error (see log)");
	rc = ROSTER_DB_ERROR;
	/* the counts of a failed import mean nothing */
	memset(&report->offices, 0, sizeof(report->offices));
	memset(&report->units, 0, sizeof(report->units));
	memset(&report->users, 0, sizeof(report->users));
	report->devices_revoked = 0;
rollback:
	if (in_tx)
		PQclear(PQexec(conn, "ROLLBACK"));
out:
	import_free(&imp);
	return rc;
}
