/*
 * api_routes.c - every HTTP route alertd serves, with the authentication it
 * requires. Adding a route means adding a row here; tests/unit/test_router.c
 * fails if a route other than the health checks declares AUTH_NONE.
 */
#include "api_routes.h"
#include "api_ingest.h"
#include "api_ops.h"

static const struct route routes[] = {
	{ "GET", "/healthz", api_healthz, AUTH_NONE },
	{ "GET", "/readyz", api_readyz, AUTH_NONE },
	{ "GET", "/metrics", api_metrics, AUTH_METRICS },
	{ "POST", "/v1/ingest/{source}/events", api_ingest_event, AUTH_INGEST },
	{ "POST", "/v1/ingest/{source}/events/batch", api_ingest_batch, AUTH_INGEST },
};

const struct route *api_routes(size_t *count)
{
	*count = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
