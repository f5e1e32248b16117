/*
 * api_routes.c - every HTTP route alertd serves, with the authentication it
 * requires and what its handler needs from the HTTP layer (router.h:
 * ROUTE_JSON body, ROUTE_DB connection, ROUTE_UPLOAD body cap). Adding a
 * route means adding a row here; tests/unit/test_router.c fails if a route
 * other than the health checks declares AUTH_NONE, or one outside /staff
 * declares AUTH_PAGE.
 */
#include "api/api_routes.h"
#include "api/api_admin.h"
#include "api/api_app.h"
#include "api/api_ingest.h"
#include "api/api_ops.h"
#include "api/api_pages.h"
#include "api/api_staff.h"
#include "api/api_staff_accounts.h"
#include "api/api_staff_coverage.h"
#include "api/api_staff_worklist.h"
#include "api/api_staff_mail.h"
#include "api/api_staff_notices.h"
#include "api/api_spec.h"

#define JSON_DB (ROUTE_JSON | ROUTE_DB)

static const struct route routes[] = {
	/* /readyz takes its own connections: it retries once on a fresh one, and its 503 is the readiness answer */
	{ "GET", "/healthz", api_healthz, AUTH_NONE, 0 },
	{ "GET", "/readyz", api_readyz, AUTH_NONE, 0 },
	{ "GET", "/metrics", api_metrics, AUTH_METRICS, 0 },
	/* the spec: no secrets, but authenticated like /metrics (every route but the health checks is) */
	{ "GET", "/openapi.yaml", api_spec_get, AUTH_METRICS, 0 },
	/*
	 * Ingest answers once the writer's transaction is done, without holding a
	 * pooled connection while suspended. A single event is parsed after the
	 * rate limit, so it declares no JSON body.
	 */
	{ "POST", "/v1/ingest/{source}/events", api_ingest_event, AUTH_INGEST, 0 },
	{ "POST", "/v1/ingest/{source}/events/batch", api_ingest_batch, AUTH_INGEST, ROUTE_JSON },
	{ "POST", "/v1/admin/users/{login}/activation-code", api_admin_activation_code, AUTH_ADMIN_ACTIVATION, ROUTE_DB },
	{ "GET", "/v1/admin/events/unrouted", api_admin_unrouted, AUTH_ADMIN_UNROUTED, ROUTE_DB },
	{ "POST", "/v1/admin/roster", api_admin_roster, AUTH_ADMIN_ROSTER, ROUTE_UPLOAD | ROUTE_DB },
	/* activation: the code in the body is the credential (rate-limited, audited) */
	{ "POST", "/v1/app/activate", api_app_activate, AUTH_ACTIVATION_CODE, JSON_DB },
	{ "GET", "/v1/app/me", api_app_me, AUTH_APP, ROUTE_DB },
	{ "PUT", "/v1/app/device", api_app_device_put, AUTH_APP, JSON_DB },
	{ "DELETE", "/v1/app/device", api_app_device_delete, AUTH_APP, ROUTE_DB },
	{ "GET", "/v1/app/devices", api_app_devices, AUTH_APP, ROUTE_DB },
	{ "DELETE", "/v1/app/devices/{id}", api_app_devices_delete, AUTH_APP, ROUTE_DB },
	{ "GET", "/v1/app/alerts", api_app_alerts, AUTH_APP, ROUTE_DB },
	{ "GET", "/v1/app/alerts/{id}", api_app_alert, AUTH_APP, ROUTE_DB },
	{ "POST", "/v1/app/alerts/{id}/read", api_app_alert_read, AUTH_APP, ROUTE_DB },
	{ "GET", "/v1/app/preferences", api_app_preferences_get, AUTH_APP, ROUTE_DB },
	{ "PUT", "/v1/app/preferences", api_app_preferences_put, AUTH_APP, JSON_DB },
	/* staff: the sign-in's password is the credential (throttled, audited); then the session cookie and CSRF token */
	{ "POST", "/v1/staff/session", api_staff_signin, AUTH_STAFF_PASSWORD, JSON_DB },
	{ "DELETE", "/v1/staff/session", api_staff_signout, AUTH_STAFF, ROUTE_DB },
	{ "GET", "/v1/staff/me", api_staff_me, AUTH_STAFF, 0 },
	{ "POST", "/v1/staff/password", api_staff_password, AUTH_STAFF, JSON_DB },
	{ "POST", "/v1/staff/totp/enrol", api_staff_totp_enrol, AUTH_STAFF, ROUTE_DB },
	{ "POST", "/v1/staff/totp/confirm", api_staff_totp_confirm, AUTH_STAFF, JSON_DB },
	/* staff actions on other accounts, within the caller's subtree (api_staff_accounts.c) */
	{ "POST", "/v1/staff/users/{login}/activation-code", api_staff_activation_code, AUTH_STAFF, ROUTE_DB },
	{ "PUT", "/v1/staff/accounts/{login}/role", api_staff_account_role, AUTH_STAFF, JSON_DB },
	/* staff: step-up re-authentication; unit detail (metered), risk alerts, audit (admins) */
	{ "POST", "/v1/staff/reauth", api_staff_reauth, AUTH_STAFF, JSON_DB },
	{ "GET", "/v1/staff/units/{code}", api_staff_unit, AUTH_STAFF_READ, ROUTE_DB },
	{ "GET", "/v1/staff/units/{code}/users.csv", api_staff_unit_users_csv, AUTH_STAFF, ROUTE_DB },
	{ "GET", "/v1/staff/units/{code}/users.xlsx", api_staff_unit_users_xlsx, AUTH_STAFF, ROUTE_DB },
	{ "GET", "/v1/staff/risk-alerts", api_staff_risk_alerts, AUTH_STAFF_READ, ROUTE_DB },
	{ "GET", "/v1/staff/audit", api_staff_audit, AUTH_STAFF, ROUTE_DB },
	/* staff e-mail: reminders, bulk activation instructions (re-authenticated), a unit's mails (api_staff_mail.c) */
	{ "POST", "/v1/staff/units/{code}/reminders", api_staff_unit_reminders, AUTH_STAFF, ROUTE_DB },
	{ "POST", "/v1/staff/instructions", api_staff_instructions, AUTH_STAFF, JSON_DB },
	{ "GET", "/v1/staff/units/{code}/mail", api_staff_unit_mail, AUTH_STAFF_READ, ROUTE_DB },
	/*
	 * The staff dashboard: its shell and files are embedded in the
	 * binary and hold no data, so the sign-in page loads before any session;
	 * every figure comes from the /v1/staff/ API above, under a session.
	 */
	{ "GET", "/staff", api_pages_redirect, AUTH_PAGE, 0 },
	{ "GET", "/staff/", api_pages_shell, AUTH_PAGE, 0 },
	{ "GET", "/staff/assets/{file}", api_pages_asset, AUTH_PAGE, 0 },
	/* staff coverage: every query bounded by the caller's office scope */
	{ "GET", "/v1/staff/coverage", api_staff_coverage, AUTH_STAFF_READ, ROUTE_DB },
	{ "GET", "/v1/staff/coverage/units", api_staff_coverage_units, AUTH_STAFF_READ, ROUTE_DB },
	/* exports: a person re-authenticates for them, so staff sessions only */
	{ "GET", "/v1/staff/coverage/units.csv", api_staff_coverage_units_csv, AUTH_STAFF, ROUTE_DB },
	{ "GET", "/v1/staff/coverage/units.xlsx", api_staff_coverage_units_xlsx, AUTH_STAFF, ROUTE_DB },
	{ "GET", "/v1/staff/coverage/trend", api_staff_coverage_trend, AUTH_STAFF_READ, ROUTE_DB },
	/* the worklist of units not protected, and risk alerts that reached nobody (api_staff_worklist.h) */
	{ "GET", "/v1/staff/worklist", api_staff_worklist, AUTH_STAFF_READ, ROUTE_DB },
	{ "GET", "/v1/staff/worklist/print", api_staff_worklist_print, AUTH_STAFF_READ, ROUTE_DB },
	{ "GET", "/v1/staff/worklist/{id}", api_staff_worklist_item, AUTH_STAFF_READ, ROUTE_DB },
	{ "PUT", "/v1/staff/worklist/{id}", api_staff_worklist_put, AUTH_STAFF, JSON_DB },
	{ "POST", "/v1/staff/worklist/{id}/contacts", api_staff_worklist_contact, AUTH_STAFF, JSON_DB },
	{ "GET", "/v1/staff/escalations", api_staff_escalations, AUTH_STAFF_READ, ROUTE_DB },
	{ "GET", "/v1/staff/escalations/count", api_staff_escalations_count, AUTH_STAFF_READ, ROUTE_DB },
	{ "POST", "/v1/staff/escalations/{id}/ack", api_staff_escalation_ack, AUTH_STAFF, JSON_DB },
	/* security notices (api_staff_notices.c): written by one, approved by another after a re-authentication */
	{ "GET", "/v1/staff/notice-templates", api_staff_notice_templates, AUTH_STAFF_READ, ROUTE_DB },
	{ "POST", "/v1/staff/notices/preview", api_staff_notice_preview, AUTH_STAFF, JSON_DB },
	{ "POST", "/v1/staff/notices", api_staff_notice_create, AUTH_STAFF, JSON_DB },
	{ "GET", "/v1/staff/notices", api_staff_notice_list, AUTH_STAFF_READ, ROUTE_DB },
	{ "GET", "/v1/staff/notices/{id}", api_staff_notice_get, AUTH_STAFF_READ, ROUTE_DB },
	{ "POST", "/v1/staff/notices/{id}/approve", api_staff_notice_approve, AUTH_STAFF, JSON_DB },
	{ "POST", "/v1/staff/notices/{id}/withdraw", api_staff_notice_withdraw, AUTH_STAFF, ROUTE_DB },
	{ "GET", "/v1/staff/notices/{id}/report", api_staff_notice_report, AUTH_STAFF_READ, ROUTE_DB },
	{ "GET", "/v1/staff/notices/{id}/report.csv", api_staff_notice_report_csv, AUTH_STAFF, ROUTE_DB },
	{ "GET", "/v1/staff/notices/{id}/report.xlsx", api_staff_notice_report_xlsx, AUTH_STAFF, ROUTE_DB },
};

const struct route *api_routes(size_t *count)
{
	*count = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
