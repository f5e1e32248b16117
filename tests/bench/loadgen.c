/*
 * loadgen.c - HTTP load generator for alertd's signed ingest endpoints.
 *
 * Sends balance.changed events to
 *   single: POST {url}/v1/ingest/{source}/events        (one event)
 *   batch:  POST {url}/v1/ingest/{source}/events/batch  ({"events":[...]})
 * each request signed per Standard Webhooks: webhook-id, webhook-timestamp,
 * webhook-signature: v1,base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")),
 * key = base64-decoded part of the secret after "whsec_". libcurl multi,
 * HTTP/1.1 keep-alive, one easy handle per concurrent connection, reused.
 *
 * Closed loop (default): each connection sends its next request as soon as
 * the previous one completes; latency is measured from the actual send.
 * Open loop (--rate EVENTS_PER_S): requests are scheduled at fixed intervals
 * and latency is measured from the scheduled time, so queueing behind a slow
 * server shows in the numbers (no coordinated omission); --concurrency caps
 * the connections. Scheduled requests still unsent at the end are reported.
 *
 * Usage:
 *   loadgen --url http://127.0.0.1:8080 --source bank1 --secret-file FILE
 *           [--secret whsec_...] [--mode single|batch] [--concurrency 64]
 *           [--batch-size 500] [--duration 10] [--requests N] [--rate EV/S]
 *           [--warmup 0] [--id-prefix STR] [--unit 1000001] [--ids-out FILE]
 *           [--times-out FILE] [--timeout 10]
 * --ids-out appends the id of every accepted (2xx) event; --times-out writes
 * "<event id>\t<µs since the epoch>" for every accepted event sent after the
 * warm-up, the time being when the request was due (open loop: scheduled;
 * closed loop: actually sent), on the wall clock, so that another process on
 * the same machine can measure from it (bench-push.sh: event to push).
 * Output: one line on stdout,
 *   mode=single requests=N events=N ok=N non2xx=N errors=N seconds=S
 *   req_per_s=X events_per_s=X p50_ms=X p90_ms=X p99_ms=X max_ms=X
 * and the non-2xx status breakdown and first curl errors on stderr.
 * Exit: 0 run completed (even with non-2xx), 2 usage error, 1 setup failure.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <sodium.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY (4u << 20) /* request body cap */
#define MAX_TEXT 64	    /* --id-prefix, --unit, --source */
#define MAX_URL 2048
#define MAX_SECRET 4096 /* secret text / file */
#define MAX_KEY 256	/* decoded HMAC key */
#define SNIP 200	/* kept bytes of the first non-2xx body */
#define NSTATUS 1000	/* HTTP status buckets; others count as 0 */

typedef struct {
	char *p;
	size_t len, cap;
} buf_t;

typedef struct {
	CURL *h;
	struct curl_slist *hdrs;
	buf_t body;
	char err[CURL_ERROR_SIZE];
	char snip[SNIP + 1];
	size_t sniplen;
	double sched, sent; /* latency reference / actual send (monotonic s) */
	uint64_t first_ev;
	unsigned nev;
	int counted, busy;
} slot_t;

static struct {
	const char *url, *source, *unit, *ids_out, *times_out;
	char prefix[MAX_TEXT + 1];
	int batch, conc, bsize, dur_set;
	double duration, rate, warmup, timeout;
	long long max_req;
} cfg = { .unit = "1000001", .conc = 64, .bsize = 500, .duration = 10, .timeout = 10 };

static volatile sig_atomic_t g_stop;
static unsigned char g_key[MAX_KEY];
static size_t g_keylen;
static uint64_t g_next_ev = 1, g_next_req;
static FILE *g_ids, *g_times;
static int g_ids_failed, g_times_failed;
static double g_mono0, g_wall0; /* one instant on both clocks (--times-out) */

static struct {
	long long ok, non2xx, errors, events, nerr_total;
	long long status[NSTATUS];
	uint64_t *lat;
	size_t nlat, caplat;
	int lat_failed, snip_shown, nerr;
	char errs[3][CURL_ERROR_SIZE];
	long long errcnt[3];
} st;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static double now_clock(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_mono(void)
{
	return now_clock(CLOCK_MONOTONIC);
}

static int buf_printf(buf_t *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->len : NULL, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return 0;
		}
		size_t need = b->len + (size_t)n + 1, ncap = b->cap ? b->cap : 4096;
		if (need > MAX_BODY)
			return -1;
		while (ncap < need)
			ncap *= 2;
		if (ncap > MAX_BODY)
			ncap = MAX_BODY;
		char *np = realloc(b->p, ncap);
		if (!np)
			return -1;
		b->p = np;
		b->cap = ncap;
	}
}

static int parse_ll(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_dbl(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* 1..MAX_TEXT chars; source names follow ^[a-z0-9][a-z0-9_-]{0,62}$. */
static int valid_text(const char *s, int source)
{
	size_t n = strlen(s);
	if (n == 0 || n > (source ? 63u : (size_t)MAX_TEXT))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '_' || c == '-'));
		if (!source)
			ok = ok || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == '-';
		if (!ok)
			return 0;
	}
	return 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: loadgen --url URL --source NAME (--secret whsec_... | --secret-file FILE)\n"
		   "               [--mode single|batch] [--concurrency 1-1024] [--batch-size 1-1000]\n"
		   "               [--duration SECONDS] [--requests N] [--rate EVENTS_PER_S]\n"
		   "               [--warmup SECONDS] [--id-prefix STR] [--unit CODE]\n"
		   "               [--ids-out FILE] [--times-out FILE] [--timeout SECONDS]\n");
}

/* Reads "whsec_<base64>" from text (trailing whitespace ignored) into g_key. */
static int load_key(char *text)
{
	size_t n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' || text[n - 1] == '\t'))
		text[--n] = '\0';
	if (n <= 6 || strncmp(text, "whsec_", 6) != 0) {
		fprintf(stderr, "loadgen: secret must look like whsec_<base64>\n");
		return -1;
	}
	if (sodium_base642bin(g_key, sizeof g_key, text + 6, n - 6, NULL, &g_keylen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    g_keylen == 0) {
		fprintf(stderr, "loadgen: secret is not valid base64 (or key > %d bytes)\n", MAX_KEY);
		return -1;
	}
	return 0;
}

static int read_secret_file(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t n = fread(out, 1, cap - 1, f);
	int bad = ferror(f) || (n == cap - 1 && fgetc(f) != EOF);
	fclose(f);
	out[n] = '\0';
	if (bad || memchr(out, '\0', n)) {
		fprintf(stderr, "loadgen: %s: unreadable, too large or binary\n", path);
		return -1;
	}
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	slot_t *s = ud;
	size_t n = size * nmemb, room = SNIP - s->sniplen;
	size_t take = n < room ? n : room;
	memcpy(s->snip + s->sniplen, data, take);
	s->sniplen += take;
	return n;
}

/* Builds, signs and submits the next request on slot s. open: sched is the
 * scheduled time (open loop); otherwise latency counts from the send. */
static int start_req(CURLM *m, slot_t *s, int open, double sched, int counted)
{
	time_t wall = time(NULL);
	struct tm tm;
	char when[32], ts[32], wid[MAX_TEXT + 32], sig[64];
	if (!gmtime_r(&wall, &tm) || !strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return -1;
	s->body.len = 0;
	s->first_ev = g_next_ev;
	s->nev = cfg.batch ? (unsigned)cfg.bsize : 1;
	if (cfg.batch && buf_printf(&s->body, "{\"events\":["))
		return -1;
	for (unsigned i = 0; i < s->nev; i++) {
		if ((i && buf_printf(&s->body, ",")) || buf_printf(&s->body,
								   "{\"id\":\"%s-%" PRIu64 "\",\"type\":\"balance.changed\","
								   "\"occurred_at\":\"%s\",\"unit_code\":\"%s\",\"data\":{"
								   "\"account\":\"9523.1.1012345\",\"amount\":-1500000,"
								   "\"balance_after\":120000000,"
								   "\"description\":\"Chi luong thang 11\"}}",
								   cfg.prefix, s->first_ev + i, when, cfg.unit))
			return -1;
	}
	if (cfg.batch && buf_printf(&s->body, "]}"))
		return -1;
	g_next_ev += s->nev;
	snprintf(wid, sizeof wid, "msg_%s_%" PRIu64, cfg.prefix, ++g_next_req);
	snprintf(ts, sizeof ts, "%lld", (long long)wall);

	crypto_auth_hmacsha256_state hs;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_init(&hs, g_key, g_keylen);
	crypto_auth_hmacsha256_update(&hs, (const unsigned char *)wid, strlen(wid));
	crypto_auth_hmacsha256_update(&hs, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&hs, (const unsigned char *)ts, strlen(ts));
	crypto_auth_hmacsha256_update(&hs, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&hs, (const unsigned char *)s->body.p, s->body.len);
	crypto_auth_hmacsha256_final(&hs, mac);
	sodium_bin2base64(sig, sizeof sig, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);

	char hid[MAX_TEXT + 48], hts[64], hsig[96];
	snprintf(hid, sizeof hid, "webhook-id: %s", wid);
	snprintf(hts, sizeof hts, "webhook-timestamp: %s", ts);
	snprintf(hsig, sizeof hsig, "webhook-signature: v1,%s", sig);
	const char *hl[] = { "Content-Type: application/json", "Expect:", hid, hts, hsig };
	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
	for (size_t i = 0; i < sizeof hl / sizeof hl[0]; i++) {
		struct curl_slist *l = curl_slist_append(s->hdrs, hl[i]);
		if (!l)
			return -1;
		s->hdrs = l;
	}
	if (curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hdrs) != CURLE_OK ||
	    curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body.len) != CURLE_OK ||
	    curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->body.p) != CURLE_OK)
		return -1;
	s->err[0] = '\0';
	s->sniplen = 0;
	s->counted = counted;
	s->sent = now_mono();
	s->sched = open ? sched : s->sent;
	if (curl_multi_add_handle(m, s->h) != CURLM_OK)
		return -1;
	s->busy = 1;
	return 0;
}

static void note_error(const char *msg)
{
	st.nerr_total++;
	for (int i = 0; i < st.nerr; i++)
		if (strcmp(st.errs[i], msg) == 0) {
			st.errcnt[i]++;
			return;
		}
	if (st.nerr < 3) {
		snprintf(st.errs[st.nerr], sizeof st.errs[0], "%s", msg);
		st.errcnt[st.nerr++] = 1;
	}
}

static void finish_req(slot_t *s, CURLcode rc)
{
	long code = 0;
	curl_off_t total_us = 0;
	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(s->h, CURLINFO_TOTAL_TIME_T, &total_us);
	if (rc != CURLE_OK) {
		note_error(s->err[0] ? s->err : curl_easy_strerror(rc));
		if (s->counted)
			st.errors++;
		return;
	}
	if (code >= 200 && code <= 299) {
		if (s->counted) {
			st.ok++;
			st.events += s->nev;
		}
		for (unsigned i = 0; g_ids && i < s->nev; i++)
			if (fprintf(g_ids, "%s-%" PRIu64 "\n", cfg.prefix, s->first_ev + i) < 0)
				g_ids_failed = 1;
		if (g_ids && fflush(g_ids) != 0)
			g_ids_failed = 1;
		/* the wall-clock time the request was due: the monotonic offset
		 * from the common instant, added to that instant's wall time */
		long long due_us = (long long)llround((g_wall0 + (s->sched - g_mono0)) * 1e6);
		for (unsigned i = 0; g_times && s->counted && i < s->nev; i++)
			if (fprintf(g_times, "%s-%" PRIu64 "\t%lld\n", cfg.prefix, s->first_ev + i, due_us) < 0)
				g_times_failed = 1;
	} else {
		if (s->counted) {
			st.non2xx++;
			st.status[code > 0 && code < NSTATUS ? code : 0]++;
		}
		if (!st.snip_shown) {
			st.snip_shown = 1;
			s->snip[s->sniplen] = '\0';
			fprintf(stderr, "loadgen: first non-2xx: status %ld: %.*s\n", code, (int)strcspn(s->snip, "\r\n"),
				s->snip);
		}
	}
	if (!s->counted)
		return;
	if (st.nlat == st.caplat) {
		size_t ncap = st.caplat ? st.caplat * 2 : 65536;
		uint64_t *np = ncap < SIZE_MAX / sizeof *np ? realloc(st.lat, ncap * sizeof *np) : NULL;
		if (!np) {
			st.lat_failed = 1;
			g_stop = 1;
			return;
		}
		st.lat = np;
		st.caplat = ncap;
	}
	double lag = s->sent - s->sched; /* > 0 only in open loop */
	st.lat[st.nlat++] = (uint64_t)(lag * 1e6 + 0.5) + (uint64_t)(total_us > 0 ? total_us : 0);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static double pct_ms(double p)
{
	if (st.nlat == 0)
		return 0;
	size_t rank = (size_t)ceil(p / 100.0 * (double)st.nlat);
	if (rank < 1)
		rank = 1;
	return (double)st.lat[rank - 1] / 1000.0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "source", required_argument, NULL, 's' },
		{ "secret", required_argument, NULL, 'k' },
		{ "secret-file", required_argument, NULL, 'K' },
		{ "mode", required_argument, NULL, 'm' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "batch-size", required_argument, NULL, 'b' },
		{ "duration", required_argument, NULL, 'd' },
		{ "requests", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "id-prefix", required_argument, NULL, 'p' },
		{ "unit", required_argument, NULL, 'U' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "ids-out", required_argument, NULL, 'o' },
		{ "timeout", required_argument, NULL, 't' },
		{ "times-out", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *secret = NULL, *secret_file = NULL, *prefix = NULL;
	long long v = 0;
	int c, bad = 0;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char *e = NULL;
		switch (c) {
		case 'u':
			cfg.url = optarg;
			break;
		case 's':
			cfg.source = optarg;
			break;
		case 'k':
			secret = optarg;
			break;
		case 'K':
			secret_file = optarg;
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'U':
			cfg.unit = optarg;
			break;
		case 'o':
			cfg.ids_out = optarg;
			break;
		case 'T':
			cfg.times_out = optarg;
			break;
		case 'm':
			cfg.batch = strcmp(optarg, "batch") == 0;
			if (!cfg.batch && strcmp(optarg, "single") != 0)
				e = "--mode: single or batch";
			break;
		case 'c':
			if (parse_ll(optarg, 1, 1024, &v))
				e = "--concurrency: 1-1024";
			cfg.conc = (int)v;
			break;
		case 'b':
			if (parse_ll(optarg, 1, 1000, &v))
				e = "--batch-size: 1-1000";
			cfg.bsize = (int)v;
			break;
		case 'n':
			if (parse_ll(optarg, 1, 1000000000000LL, &cfg.max_req))
				e = "--requests: 1-1e12";
			break;
		case 'd':
			if (parse_dbl(optarg, 0.001, 1e7, &cfg.duration))
				e = "--duration: 0.001-1e7 s";
			cfg.dur_set = 1;
			break;
		case 'r':
			if (parse_dbl(optarg, 0.001, 1e8, &cfg.rate))
				e = "--rate: 0.001-1e8 events/s";
			break;
		case 'w':
			if (parse_dbl(optarg, 0, 1e7, &cfg.warmup))
				e = "--warmup: 0-1e7 s";
			break;
		case 't':
			if (parse_dbl(optarg, 0.001, 86400, &cfg.timeout))
				e = "--timeout: 0.001-86400 s";
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			bad = 1;
			break;
		}
		if (e)
			bad = fprintf(stderr, "loadgen: %s\n", e);
	}
	if (optind < argc)
		bad = fprintf(stderr, "loadgen: unexpected argument: %s\n", argv[optind]);
	if (!cfg.url || !cfg.source || !secret == !secret_file)
		bad = fprintf(stderr, "loadgen: --url, --source and exactly one of --secret/--secret-file are required\n");
	if (cfg.url && (strlen(cfg.url) > MAX_URL || (strncmp(cfg.url, "http://", 7) && strncmp(cfg.url, "https://", 8))))
		bad = fprintf(stderr, "loadgen: --url must be http(s)://..., at most %d chars\n", MAX_URL);
	if (cfg.source && !valid_text(cfg.source, 1))
		bad = fprintf(stderr, "loadgen: --source must match ^[a-z0-9][a-z0-9_-]{0,62}$\n");
	if (!valid_text(cfg.unit, 0) || (prefix && !valid_text(prefix, 0)))
		bad = fprintf(stderr, "loadgen: --unit/--id-prefix: 1-%d chars of [A-Za-z0-9._-]\n", MAX_TEXT);
	if (bad) {
		usage(stderr);
		return 2;
	}
	if (prefix)
		snprintf(cfg.prefix, sizeof cfg.prefix, "%s", prefix);
	else
		snprintf(cfg.prefix, sizeof cfg.prefix, "lg%ld-%lld", (long)getpid(), (long long)time(NULL));

	if (sodium_init() < 0) {
		fprintf(stderr, "loadgen: sodium_init failed\n");
		return 1;
	}
	char stext[MAX_SECRET + 1];
	if (secret_file ? read_secret_file(secret_file, stext, sizeof stext) != 0
			: (size_t)snprintf(stext, sizeof stext, "%s", secret) >= sizeof stext) {
		sodium_memzero(stext, sizeof stext);
		return secret_file ? 1 : 2;
	}
	int kr = load_key(stext);
	sodium_memzero(stext, sizeof stext);
	if (kr)
		return secret_file ? 1 : 2;

	char endpoint[MAX_URL + 128];
	size_t ulen = strlen(cfg.url);
	while (ulen > 0 && cfg.url[ulen - 1] == '/')
		ulen--;
	snprintf(endpoint, sizeof endpoint, "%.*s/v1/ingest/%s/events%s", (int)ulen, cfg.url, cfg.source,
		 cfg.batch ? "/batch" : "");

	int rc = 1;
	CURLM *m = NULL;
	slot_t *slots = NULL;
	int *freel = NULL, nfree = 0, busy = 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "loadgen: curl_global_init failed\n");
		goto out_key;
	}
	if (cfg.ids_out && !(g_ids = fopen(cfg.ids_out, "a"))) {
		fprintf(stderr, "loadgen: %s: %s\n", cfg.ids_out, strerror(errno));
		goto out;
	}
	if (cfg.times_out && !(g_times = fopen(cfg.times_out, "w"))) {
		fprintf(stderr, "loadgen: %s: %s\n", cfg.times_out, strerror(errno));
		goto out;
	}
	slots = calloc((size_t)cfg.conc, sizeof *slots);
	freel = calloc((size_t)cfg.conc, sizeof *freel);
	if (!slots || !freel || !(m = curl_multi_init()) ||
	    curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING) != CURLM_OK ||
	    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)cfg.conc) != CURLM_OK ||
	    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)cfg.conc) != CURLM_OK) {
		fprintf(stderr, "loadgen: out of memory / curl multi setup failed\n");
		goto out;
	}
	for (int i = 0; i < cfg.conc; i++) {
		slot_t *s = &slots[i];
		int e = !(s->h = curl_easy_init());
		if (!e)
			e = curl_easy_setopt(s->h, CURLOPT_URL, endpoint) || curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L) ||
			    curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS, (long)(cfg.timeout * 1000)) ||
			    curl_easy_setopt(s->h, CURLOPT_ERRORBUFFER, s->err) ||
			    curl_easy_setopt(s->h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) ||
			    curl_easy_setopt(s->h, CURLOPT_POST, 1L) || curl_easy_setopt(s->h, CURLOPT_TCP_NODELAY, 1L) ||
			    curl_easy_setopt(s->h, CURLOPT_USERAGENT, "alertd-loadgen/1") ||
			    curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_body) ||
			    curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s) ||
			    curl_easy_setopt(s->h, CURLOPT_PRIVATE, (char *)s);
		if (e) {
			fprintf(stderr, "loadgen: curl easy handle setup failed\n");
			goto out;
		}
		freel[nfree++] = cfg.conc - 1 - i;
	}

	signal(SIGINT, on_signal); /* stop sending, drain, report */
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	const int open = cfg.rate > 0;
	g_wall0 = now_clock(CLOCK_REALTIME);
	g_mono0 = now_mono();
	const double t0 = g_mono0, mstart = t0 + cfg.warmup;
	const double mend = (cfg.dur_set || !cfg.max_req) ? mstart + cfg.duration : INFINITY;
	const double interval = open ? (double)(cfg.batch ? cfg.bsize : 1) / cfg.rate : 0;
	double next_sched = t0;
	long long issued = 0; /* counted requests issued */
	int issuing = 1, fatal = 0;
	while (issuing || busy > 0) {
		double now = now_mono();
		if (issuing && (g_stop || now >= mend || (cfg.max_req && issued >= cfg.max_req) || fatal)) {
			issuing = 0;
			double lim = now < mend ? now : mend;
			if (open && !fatal && next_sched < lim && !(cfg.max_req && issued >= cfg.max_req)) {
				long long missed = (long long)floor((lim - next_sched) / interval) + 1;
				if (cfg.max_req && missed > cfg.max_req - issued)
					missed = cfg.max_req - issued;
				fprintf(stderr,
					"loadgen: warning: %lld scheduled requests never sent "
					"(all %d connections busy): the server did not keep up with --rate\n",
					missed, cfg.conc);
			}
		}
		while (issuing && nfree > 0 && !(cfg.max_req && issued >= cfg.max_req)) {
			double when = open ? next_sched : now;
			if (open && (next_sched > now || next_sched >= mend))
				break;
			int counted = when >= mstart;
			slot_t *s = &slots[freel[nfree - 1]];
			if (start_req(m, s, open, when, counted) != 0) {
				fprintf(stderr, "loadgen: could not build/submit request (body > %u bytes?)\n", MAX_BODY);
				fatal = 1;
				break;
			}
			nfree--;
			busy++;
			issued += counted;
			next_sched += interval;
		}
		int running = 0;
		if (curl_multi_perform(m, &running) != CURLM_OK) {
			fprintf(stderr, "loadgen: curl_multi_perform failed\n");
			fatal = 1;
			break;
		}
		CURLMsg *msg;
		int q;
		while ((msg = curl_multi_info_read(m, &q))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			char *priv = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
			slot_t *s = (slot_t *)(void *)priv;
			CURLcode res = msg->data.result; /* msg is invalid after remove */
			curl_multi_remove_handle(m, s->h);
			s->busy = 0;
			busy--;
			freel[nfree++] = (int)(s - slots);
			finish_req(s, res);
		}
		if (st.lat_failed) {
			fprintf(stderr, "loadgen: out of memory for latencies\n");
			fatal = 1;
			break;
		}
		if (!issuing && busy == 0)
			break;
		double wait = 0.1;
		now = now_mono();
		if (issuing && open && nfree > 0)
			wait = next_sched - now;
		else if (issuing && !open && nfree > 0)
			wait = 0;
		if (issuing && mend - now < wait)
			wait = mend - now;
		if (wait < 0)
			wait = 0;
		if (wait >= 0.001 || busy > 0) {
			if (curl_multi_poll(m, NULL, 0, (int)(wait * 1000), NULL) != CURLM_OK) {
				fprintf(stderr, "loadgen: curl_multi_poll failed\n");
				fatal = 1;
				break;
			}
		}
		/* sub-millisecond gap until the next open-loop send: short sleep */
		wait = open && issuing && nfree > 0 ? next_sched - now_mono() : 0;
		if (wait > 0 && wait < 0.001) {
			struct timespec ts = { 0, (long)(wait * 1e9 < 200000 ? wait * 1e9 : 200000) };
			nanosleep(&ts, NULL);
		}
	}
	double elapsed = now_mono() - mstart;
	if (elapsed < 0)
		elapsed = 0;

	if (st.nlat)
		qsort(st.lat, st.nlat, sizeof *st.lat, cmp_u64);
	long long nreq = st.ok + st.non2xx + st.errors;
	printf("mode=%s requests=%lld events=%lld ok=%lld non2xx=%lld errors=%lld seconds=%.3f "
	       "req_per_s=%.1f events_per_s=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
	       cfg.batch ? "batch" : "single", nreq, st.events, st.ok, st.non2xx, st.errors, elapsed,
	       elapsed > 0 ? (double)nreq / elapsed : 0, elapsed > 0 ? (double)st.events / elapsed : 0, pct_ms(50),
	       pct_ms(90), pct_ms(99), st.nlat ? (double)st.lat[st.nlat - 1] / 1000.0 : 0);
	fflush(stdout);
	for (int i = 0; i < NSTATUS; i++)
		if (st.status[i])
			fprintf(stderr, "status %d: %lld\n", i, st.status[i]);
	for (int i = 0; i < st.nerr; i++)
		fprintf(stderr, "curl error (%lld x): %s\n", st.errcnt[i], st.errs[i]);
	if (st.nerr_total)
		fprintf(stderr, "curl errors total (incl. warmup): %lld\n", st.nerr_total);
	if (g_ids_failed)
		fprintf(stderr, "loadgen: writing %s failed\n", cfg.ids_out);
	if (g_times_failed)
		fprintf(stderr, "loadgen: writing %s failed\n", cfg.times_out);
	rc = (fatal || g_ids_failed || g_times_failed) ? 1 : 0;
out:
	for (int i = 0; slots && i < cfg.conc; i++) {
		if (slots[i].busy)
			curl_multi_remove_handle(m, slots[i].h);
		if (slots[i].h)
			curl_easy_cleanup(slots[i].h);
		curl_slist_free_all(slots[i].hdrs);
		free(slots[i].body.p);
	}
	if (m)
		curl_multi_cleanup(m);
	if (g_ids && fclose(g_ids) != 0 && rc == 0) {
		fprintf(stderr, "loadgen: closing %s failed\n", cfg.ids_out);
		rc = 1;
	}
	if (g_times && fclose(g_times) != 0 && rc == 0) {
		fprintf(stderr, "loadgen: closing %s failed\n", cfg.times_out);
		rc = 1;
	}
	free(slots);
	free(freel);
	free(st.lat);
	curl_global_cleanup();
out_key:
	sodium_memzero(g_key, sizeof g_key);
	return rc;
}
