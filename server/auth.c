/*
 * auth.c - per-route authentication.
 *
 * Tokens are compared by hash in constant time (sodium_memcmp), so neither
 * the token nor its prefix can be recovered from timing, and alertd never
 * needs to hold a plaintext token.
 */
#include "auth.h"
#include "app.h"
#include "http.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

bool auth_bearer_token(const char *header, const char **token, size_t *len)
{
	static const char scheme[] = "Bearer ";
	size_t n;

	if (!header || strncasecmp(header, scheme, sizeof(scheme) - 1) != 0)
		return false;
	header += sizeof(scheme) - 1;
	while (*header == ' ')
		header++;
	n = strlen(header);
	while (n > 0 && header[n - 1] == ' ')
		n--;
	if (n == 0 || n > AUTH_MAX_TOKEN_LEN)
		return false;
	*token = header;
	*len = n;
	return true;
}

static bool metrics_token_ok(const struct app *app, const struct http_req *req)
{
	const char *token;
	size_t len;
	unsigned char h[crypto_hash_sha256_BYTES];

	if (!app->metrics_token_set)
		return false;
	if (!auth_bearer_token(http_header(req, "Authorization"), &token, &len))
		return false;
	crypto_hash_sha256(h, (const unsigned char *)token, len);
	return sodium_memcmp(h, app->metrics_token_hash, sizeof(h)) == 0;
}

bool auth_check(const struct app *app, const struct http_req *req, enum auth_kind kind, struct http_resp *resp)
{
	bool ok = false;

	switch (kind) {
	case AUTH_NONE:
		/* only the health checks may be open; the route table test enforces it */
		ok = router_auth_exempt(req->match.route->pattern);
		break;
	case AUTH_METRICS:
		ok = metrics_token_ok(app, req);
		break;
	case AUTH_ADMIN:
	case AUTH_APP:
	case AUTH_INGEST:
	case AUTH_STAFF:
		ok = false; /* arrives with the capability that needs it */
		break;
	}
	if (!ok) {
		http_resp_problem(resp, req, PROBLEM_UNAUTHORIZED, NULL, NULL);
		http_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"alertd\"");
	}
	return ok;
}
