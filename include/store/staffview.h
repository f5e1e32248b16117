/*
 * staffview.h - what the staff data routes read (GET /v1/staff/units/{code},
 * /risk-alerts, /audit). Every statement takes the caller's scope office
 * and filters through alertd_office_in_scope / alertd_office_subtree
 * (migration 0013): a row outside that subtree is never returned, so the
 * handler answers 404 for it as for one that does not exist. Timestamps
 * are RFC 3339 UTC text; ownership as in store.h.
 */
#ifndef ALERTD_STORE_STAFFVIEW_H
#define ALERTD_STORE_STAFFVIEW_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/* The most users, and the most recent alerts, a unit's detail shows. */
#define STAFFVIEW_UNIT_USERS_MAX 500
#define STAFFVIEW_UNIT_ALERTS 20

enum staffview_unit_col {
	SV_UNIT_CODE,
	SV_UNIT_NAME,
	SV_UNIT_OFFICE,
	SV_UNIT_OFFICE_NAME,
	SV_UNIT_EMAIL,
	SV_UNIT_PHONE,
	SV_UNIT_ACTIVE,
	SV_UNIT_SHARED_PHONE, /* from the last coverage refresh (false before the first) */
	SV_UNIT_VOLUME_30D,   /* VND, decimal text, from the last coverage refresh */
	SV_UNIT_COMPUTED_AT,  /* when that refresh ran; NULL before the first */
	SV_UNIT__COUNT
};

/* The unit code if it is in scope's subtree: 0 or 1 row. */
bool staffview_unit(PGconn *conn, const char *scope, const char *code, PGresult **out) __attribute__((warn_unused_result));

enum staffview_user_col {
	SV_USER_ID,
	SV_USER_LOGIN,
	SV_USER_NAME,
	SV_USER_EMAIL,
	SV_USER_PHONE,
	SV_USER_ACTIVE,
	SV_USER_ROLES,	    /* JSON array text, e.g. ["account_holder"] */
	SV_USER_ACTIVATION, /* none | pending | used: the newest activation code's */
	SV_USER__COUNT
};

/* The unit's users (not pseudonymised), active first, by login; at most STAFFVIEW_UNIT_USERS_MAX. */
bool staffview_unit_users(PGconn *conn, const char *code, PGresult **out) __attribute__((warn_unused_result));

enum staffview_device_col {
	SV_DEV_ID,
	SV_DEV_USER_ID,
	SV_DEV_PLATFORM,
	SV_DEV_STATE,
	SV_DEV_STATE_REASON,
	SV_DEV_MODEL,
	SV_DEV_APP_VERSION,
	SV_DEV_FIRST_SEEN,
	SV_DEV_LAST_SEEN,
	SV_DEV_REACHABLE, /* active, with a push token, seen within active_days */
	SV_DEV__COUNT
};

/* The devices of the unit's users (those of staffview_unit_users), by user and id. */
bool staffview_unit_devices(PGconn *conn, const char *code, long long active_days, PGresult **out)
	__attribute__((warn_unused_result));

enum staffview_alert_col {
	SV_ALERT_ID,
	SV_ALERT_KIND,
	SV_ALERT_SEVERITY,
	SV_ALERT_RULE,
	SV_ALERT_TITLE,
	SV_ALERT_CREATED,
	SV_ALERT_LOGIN,
	SV_ALERT__COUNT
};

/* The unit's newest STAFFVIEW_UNIT_ALERTS alerts to its current users, raised while in scope's subtree. */
bool staffview_unit_alerts(PGconn *conn, const char *scope, const char *code, PGresult **out)
	__attribute__((warn_unused_result));

enum staffview_delivery_col {
	SV_DEL_ALERT_ID,
	SV_DEL_DEVICE_ID,
	SV_DEL_STATE,
	SV_DEL_REASON,
	SV_DEL_ATTEMPTS,
	SV_DEL_SENT,
	SV_DEL__COUNT
};

/* The push_outbox rows of the alerts ids (a PostgreSQL array text such as {1,2}), by alert and device. */
bool staffview_deliveries(PGconn *conn, const char *ids, PGresult **out) __attribute__((warn_unused_result));

/* True (*in_scope) when office is in scope's subtree. */
bool staffview_office_in_scope(PGconn *conn, const char *scope, const char *office, bool *in_scope)
	__attribute__((warn_unused_result));

/* The filters of GET /v1/staff/risk-alerts; NULL = not given. Days are Vietnam days, YYYY-MM-DD, to inclusive. */
struct staffview_risk_filter {
	const char *rule, *office, *from, *to;
	const char *after_event; /* keyset cursor: groups after (event id, rule) in the order below */
	const char *after_rule;
	long long limit;
};

enum staffview_risk_col {
	SV_RISK_EVENT_ID,
	SV_RISK_RULE,
	SV_RISK_UNIT,
	SV_RISK_UNIT_NAME,
	SV_RISK_OFFICE,
	SV_RISK_OCCURRED,
	SV_RISK_CREATED,   /* the group's first alert */
	SV_RISK_USERS,	   /* users alerted */
	SV_RISK_DELIVERED, /* of them, with at least one push sent */
	SV_RISK__COUNT
};

/* Risk alerts in scope, one row per event and rule, newest event first (then by rule); at most f->limit rows. */
bool staffview_risk_alerts(PGconn *conn, const char *scope, const struct staffview_risk_filter *f, PGresult **out)
	__attribute__((warn_unused_result));

/* The filters of GET /v1/staff/audit; NULL = not given. An action ending in '.' matches as a prefix. */
struct staffview_audit_filter {
	const char *actor, *action, *from, *to;
	const char *before_id; /* keyset cursor: entries with a smaller id */
	long long limit;
};

enum staffview_audit_col {
	SV_AUDIT_ID,
	SV_AUDIT_AT,
	SV_AUDIT_ACTOR_KIND,
	SV_AUDIT_ACTOR_ID,
	SV_AUDIT_ACTION,
	SV_AUDIT_TARGET,
	SV_AUDIT_OUTCOME,
	SV_AUDIT_IP,
	SV_AUDIT_DETAILS, /* JSON object text */
	SV_AUDIT__COUNT
};

/*
 * Audit entries an admin of scope may read, newest first: every entry when
 * scope is the root office (no parent), else the entries of staff
 * accounts (actor_kind staff) whose office is in scope's subtree.
 */
bool staffview_audit(PGconn *conn, const char *scope, const struct staffview_audit_filter *f, PGresult **out)
	__attribute__((warn_unused_result));

#endif
