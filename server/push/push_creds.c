/*
 * push_creds.c - FCM OAuth2 access tokens and APNs provider tokens, shared
 * by the dispatcher threads (see push_creds.h).
 */
#include "push/push_creds.h"
#include "push/apns_shared.h"
#include "core/fileio.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/jwt.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/secrets.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FCM_SCOPE "https://www.googleapis.com/auth/firebase.messaging"
#define GRANT_TYPE "urn:ietf:params:oauth:grant-type:jwt-bearer"
#define RENEW_BEFORE_EXPIRY 300 /* seconds: renew an access token this long before it expires */
#define FAILED_FETCH_PAUSE 5	/* seconds between attempts while the token endpoint fails */
#define MAX_TOKEN_RESPONSE 16384
#define APNS_MAX_AGE (55 * 60) /* seconds: Apple refuses a provider token older than 60 minutes */
#define APNS_DB_RETRY 60       /* seconds: while the shared token cannot be read, ask again this often */

struct cached_token {
	char value[PUSH_TOKEN_MAX];
	unsigned gen;	       /* bumped on every new token */
	long long expires_at;  /* FCM: from expires_in; APNs: iat + refresh interval */
	bool fetching;	       /* FCM: one thread is at the token endpoint */
	long long pause_until; /* FCM: no new fetch before this after a failure */
};

struct push_creds {
	const struct config *cfg;
	struct metrics *metrics;
	pthread_mutex_t lock;
	pthread_cond_t fetched;
	bool fcm_on, apns_on;
	struct jwt_service_account sa;
	struct jwt_key *fcm_key, *apns_key;
	char *fcm_url;
	struct cached_token fcm, apns;
	struct secrets_kek kek; /* seals the shared APNs token (apns_shared.h) */
	bool kek_set;
	long long apns_iat, apns_refused_iat; /* the cached APNs token's iat; the last one Apple refused */
	bool apns_renewing;		      /* one thread is renewing the APNs token */
	long long apns_pause_until;	      /* no renewal before this after signing failed */
	pthread_cond_t apns_renewed;
};

static long long now_s(void)
{
	return (long long)time(NULL);
}

static bool valid_project_id(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

/*
 * A private key file must be a regular file that only its owner can read:
 * refused otherwise, like secrets.key_file, so a copy readable by other
 * accounts on the host is noticed at once.
 */
static bool private_file_ok(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a readable regular file", path);
		return false;
	}
	return fileio_mode_private(&st, path, err, errlen);
}

/* An https base URL without a trailing slash (paths are appended to it); "" allowed when optional. */
static bool endpoint_ok(const char *url, bool required)
{
	size_t n = strlen(url);

	if (n == 0)
		return !required;
	return strncmp(url, "https://", 8) == 0 && n > 8 && url[n - 1] != '/';
}

bool push_creds_new(const struct config *cfg, struct metrics *metrics, const struct secrets_kek *kek,
		    struct push_creds **out, char *err, size_t errlen)
{
	struct push_creds *pc = calloc(1, sizeof(*pc));

	*out = NULL;
	if (!pc || !clock_cond_init(&pc->fetched)) {
		free(pc);
		snprintf(err, errlen, "out of memory");
		return false;
	}
	if (!clock_cond_init(&pc->apns_renewed)) {
		pthread_cond_destroy(&pc->fetched);
		free(pc);
		snprintf(err, errlen, "out of memory");
		return false;
	}
	pc->cfg = cfg;
	pc->metrics = metrics;
	if (kek) {
		pc->kek = *kek;
		pc->kek_set = true;
	}
	pthread_mutex_init(&pc->lock, NULL);
	if (!endpoint_ok(cfg->fcm_endpoint, true) || !endpoint_ok(cfg->apns_endpoint, false)) {
		snprintf(err, errlen,
			 "fcm.endpoint and apns.endpoint must be https://host[:port] URLs without a trailing slash");
		goto fail;
	}
	if (cfg->fcm_credentials_file[0]) {
		if (!private_file_ok(cfg->fcm_credentials_file, err, errlen) ||
		    !jwt_service_account_load(cfg->fcm_credentials_file, &pc->sa, err, errlen))
			goto fail;
		pc->fcm_key = jwt_key_from_pem(pc->sa.private_key, strlen(pc->sa.private_key), err, errlen);
		if (!pc->fcm_key)
			goto fail;
		if (jwt_key_is_ec(pc->fcm_key)) {
			snprintf(err, errlen, "%s: private_key must be an RSA key", cfg->fcm_credentials_file);
			goto fail;
		}
		if (!valid_project_id(pc->sa.project_id)) {
			snprintf(err, errlen, "%s: project_id is not a Firebase project id", cfg->fcm_credentials_file);
			goto fail;
		}
		if (strncmp(pc->sa.token_uri, "https://", 8) != 0) {
			snprintf(err, errlen, "%s: token_uri must be an https URL", cfg->fcm_credentials_file);
			goto fail;
		}
		size_t n = strlen(cfg->fcm_endpoint) + strlen(pc->sa.project_id) + 40;
		pc->fcm_url = malloc(n);
		if (!pc->fcm_url)
			goto fail;
		snprintf(pc->fcm_url, n, "%s/v1/projects/%s/messages:send", cfg->fcm_endpoint, pc->sa.project_id);
		pc->fcm_on = true;
	}
	if (cfg->apns_key_file[0]) {
		if (!private_file_ok(cfg->apns_key_file, err, errlen))
			goto fail;
		pc->apns_key = jwt_key_from_file(cfg->apns_key_file, err, errlen);
		if (!pc->apns_key)
			goto fail;
		if (!jwt_key_is_ec(pc->apns_key)) {
			snprintf(err, errlen, "%s: an APNs key must be an EC P-256 (.p8) key", cfg->apns_key_file);
			goto fail;
		}
		if (!cfg->apns_key_id[0] || !cfg->apns_team_id[0] || !cfg->apns_topic[0]) {
			snprintf(err, errlen, "apns.key_file is set: apns.key_id, apns.team_id and apns.topic are needed too");
			goto fail;
		}
		pc->apns_on = true;
		if (!pc->kek_set)
			log_warn("push: secrets.key_file is not set: this instance signs an APNs provider token of its own "
				 "instead of sharing one through the database (docs/scaling.md §3)");
	}
	*out = pc;
	return true;
fail:
	push_creds_free(pc);
	return false;
}

void push_creds_free(struct push_creds *pc)
{
	if (!pc)
		return;
	jwt_service_account_free(&pc->sa);
	jwt_key_free(pc->fcm_key);
	jwt_key_free(pc->apns_key);
	free(pc->fcm_url);
	sodium_memzero(&pc->fcm, sizeof(pc->fcm));
	sodium_memzero(&pc->apns, sizeof(pc->apns));
	sodium_memzero(&pc->kek, sizeof(pc->kek));
	pthread_cond_destroy(&pc->fetched);
	pthread_cond_destroy(&pc->apns_renewed);
	pthread_mutex_destroy(&pc->lock);
	free(pc);
}

bool push_creds_enabled(const struct push_creds *pc, enum push_provider p)
{
	return pc && (p == PUSH_FCM ? pc->fcm_on : p == PUSH_APNS ? pc->apns_on : false);
}

const char *push_creds_fcm_url(const struct push_creds *pc)
{
	return pc->fcm_url;
}

static size_t collect(char *data, size_t size, size_t nmemb, void *userp)
{
	struct {
		char buf[MAX_TOKEN_RESPONSE];
		size_t len;
	} *acc = userp;
	size_t n = size * nmemb;

	if (acc->len + n >= sizeof(acc->buf))
		return 0; /* a token answer is small; anything larger is refused */
	memcpy(acc->buf + acc->len, data, n);
	acc->len += n;
	acc->buf[acc->len] = '\0';
	return n;
}

/*
 * One JWT-bearer grant at the service account's token_uri. Called without
 * the lock held. On success fills token/expires_at. Logs the endpoint's
 * OAuth error code on failure (never the assertion or the answer's token).
 */
static bool fetch_access_token(struct push_creds *pc, char token[PUSH_TOKEN_MAX], long long *expires_at)
{
	const struct config *cfg = pc->cfg;
	struct {
		char buf[MAX_TOKEN_RESPONSE];
		size_t len;
	} *acc = calloc(1, sizeof(*acc));
	char errbuf[CURL_ERROR_SIZE] = "";
	char *assertion = NULL, *form = NULL;
	CURL *e = NULL;
	json_t *o = NULL;
	long status = 0;
	bool ok = false;
	long long now = now_s();

	if (!acc)
		return false;
	assertion = jwt_google_assertion(pc->fcm_key, pc->sa.private_key_id, pc->sa.client_email, FCM_SCOPE,
					 pc->sa.token_uri, now, JWT_GOOGLE_MAX_LIFETIME);
	e = curl_easy_init();
	if (!assertion || !e)
		goto out;
	size_t n = strlen(assertion) + sizeof("grant_type=" GRANT_TYPE "&assertion=") + 64;
	form = malloc(n);
	char *grant = curl_easy_escape(e, GRANT_TYPE, 0);
	if (!form || !grant) {
		curl_free(grant);
		goto out;
	}
	/* a compact JWS is base64url and dots: nothing to escape */
	snprintf(form, n, "grant_type=%s&assertion=%s", grant, assertion);
	curl_free(grant);
	curl_easy_setopt(e, CURLOPT_URL, pc->sa.token_uri);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cfg->push_request_timeout_seconds * 1000L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, acc);
	if (cfg->push_ca_file[0])
		curl_easy_setopt(e, CURLOPT_CAINFO, cfg->push_ca_file);
	CURLcode rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK) {
		log_error("push: FCM token endpoint: %s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
	o = json_loadb(acc->buf, acc->len, 0, NULL);
	if (status != 200) {
		const char *code = json_string_value(json_object_get(o, "error"));
		/* invalid_grant: the key was deleted or the clock is wrong; an operator must act */
		log_error("push: FCM token endpoint answered %ld %s", status, code ? code : "(no OAuth error code)");
		goto out;
	}
	const char *tok = json_string_value(json_object_get(o, "access_token"));
	json_int_t ttl = json_integer_value(json_object_get(o, "expires_in"));
	if (!tok || !*tok || strlen(tok) >= PUSH_TOKEN_MAX || ttl <= 0) {
		log_error("push: FCM token endpoint answered 200 without a usable access_token/expires_in");
		goto out;
	}
	snprintf(token, PUSH_TOKEN_MAX, "%s", tok);
	*expires_at = now + ttl;
	ok = true;
out:
	if (form)
		sodium_memzero(form, strlen(form));
	free(form);
	free(assertion);
	json_decref(o);
	sodium_memzero(acc, sizeof(*acc));
	free(acc);
	curl_easy_cleanup(e);
	return ok;
}

static bool fcm_token(struct push_creds *pc, char out[PUSH_TOKEN_MAX], unsigned *gen)
{
	struct cached_token *t = &pc->fcm;
	bool ok = false;

	pthread_mutex_lock(&pc->lock);
	for (;;) {
		long long now = now_s();
		if (t->value[0] && now < t->expires_at - RENEW_BEFORE_EXPIRY) {
			memcpy(out, t->value, PUSH_TOKEN_MAX);
			*gen = t->gen;
			ok = true;
			break;
		}
		if (t->fetching) {
			/* another thread is at the token endpoint: use what it brings back */
			struct timespec until;
			clock_mono_deadline(&until, (pc->cfg->push_request_timeout_seconds + 5) * 1000000LL);
			if (pthread_cond_timedwait(&pc->fetched, &pc->lock, &until) != 0)
				break;
			continue;
		}
		if (now < t->pause_until)
			break;
		t->fetching = true;
		pthread_mutex_unlock(&pc->lock);
		char fresh[PUSH_TOKEN_MAX];
		long long expires_at = 0;
		bool fetched = fetch_access_token(pc, fresh, &expires_at);
		metrics_push_token(pc->metrics, PUSH_FCM, fetched);
		pthread_mutex_lock(&pc->lock);
		t->fetching = false;
		if (fetched) {
			memcpy(t->value, fresh, PUSH_TOKEN_MAX);
			t->expires_at = expires_at;
			t->gen++;
		} else {
			t->pause_until = now_s() + FAILED_FETCH_PAUSE;
		}
		sodium_memzero(fresh, sizeof(fresh));
		pthread_cond_broadcast(&pc->fetched);
		if (!fetched)
			break;
	}
	pthread_mutex_unlock(&pc->lock);
	return ok;
}

/* Take a token into pc->apns; with the lock held. */
static void apns_take(struct push_creds *pc, const char token[PUSH_TOKEN_MAX], long long iat, long long expires_at)
{
	struct cached_token *t = &pc->apns;

	memcpy(t->value, token, PUSH_TOKEN_MAX);
	t->expires_at = expires_at;
	t->gen++;
	pc->apns_iat = iat;
}

/*
 * No shared token could be had; with the lock held. Keep the cached one
 * while Apple still accepts its age and ask the database again in a minute;
 * with none usable, sign one for this instance (as an instance without a KEK
 * always does), its iat after a refused one. False when signing failed.
 */
static bool apns_fallback(struct push_creds *pc)
{
	const struct config *cfg = pc->cfg;
	struct cached_token *t = &pc->apns;
	long long now = now_s();

	if (pc->kek_set && t->value[0] && pc->apns_iat != pc->apns_refused_iat && now - pc->apns_iat < APNS_MAX_AGE) {
		log_warn("push: the shared APNs provider token could not be read: keeping the current one (iat %lld) "
			 "and asking again in %d s",
			 pc->apns_iat, APNS_DB_RETRY);
		t->expires_at = now + APNS_DB_RETRY;
		return true;
	}
	long long iat = now > pc->apns_refused_iat ? now : pc->apns_refused_iat + 1;
	char *jwt = jwt_apns_token(pc->apns_key, cfg->apns_key_id, cfg->apns_team_id, iat);
	bool ok = jwt && strlen(jwt) < PUSH_TOKEN_MAX;
	metrics_push_token(pc->metrics, PUSH_APNS, ok);
	if (ok) {
		char fresh[PUSH_TOKEN_MAX];
		snprintf(fresh, sizeof(fresh), "%s", jwt);
		/* with a KEK, ask the database again soon, to join the shared token */
		apns_take(pc, fresh, iat, now + (pc->kek_set ? APNS_DB_RETRY : cfg->apns_token_refresh_minutes * 60));
		sodium_memzero(fresh, sizeof(fresh));
		if (pc->kek_set)
			log_warn("push: signed an APNs provider token for this instance only (iat %lld): the shared one "
				 "could not be read",
				 iat);
	} else {
		log_error("push: could not sign the APNs provider token");
	}
	if (jwt)
		sodium_memzero(jwt, strlen(jwt));
	free(jwt);
	return ok;
}

/*
 * The APNs token. One thread renews it at a time, outside the lock (the
 * database call may wait on a peer's row lock: the other dispatcher threads,
 * for FCM and for APNs with a token Apple still accepts, go on meanwhile; the
 * renewing thread's own pipeline waits for it); a thread with no usable token
 * waits for the renewal's result.
 */
static bool apns_token(struct push_creds *pc, char out[PUSH_TOKEN_MAX], unsigned *gen)
{
	const struct config *cfg = pc->cfg;
	struct cached_token *t = &pc->apns;
	bool ok = false;

	pthread_mutex_lock(&pc->lock);
	for (;;) {
		long long now = now_s();
		bool fresh = t->value[0] && now < t->expires_at;
		bool acceptable = t->value[0] && now - pc->apns_iat < APNS_MAX_AGE;
		if (fresh || (pc->apns_renewing && acceptable)) {
			memcpy(out, t->value, PUSH_TOKEN_MAX);
			*gen = t->gen;
			ok = true;
			break;
		}
		if (now < pc->apns_pause_until)
			break; /* signing failed a moment ago: the rows are retried later */
		if (pc->apns_renewing) {
			struct timespec until;
			clock_mono_deadline(&until, (cfg->database_connect_timeout_seconds + 20) * 1000000LL);
			if (pthread_cond_timedwait(&pc->apns_renewed, &pc->lock, &until) != 0)
				break;
			continue;
		}
		pc->apns_renewing = true;
		struct apns_shared_req r = {
			.conninfo = cfg->database_url,
			.connect_timeout_seconds = (int)cfg->database_connect_timeout_seconds,
			.kek = &pc->kek,
			.key = pc->apns_key,
			.key_id = cfg->apns_key_id,
			.team_id = cfg->apns_team_id,
			.refresh_seconds = cfg->apns_token_refresh_minutes * 60,
			.refused_iat = pc->apns_refused_iat,
		};
		pthread_mutex_unlock(&pc->lock);
		char token[PUSH_TOKEN_MAX];
		long long iat = 0, valid_for = 0;
		bool signed_here = false;
		bool shared = pc->kek_set && apns_shared_token(&r, token, &iat, &valid_for, &signed_here);
		pthread_mutex_lock(&pc->lock);
		pc->apns_renewing = false;
		if (shared && iat == pc->apns_refused_iat) {
			/* Apple refused this very token while the row was being read: read it again, now refused */
			sodium_memzero(token, sizeof(token));
			pthread_cond_broadcast(&pc->apns_renewed);
			continue;
		}
		bool renewed = shared;
		if (shared) {
			apns_take(pc, token, iat, now_s() + valid_for);
			if (signed_here) {
				metrics_push_token(pc->metrics, PUSH_APNS, true);
				log_info("push: signed a new APNs provider token (key id %s, iat %lld), shared through the "
					 "database",
					 cfg->apns_key_id, iat);
			}
		} else {
			renewed = apns_fallback(pc);
		}
		sodium_memzero(token, sizeof(token));
		pthread_cond_broadcast(&pc->apns_renewed);
		if (!renewed) {
			pc->apns_pause_until = now_s() + FAILED_FETCH_PAUSE;
			break;
		}
	}
	pthread_mutex_unlock(&pc->lock);
	return ok;
}

bool push_creds_token(struct push_creds *pc, enum push_provider p, char out[PUSH_TOKEN_MAX], unsigned *gen)
{
	out[0] = '\0';
	if (p == PUSH_FCM && pc->fcm_on)
		return fcm_token(pc, out, gen);
	if (p == PUSH_APNS && pc->apns_on)
		return apns_token(pc, out, gen);
	return false;
}

void push_creds_refused(struct push_creds *pc, enum push_provider p, unsigned gen)
{
	struct cached_token *t = p == PUSH_FCM ? &pc->fcm : &pc->apns;

	pthread_mutex_lock(&pc->lock);
	if (t->gen == gen && t->value[0]) {
		sodium_memzero(t->value, sizeof(t->value));
		t->expires_at = 0;
		/* the shared row may still hold it: the next renewal must replace it, not reuse it */
		if (p == PUSH_APNS)
			pc->apns_refused_iat = pc->apns_iat;
	}
	pthread_mutex_unlock(&pc->lock);
}
