/*
 * api_routes.c - every HTTP route alertd serves, with the authentication it
 * requires. Adding a route means adding a row here; tests/unit/test_router.c
 * fails if a route other than the health checks declares AUTH_NONE.
 */
#include "api/api_routes.h"
#include "api/api_admin.h"
#include "api/api_app.h"
#include "api/api_ingest.h"
#include "api/api_ops.h"

static const struct route routes[] = {
	{ "GET", "/healthz", api_healthz, AUTH_NONE, false },
	{ "GET", "/readyz", api_readyz, AUTH_NONE, false },
	{ "GET", "/metrics", api_metrics, AUTH_METRICS, false },
	{ "POST", "/v1/ingest/{source}/events", api_ingest_event, AUTH_INGEST, false },
	{ "POST", "/v1/ingest/{source}/events/batch", api_ingest_batch, AUTH_INGEST, false },
	{ "POST", "/v1/admin/users/{login}/activation-code", api_admin_activation_code, AUTH_ADMIN, false },
	{ "GET", "/v1/admin/events/unrouted", api_admin_unrouted, AUTH_ADMIN, false },
	{ "POST", "/v1/admin/roster", api_admin_roster, AUTH_ADMIN, true },
	/* activation: the code in the body is the credential (rate-limited, audited) */
	{ "POST", "/v1/app/activate", api_app_activate, AUTH_ACTIVATION_CODE, false },
	{ "GET", "/v1/app/me", api_app_me, AUTH_APP, false },
	{ "PUT", "/v1/app/device", api_app_device_put, AUTH_APP, false },
	{ "DELETE", "/v1/app/device", api_app_device_delete, AUTH_APP, false },
	{ "GET", "/v1/app/devices", api_app_devices, AUTH_APP, false },
	{ "DELETE", "/v1/app/devices/{id}", api_app_devices_delete, AUTH_APP, false },
	{ "GET", "/v1/app/alerts", api_app_alerts, AUTH_APP, false },
	{ "GET", "/v1/app/alerts/{id}", api_app_alert, AUTH_APP, false },
	{ "POST", "/v1/app/alerts/{id}/read", api_app_alert_read, AUTH_APP, false },
	{ "GET", "/v1/app/preferences", api_app_preferences_get, AUTH_APP, false },
	{ "PUT", "/v1/app/preferences", api_app_preferences_put, AUTH_APP, false },
};

const struct route *api_routes(size_t *count)
{
	*count = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
