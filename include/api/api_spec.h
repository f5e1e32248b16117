/*
 * api_spec.h - GET /openapi.yaml: the OpenAPI description of this API
 * (docs/openapi.yaml), embedded in the binary at build time by
 * tools/embed_spec.c so the served spec always matches the running code.
 *
 * Authenticated like /metrics (AUTH_METRICS, the metrics.token bearer): the
 * spec holds no secrets, but the rule is that every route except the health
 * checks is authenticated, and the spec's consumers (API gateway, client
 * code generators, monitoring) are machines that already hold that token.
 */
#ifndef ALERTD_API_SPEC_H
#define ALERTD_API_SPEC_H

#include "http/http.h"

#include <stddef.h>

/* Provided by the generated build/gen/api_spec.c (NUL-terminated; len excludes the NUL). */
extern const char api_spec_yaml[];
extern const size_t api_spec_yaml_len;

/* 200 application/yaml with the embedded spec; HTTP_FAILED when out of memory. */
enum http_outcome api_spec_get(const struct app *app, struct http_req *req, struct http_resp *resp);

#endif
