/*
 * cli.c - operator commands: keygen, source, sign, events, maintenance,
 * pseudonym.
 *
 * Secrets are printed exactly once, to stdout, when created; nothing here
 * logs them. Management commands are audited (actor_kind "cli", actor the
 * OS user running the command).
 */
#include "cli/cli.h"
#include "core/parse.h"
#include "core/fileio.h"
#include "core/config.h"
#include "db/db.h"
#include "alerts/fanout.h"
#include "db/maintenance.h"
#include "core/secrets.h"
#include "core/tokens.h"
#include "ingest/sources.h"
#include "ingest/webhook.h"

#include <errno.h>
#include <jansson.h>
#include <pwd.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* the old reader's bounds: a file had to be shorter than these */
#define SIGN_MAX_FILE (16 * 1024 * 1024 - 1)
#define SIGN_MAX_SECRET_FILE 1023

static const char source_usage[] =
	"usage: alertd source add NAME --office CODE [--office CODE...]\n"
	"                                         create a source that may write events for the units of\n"
	"                                         these offices and their sub-offices; prints its first secret once\n"
	"       alertd source scope NAME --office CODE [--office CODE...]\n"
	"                                         replace the offices a source may write events for\n"
	"       alertd source rotate NAME         add another secret (the old ones stay valid)\n"
	"       alertd source revoke-secret NAME ID\n"
	"       alertd source list\n";

/* args[from..] as "--office CODE" pairs into offices (at most SOURCES_MAX_OFFICES); false on anything else. */
static bool office_args(char **args, int nargs, int from, const char **offices, size_t *n)
{
	*n = 0;
	for (int i = from; i < nargs; i += 2) {
		if (strcmp(args[i], "--office") != 0 || i + 1 >= nargs || *n >= SOURCES_MAX_OFFICES)
			return false;
		offices[(*n)++] = args[i + 1];
	}
	return *n > 0;
}

bool cli_options(char **args, int nargs, int from, const char *const *names, const char **values, size_t n)
{
	for (size_t k = 0; k < n; k++)
		values[k] = NULL;
	for (int i = from; i < nargs; i += 2) {
		size_t k = 0;
		while (k < n && strcmp(args[i], names[k]) != 0)
			k++;
		if (i + 1 >= nargs || k == n || values[k])
			return false;
		values[k] = args[i + 1];
	}
	for (size_t k = 0; k < n; k++)
		if (!values[k])
			return false;
	return true;
}

void cli_actor(char *out, size_t len)
{
	struct passwd pw, *res = NULL;
	char buf[1024];
	const char *sudo = getenv("SUDO_USER");

	if (sudo && *sudo) {
		snprintf(out, len, "%s (sudo)", sudo);
		return;
	}
	if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 && res)
		snprintf(out, len, "%s", res->pw_name);
	else
		snprintf(out, len, "uid %u", (unsigned)geteuid());
}

int cli_keygen(char **args, int nargs)
{
	char err[512];

	if (nargs != 1) {
		fprintf(stderr, "usage: alertd keygen FILE   (writes a new 32-byte key with mode 0600)\n");
		return 2;
	}
	if (!secrets_create_kek(args[0], err, sizeof(err))) {
		fprintf(stderr, "alertd: keygen: %s\n", err);
		return 1;
	}
	printf("wrote a new key to %s; set secrets.key_file to it and keep a backup: without it no ingest secret can be read\n",
	       args[0]);
	return 0;
}

int cli_source(const struct config *cfg, char **args, int nargs)
{
	char err[512], actor[128], secret[SECRETS_TEXT_MAX];
	struct secrets_kek kek;
	long long secret_id = 0, revoke_id = 0;
	PGconn *conn = NULL;
	int rc = 1;
	const char *verb = nargs > 0 ? args[0] : "";
	bool add = strcmp(verb, "add") == 0, scope = strcmp(verb, "scope") == 0;
	bool needs_kek = add || strcmp(verb, "rotate") == 0;
	const char *offices[SOURCES_MAX_OFFICES];
	size_t noffices = 0;

	if (!(((add || scope) && nargs >= 4 && office_args(args, nargs, 2, offices, &noffices)) ||
	      (strcmp(verb, "rotate") == 0 && nargs == 2) || (strcmp(verb, "revoke-secret") == 0 && nargs == 3) ||
	      (strcmp(verb, "list") == 0 && nargs == 1))) {
		fputs(source_usage, stderr);
		return 2;
	}
	if (strcmp(verb, "revoke-secret") == 0 && !parse_id(args[2], &revoke_id)) {
		fprintf(stderr, "alertd: source: '%s' is not a secret id (see alertd source list)\n", args[2]);
		return 2;
	}
	if (needs_kek) {
		if (!cfg->secrets_key_file[0]) {
			fprintf(stderr, "alertd: source: secrets.key_file is not set (create one with: alertd keygen FILE)\n");
			return 1;
		}
		if (!secrets_load_kek(cfg->secrets_key_file, &kek, err, sizeof(err))) {
			fprintf(stderr, "alertd: source: %s\n", err);
			return 1;
		}
	}
	conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);
	if (!conn) {
		fprintf(stderr, "alertd: source: cannot connect to the database\n");
		goto out;
	}
	cli_actor(actor, sizeof(actor));
	if (strcmp(verb, "list") == 0) {
		if (!sources_list(conn, stdout, err, sizeof(err)))
			goto fail;
	} else if (strcmp(verb, "revoke-secret") == 0) {
		if (!sources_revoke_secret(conn, args[1], revoke_id, actor, err, sizeof(err)))
			goto fail;
		printf("revoked secret %lld of source %s\n", revoke_id, args[1]);
	} else if (scope) {
		if (!sources_scope(conn, args[1], offices, noffices, actor, err, sizeof(err)))
			goto fail;
		printf("source %s may now write events for the units of:", args[1]);
		for (size_t i = 0; i < noffices; i++)
			printf(" %s", offices[i]);
		printf(" (and their sub-offices)\n");
	} else {
		bool ok = add ? sources_add(conn, &kek, args[1], offices, noffices, actor, secret, &secret_id, err,
					    sizeof(err))
			      : sources_rotate(conn, &kek, args[1], actor, secret, &secret_id, err, sizeof(err));
		if (!ok)
			goto fail;
		printf("source:    %s\nsecret_id: %lld\nsecret:    %s\n", args[1], secret_id, secret);
		printf("\nThis secret is shown once and stored only encrypted. Give it to the ledger system over a\n"
		       "secure channel; it signs requests as described in the Standard Webhooks specification.\n");
		sodium_memzero(secret, sizeof(secret));
	}
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "alertd: source %s: %s\n", verb, err);
out:
	if (needs_kek)
		sodium_memzero(&kek, sizeof(kek));
	if (conn)
		PQfinish(conn);
	return rc;
}

/*
 * Print the concatenation of the NULL-terminated list of strings as one
 * POSIX shell word: inside single quotes, where nothing is special but the
 * quote itself, which becomes '\'' (close, an escaped quote, reopen).
 */
__attribute__((sentinel)) static void put_sh_word(const char *first, ...)
{
	va_list ap;

	putchar('\'');
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *))
		for (; *s; s++)
			if (*s == '\'')
				fputs("'\\''", stdout);
			else
				putchar(*s);
	va_end(ap);
	putchar('\'');
}

int cli_sign(char **args, int nargs)
{
	const char *source = NULL, *secret_file = NULL, *url = "http://127.0.0.1:8080", *file = NULL;
	char *secret = NULL, *body = NULL;
	size_t secret_len = 0, body_len = 0;
	struct webhook_key key;
	char id[40], ts[24], sig[WEBHOOK_SIGNATURE_TEXT], err[512];
	unsigned char raw[12];
	json_t *parsed = NULL;
	json_error_t jerr;
	int rc = 1;

	for (int i = 0; i < nargs; i++) {
		if (strcmp(args[i], "--source") == 0 && i + 1 < nargs)
			source = args[++i];
		else if (strcmp(args[i], "--secret-file") == 0 && i + 1 < nargs)
			secret_file = args[++i];
		else if (strcmp(args[i], "--url") == 0 && i + 1 < nargs)
			url = args[++i];
		else if (!file && args[i][0] != '-')
			file = args[i];
		else
			file = NULL, source = NULL;
	}
	if (!source || !secret_file || !file || !parse_is_name(source)) {
		fprintf(stderr, "usage: alertd sign --source NAME --secret-file FILE [--url URL] EVENT.json\n"
				"Prints a ready-to-run curl command that posts EVENT.json signed with the source's secret.\n"
				"A file whose top level has \"events\" goes to the batch endpoint.\n");
		return 2;
	}
	secret = fileio_read(secret_file, SIGN_MAX_SECRET_FILE, &secret_len, err, sizeof(err));
	body = secret ? fileio_read(file, SIGN_MAX_FILE, &body_len, err, sizeof(err)) : NULL;
	if (!secret || !body) {
		fprintf(stderr, "alertd: sign: %s\n", err);
		goto out;
	}
	secret[strcspn(secret, "\r\n")] = '\0';
	if (!secrets_decode(secret, key.bytes, sizeof(key.bytes), &key.len)) {
		fprintf(stderr, "alertd: sign: %s does not hold a whsec_ secret\n", secret_file);
		goto out;
	}
	parsed = json_loadb(body, body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!parsed) {
		fprintf(stderr, "alertd: sign: %s is not valid JSON: line %d: %s\n", file, jerr.line, jerr.text);
		goto out;
	}
	randombytes_buf(raw, sizeof(raw));
	memcpy(id, "msg_", 4);
	sodium_bin2hex(id + 4, sizeof(id) - 4, raw, sizeof(raw));
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	if (!webhook_sign(&key, id, ts, body, body_len, sig)) {
		fprintf(stderr, "alertd: sign: cannot sign\n");
		goto out;
	}
	/*
	 * Every value goes out single-quoted for sh (the README pipes this to it), the operator's URL and
	 * file name included; --globoff keeps curl from expanding {} and [] in the URL.
	 */
	fputs("curl -sS --globoff -X POST ", stdout);
	put_sh_word(url, "/v1/ingest/", source, "/events", json_object_get(parsed, "events") ? "/batch" : "", NULL);
	fputs(" \\\n  -H 'Content-Type: application/json' \\\n  -H ", stdout);
	put_sh_word("webhook-id: ", id, NULL);
	fputs(" \\\n  -H ", stdout);
	put_sh_word("webhook-timestamp: ", ts, NULL);
	fputs(" \\\n  -H ", stdout);
	put_sh_word("webhook-signature: ", sig, NULL);
	fputs(" \\\n  --data-binary ", stdout);
	put_sh_word("@", file, NULL);
	fputc('\n', stdout);
	fprintf(stderr, "(valid for about 5 minutes: the signature covers webhook-timestamp)\n");
	rc = 0;
out:
	sodium_memzero(&key, sizeof(key));
	if (secret)
		sodium_memzero(secret, secret_len);
	free(secret);
	free(body);
	json_decref(parsed);
	return rc;
}

int cli_events(const struct config *cfg, char **args, int nargs)
{
	const char *limit = "100";
	PGconn *conn;
	PGresult *res;

	if (nargs < 1 || strcmp(args[0], "unrouted") != 0 ||
	    (nargs != 1 && !(nargs == 3 && strcmp(args[1], "--limit") == 0))) {
		fprintf(stderr, "usage: alertd events unrouted [--limit N]\n"
				"Lists units with stored events that could not be routed (unit not in the roster).\n");
		return 2;
	}
	if (nargs == 3)
		limit = args[2];
	long long n;
	if (!parse_id(limit, &n) || n > 100000) {
		fprintf(stderr, "alertd: events: --limit takes 1 to 100000\n");
		return 2;
	}
	conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);
	if (!conn) {
		fprintf(stderr, "alertd: events: cannot connect to the database\n");
		return 1;
	}
	const char *params[1] = { limit };
	res = db_exec(conn,
		      "SELECT unit_code, count(*), min(occurred_at), max(occurred_at) FROM events"
		      " WHERE routed_at IS NULL GROUP BY unit_code ORDER BY count(*) DESC, unit_code LIMIT $1::int",
		      1, params);
	if (res) {
		printf("%-8s %8s  %-25s %s\n", "UNIT", "EVENTS", "OLDEST", "NEWEST");
		for (int r = 0; r < PQntuples(res); r++)
			printf("%-8s %8s  %-25s %s\n", PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
			       PQgetvalue(res, r, 2), PQgetvalue(res, r, 3));
	}
	PQclear(res);
	PQfinish(conn);
	return res ? 0 : 1;
}

/*
 * The pseudonym key from the KEK into key, and the collapse key into
 * collapse when it is not NULL; *have false without secrets.key_file (both
 * left alone). False (said on stderr) when the file is set but unreadable.
 */
static bool pseudonym_key(const struct config *cfg, const char *what, unsigned char key[32], unsigned char *collapse,
			  bool *have)
{
	struct secrets_kek kek;
	char err[512];

	*have = false;
	if (!cfg->secrets_key_file[0])
		return true;
	if (!secrets_load_kek(cfg->secrets_key_file, &kek, err, sizeof(err))) {
		fprintf(stderr, "alertd: %s: %s\n", what, err);
		return false;
	}
	tokens_pseudonym_key(&kek, key);
	if (collapse)
		tokens_collapse_key(&kek, collapse);
	sodium_memzero(&kek, sizeof(kek));
	*have = true;
	return true;
}

int cli_maintenance(const struct config *cfg)
{
	char err[512];
	unsigned char key[32], collapse_key[FANOUT_COLLAPSE_KEY_BYTES];
	bool have_key;
	struct maintenance_report rep;

	/* rerouted balance alerts collapse like ingested ones (the key comes from the KEK), or not at all without it */
	if (!pseudonym_key(cfg, "maintenance", key, collapse_key, &have_key))
		return 1;
	PGconn *conn = db_connect(cfg->database_url, (int)cfg->database_connect_timeout_seconds);
	if (!conn) {
		fprintf(stderr, "alertd: maintenance: cannot connect to the database\n");
		sodium_memzero(key, sizeof(key));
		sodium_memzero(collapse_key, sizeof(collapse_key));
		return 1;
	}
	bool ok = maintenance_run_once(conn, cfg, have_key ? key : NULL, &rep, err, sizeof(err));
	sodium_memzero(key, sizeof(key));
	long long routed = 0, alerts = 0;
	if (ok && !fanout_reroute(conn, cfg, have_key ? collapse_key : NULL, &routed, &alerts)) {
		snprintf(err, sizeof(err), "routing waiting events failed (see log)");
		ok = false;
	}
	PQfinish(conn);
	sodium_memzero(collapse_key, sizeof(collapse_key));
	if (!ok) {
		fprintf(stderr, "alertd: maintenance: %s\n", err);
		return 1;
	}
	if (rep.skipped) {
		printf("another instance is running maintenance right now; nothing done\n");
	} else {
		printf("partitions created: %d, dropped: %d\n", rep.partitions_created, rep.partitions_dropped);
		printf("retention:");
		for (int r = 0; r < RETENTION__RULES; r++)
			printf("%s %s %lld", r ? "," : "", retention_rule_name((enum retention_rule)r),
			       rep.retention.rows[r]);
		printf("\n");
		printf("staff accounts disabled for inactivity: %lld\n", rep.staff_disabled);
	}
	printf("events routed: %lld, alerts created: %lld\n", routed, alerts);
	return 0;
}

int cli_pseudonym(const struct config *cfg, char **args, int nargs)
{
	unsigned char key[32];
	char out[TOKENS_PSEUDONYM_LEN + 1];
	bool have_key;

	if (nargs != 1) {
		fprintf(stderr, "usage: alertd pseudonym VALUE   (a login, an address, an OS user name ...)\n");
		return 2;
	}
	if (!pseudonym_key(cfg, "pseudonym", key, NULL, &have_key))
		return 1;
	if (!have_key) {
		fprintf(stderr, "alertd: pseudonym: secrets.key_file is not set, so there are no lasting pseudonyms\n");
		return 1;
	}
	tokens_pseudonym(key, args[0], strlen(args[0]), out);
	sodium_memzero(key, sizeof(key));
	printf("%s\n", out);
	return 0;
}
