/*
 * auth.h - authentication of a request against what its route requires.
 *
 * Fails closed: a route whose kind of credential is not (yet) supported
 * refuses every request with 401.
 */
#ifndef ALERTD_AUTH_H
#define ALERTD_AUTH_H

#include "http/router.h"

#include <stdbool.h>
#include <stddef.h>

struct app;
struct http_req;
struct http_resp;

#define AUTH_MAX_TOKEN_LEN 512

/*
 * Check req's credentials for kind. Returns true when the request may
 * proceed (and sets req->principal_id where the kind has one); otherwise
 * sets a 401 problem (with WWW-Authenticate) on resp, or a 503 when the
 * credentials cannot be checked because the database is unreachable.
 */
bool auth_check(const struct app *app, struct http_req *req, enum auth_kind kind, struct http_resp *resp);

/*
 * Extract the token of an "Authorization: Bearer <token>" header value.
 * Returns false when the header is absent, not Bearer, empty or longer than
 * AUTH_MAX_TOKEN_LEN. *token points into header; *len is its length.
 */
bool auth_bearer_token(const char *header, const char **token, size_t *len);

#endif
