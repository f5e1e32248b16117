/*
 * config.c - the option table, INI file parsing and environment overrides.
 *
 * Every option is described once, in options[] below: type, bounds, default,
 * whether it needs a restart, and a one-line doc. docs/config.md is generated
 * from this table (alertd config-reference) and a test fails when they drift.
 */
#include "core/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_LINE 4096

/* Each table's index is the stored enum value; the designated initialisers pin that. */
static const char *const
	log_levels[] = { [LOG_DEBUG] = "debug", [LOG_INFO] = "info", [LOG_WARN] = "warn", [LOG_ERROR] = "error", [LOG_ERROR + 1] = NULL };
static const char *const log_formats[] = { [LOG_FORMAT_JSON] = "json", [LOG_FORMAT_TEXT] = "text", [LOG_FORMAT_TEXT + 1] = NULL };
static const char *const on_off[] = { [false] = "off", [true] = "on", NULL };
static const char *const push_providers[] = { [CONFIG_PUSH_LIVE] = "live", [CONFIG_PUSH_LOG] = "log", [CONFIG_PUSH_LOG + 1] = NULL };

/* apply() stores a CONFIG_ENUM choice through an int pointer. */
_Static_assert(sizeof(enum log_level) == sizeof(int), "enum options are stored as int");
_Static_assert(sizeof(enum log_format) == sizeof(int), "enum options are stored as int");
_Static_assert(sizeof(enum config_push_provider) == sizeof(int), "enum options are stored as int");

#define OFF(field) offsetof(struct config, field)

static const struct config_option options[] = {
	{ "database", "url", CONFIG_STRING, 1, 4096, "dbname=alertd", NULL, true, true,
	  "libpq connection string or URI of the PostgreSQL database.", OFF(database_url) },
	{ "database", "pool_size", CONFIG_INT, 1, 256, "8", NULL, true, false,
	  "Number of PostgreSQL connections in the fixed pool.", OFF(database_pool_size) },
	{ "database", "connect_timeout_seconds", CONFIG_INT, 1, 60, "5", NULL, true, false,
	  "Give up connecting to PostgreSQL after this many seconds.", OFF(database_connect_timeout_seconds) },
	{ "http", "listen", CONFIG_LISTEN, 0, 0, "127.0.0.1:8080", NULL, true, false,
	  "Address to serve HTTP on: IPv4:PORT or [IPv6]:PORT.", OFF(http_listen) },
	{ "http", "threads", CONFIG_INT, 1, 64, "4", NULL, true, false, "Size of the HTTP worker thread pool (epoll).",
	  OFF(http_threads) },
	{ "http", "max_body_bytes", CONFIG_INT, 1024, 67108864, "1048576", NULL, true, false,
	  "Largest request body accepted; larger bodies get 413.", OFF(http_max_body_bytes) },
	{ "http", "max_json_depth", CONFIG_INT, 2, 64, "32", NULL, true, false,
	  "Deepest nesting of arrays and objects accepted in a JSON body.", OFF(http_max_json_depth) },
	{ "http", "max_connections", CONFIG_INT, 16, 65536, "1024", NULL, true, false,
	  "Most simultaneous client connections.", OFF(http_max_connections) },
	{ "http", "connection_timeout_seconds", CONFIG_INT, 1, 600, "30", NULL, true, false,
	  "Close a client connection idle for this long.", OFF(http_connection_timeout_seconds) },
	{ "http", "shutdown_grace_seconds", CONFIG_INT, 0, 300, "10", NULL, true, false,
	  "On SIGTERM/SIGINT, wait at most this long for in-flight requests.", OFF(http_shutdown_grace_seconds) },
	{ "http", "max_upload_bytes", CONFIG_INT, 1024, 1073741824, "268435456", NULL, true, false,
	  "Largest body for file uploads (POST /v1/admin/roster); other routes use max_body_bytes.",
	  OFF(http_max_upload_bytes) },
	{ "http", "trust_forwarded_for", CONFIG_BOOL, 0, 0, "off", on_off, true, false,
	  "on: take the client address from X-Forwarded-For (set it only behind the shipped proxy config).",
	  OFF(http_trust_forwarded_for) },
	{ "log", "level", CONFIG_ENUM, 0, 0, "info", log_levels, false, false,
	  "Least severe level logged: debug, info, warn or error.", OFF(log_level) },
	{ "log", "format", CONFIG_ENUM, 0, 0, "json", log_formats, false, false,
	  "Log line format on stderr: json or text.", OFF(log_format) },
	{ "metrics", "token_sha256", CONFIG_SHA256_HEX, 0, 0, "", NULL, true, false,
	  "Hex SHA-256 of the bearer token /metrics accepts; empty refuses every scrape.", OFF(metrics_token_sha256) },
	{ "secrets", "key_file", CONFIG_STRING, 0, 4096, "", NULL, true, false,
	  "File with the 32-byte key that encrypts secrets at rest (ingest secrets, staff TOTP, sealed mails, the "
	  "shared APNs token; mode 0600); empty refuses all ingest.",
	  OFF(secrets_key_file) },
	{ "ingest", "timestamp_tolerance_seconds", CONFIG_INT, 1, 3600, "300", NULL, true, false,
	  "Reject signed requests whose webhook-timestamp is further than this from now.",
	  OFF(ingest_timestamp_tolerance_seconds) },
	{ "ingest", "secret_cache_seconds", CONFIG_INT, 0, 300, "10", NULL, true, false,
	  "Cache a source's decrypted secrets this long; a rotated or revoked secret takes effect within it.",
	  OFF(ingest_secret_cache_seconds) },
	{ "ingest", "rate_limit_per_second", CONFIG_INT, 1, 1000000, "2000", NULL, false, false,
	  "Events per second each source may send to one instance (token bucket); more gets 429.",
	  OFF(ingest_rate_limit_per_second) },
	{ "ingest", "rate_limit_burst", CONFIG_INT, 1, 10000000, "20000", NULL, false, false,
	  "Bucket size: events a source may send at once above the steady rate.", OFF(ingest_rate_limit_burst) },
	{ "ingest", "writers", CONFIG_INT, 1, 16, "4", NULL, true, false,
	  "Group-commit writer threads, each with its own database connection.", OFF(ingest_writers) },
	{ "ingest", "group_commit_max_events", CONFIG_INT, 1, 5000, "512", NULL, true, false,
	  "Most events the ingest writer commits in one transaction.", OFF(ingest_group_commit_max_events) },
	{ "ingest", "group_commit_max_wait_us", CONFIG_INT, 0, 100000, "0", NULL, true, false,
	  "Extra wait (microseconds) for more requests to join a transaction; 0: batches form while a commit runs.",
	  OFF(ingest_group_commit_max_wait_us) },
	{ "app", "token_ttl_days", CONFIG_INT, 1, 365, "90", NULL, true, false,
	  "Device access tokens expire this many days after activation or the last heartbeat (within the lifetime below).",
	  OFF(app_token_ttl_days) },
	{ "app", "token_max_lifetime_days", CONFIG_INT, 1, 3650, "180", NULL, true, false,
	  "A device access token ends this many days after its activation, heartbeats or not: the user activates again.",
	  OFF(app_token_max_lifetime_days) },
	{ "app", "activation_code_ttl_hours", CONFIG_INT, 1, 720, "72", NULL, true, false,
	  "Activation codes expire this many hours after they are issued.", OFF(app_activation_code_ttl_hours) },
	{ "app", "activation_per_ip_per_minute", CONFIG_INT, 1, 10000, "30", NULL, false, false,
	  "Activation attempts allowed per client IP per minute (per instance).", OFF(app_activation_per_ip_per_minute) },
	{ "app", "activation_per_login_per_minute", CONFIG_INT, 1, 1000, "10", NULL, false, false,
	  "Activation attempts allowed per login per minute (per instance).", OFF(app_activation_per_login_per_minute) },
	{ "app", "activation_global_per_minute", CONFIG_INT, 1, 100000, "120", NULL, false, false,
	  "Activation attempts allowed per minute from all clients together (per instance); more get 429.",
	  OFF(app_activation_global_per_minute) },
	{ "admin", "requests_per_ip_per_minute", CONFIG_INT, 1, 100000, "120", NULL, false, false,
	  "Admin API requests allowed per client address per minute (per instance), checked before the database.",
	  OFF(admin_requests_per_ip_per_minute) },
	{ "auth", "password_min_length", CONFIG_INT, 8, 128, "8", NULL, true, false,
	  "Staff passwords have at least this many characters (Unicode characters, not bytes); at most 128.",
	  OFF(auth_password_min_length) },
	{ "auth", "password_history", CONFIG_INT, 10, 50, "10", NULL, true, false,
	  "A new staff password must differ from this many previous ones.", OFF(auth_password_history) },
	{ "auth", "password_max_age_days", CONFIG_INT, 1, 42, "42", NULL, true, false,
	  "A staff password expires this many days after it was set; the next sign-in allows only a change.",
	  OFF(auth_password_max_age_days) },
	{ "auth", "inactive_disable_days", CONFIG_INT, 1, 45, "45", NULL, true, false,
	  "The maintenance job disables staff accounts not signed in to for this many days (never used: since created).",
	  OFF(auth_inactive_disable_days) },
	{ "auth", "temporary_password_hours", CONFIG_INT, 1, 168, "72", NULL, true, false,
	  "A temporary staff password (staff add, staff reset) can be used this many hours; then only a new reset helps.",
	  OFF(auth_temporary_password_hours) },
	{ "auth", "lockout_failures", CONFIG_INT, 1, 5, "5", NULL, true, false,
	  "This many wrong passwords or codes in a row lock a staff account for auth.lockout_seconds.",
	  OFF(auth_lockout_failures) },
	{ "auth", "lockout_seconds", CONFIG_INT, 1, 86400, "900", NULL, true, false,
	  "How long a locked staff account refuses every sign-in.", OFF(auth_lockout_seconds) },
	{ "auth", "session_idle_seconds", CONFIG_INT, 1, 900, "900", NULL, true, false,
	  "A staff session unused for this long ends (checked on the server).", OFF(auth_session_idle_seconds) },
	{ "auth", "session_lifetime_seconds", CONFIG_INT, 1, 28800, "28800", NULL, true, false,
	  "A staff session ends this long after sign-in, used or not.", OFF(auth_session_lifetime_seconds) },
	{ "auth", "signin_per_ip_per_minute", CONFIG_INT, 1, 10000, "20", NULL, false, false,
	  "Staff sign-in and password-change attempts allowed per client address per minute (per instance).",
	  OFF(auth_signin_per_ip_per_minute) },
	{ "auth", "require_totp", CONFIG_BOOL, 0, 0, "on", on_off, true, false,
	  "Staff must enrol a TOTP second factor at their first sign-in and give a code at every sign-in.",
	  OFF(auth_require_totp) },
	/* staff: step-up re-authentication and the personal-data look-up meter (docs/staff.md) */
	{ "auth", "reauth_seconds", CONFIG_INT, 1, 3600, "300", NULL, true, false,
	  "Exports, role changes and activation codes need the password and a code given again (POST /v1/staff/reauth) this recently.",
	  OFF(auth_reauth_seconds) },
	{ "staff", "lookups_per_minute", CONFIG_INT, 1, 1000000, "300", NULL, true, false,
	  "People (names, phones, e-mails) one staff account or admin key may be shown per minute, all instances together.",
	  OFF(staff_lookups_per_minute) },
	{ "staff", "lookups_per_day", CONFIG_INT, 1, 100000000, "3000", NULL, true, false,
	  "People one staff account or admin key may be shown per Vietnam day, all instances together; more get 429.",
	  OFF(staff_lookups_per_day) },
	{ "staff", "activation_codes_per_day", CONFIG_INT, 1, 100000, "200", NULL, true, false,
	  "Activation codes one staff account may issue per Vietnam day, all instances together; more get 429.",
	  OFF(staff_activation_codes_per_day) },
	{ "notices", "allowed_link_domains", CONFIG_STRING, 1, 1024, "kbnn.vn,vst.gov.vn", NULL, false, false,
	  "Comma-separated domains a notice may link to (the domain or a subdomain); any other link is refused.",
	  OFF(notices_allowed_link_domains) },
	{ "notices", "holidays", CONFIG_STRING, 0, 1400, "", NULL, true, false,
	  "Comma-separated Vietnam dates (YYYY-MM-DD) without office hours: a notice sent in office hours waits past them.",
	  OFF(notices_holidays) },
	{ "notices", "check_seconds", CONFIG_INT, 1, 3600, "5", NULL, false, false,
	  "How often each instance looks for approved notices that are due and writes their alerts and pushes.",
	  OFF(notices_check_seconds) },
	{ "notices", "chunk_users", CONFIG_INT, 100, 50000, "5000", NULL, true, false,
	  "Recipients of a notice written per transaction; the progress is stored with each chunk.",
	  OFF(notices_chunk_users) },
	{ "coverage", "active_days", CONFIG_INT, 1, 365, "30", NULL, true, false,
	  "A device is reachable (coverage) if seen within this many days: a heartbeat, an activation or a delivered push.",
	  OFF(coverage_active_days) },
	{ "coverage", "refresh_seconds", CONFIG_INT, 10, 3600, "60", NULL, false, false,
	  "How often the maintenance thread recomputes coverage (one instance at a time); the staff figures are this old at most.",
	  OFF(coverage_refresh_seconds) },
	{ "worklist", "due_days", CONFIG_INT, 1, 365, "14", NULL, true, false,
	  "A new worklist item is due this many days after it opens; an open item past its due date is overdue "
	  "and escalates to the regional treasury's view.",
	  OFF(worklist_due_days) },
	{ "escalation", "after_minutes", CONFIG_INT, 1, 1440, "10", NULL, false, false,
	  "A risk alert that no user of the unit read within this many minutes lands on the office's \"call this unit now\" list.",
	  OFF(escalation_after_minutes) },
	{ "escalation", "check_seconds", CONFIG_INT, 1, 3600, "60", NULL, false, false,
	  "How often each instance looks for risk alerts to escalate (one instance at a time) and refreshes the escalation metrics.",
	  OFF(escalation_check_seconds) },
	{ "escalation", "email", CONFIG_BOOL, 0, 0, "on", on_off, true, false,
	  "on: a new escalation also queues an e-mail to the office's duty address, when it has one (alertd office duty-email).",
	  OFF(escalation_email) },
	{ "risk", "signature_gap_seconds", CONFIG_INT, 1, 3600, "10", NULL, true, false,
	  "signature_gap fires when the two signatures of a voucher are less than this many seconds apart.",
	  OFF(risk_signature_gap_seconds) },
	{ "risk", "large_amount_vnd", CONFIG_INT, 1, 9000000000000000LL, "500000000", NULL, true, false,
	  "large_amount fires at or above this amount (VND), unless the unit sets its own threshold.",
	  OFF(risk_large_amount_vnd) },
	{ "risk", "repeat_window_minutes", CONFIG_INT, 1, 1440, "10", NULL, true, false,
	  "rapid_repeat fires for the same amount to the same beneficiary within this many minutes.",
	  OFF(risk_repeat_window_minutes) },
	{ "alerts", "reroute_max_age_hours", CONFIG_INT, 0, 8760, "72", NULL, true, false,
	  "When a unit joins the roster, its stored events younger than this still produce alerts.",
	  OFF(alerts_reroute_max_age_hours) },
	{ "alerts", "privacy_mode", CONFIG_BOOL, 0, 0, "on", on_off, true, false,
	  "on: every push carries only a generic text and the alert id; off: units opt in alone (docs/privacy.md).",
	  OFF(alerts_privacy_mode) },
	{ "push", "provider", CONFIG_ENUM, 0, 0, "live", push_providers, true, false,
	  "live: FCM and APNs; log: log what would be sent and record it as sent (development).", OFF(push_provider) },
	{ "push", "workers", CONFIG_INT, 1, 32, "4", NULL, true, false,
	  "Dispatcher threads per instance, each claiming outbox rows with its own connection.", OFF(push_workers) },
	{ "push", "batch_size", CONFIG_INT, 1, 5000, "50", NULL, true, false,
	  "Most outbox rows a dispatcher thread claims, or records, in one statement.", OFF(push_batch_size) },
	{ "push", "max_in_flight", CONFIG_INT, 1, 10000, "100", NULL, true, false,
	  "Rows a dispatcher thread holds at once, sent or waiting for their device; it claims more as answers come back. "
	  "Bounds its memory and what a crash leaves leased.",
	  OFF(push_max_in_flight) },
	{ "push", "record_interval_ms", CONFIG_INT, 1, 10000, "100", NULL, false, false,
	  "Outcomes are recorded at most this long after the answer (or at once, batch_size at a time): "
	  "the rows a kill -9 would send again.",
	  OFF(push_record_interval_ms) },
	{ "push", "lease_seconds", CONFIG_INT, 5, 3600, "60", NULL, true, false,
	  "A claimed row not recorded within this time is claimed again (crashed instance).", OFF(push_lease_seconds) },
	{ "push", "max_attempts", CONFIG_INT, 1, 100, "10", NULL, false, false,
	  "After this many attempts a row ends as failed with its last reason.", OFF(push_max_attempts) },
	{ "push", "max_age_seconds", CONFIG_INT, 60, 604800, "86400", NULL, false, false,
	  "A row older than this ends as failed instead of being retried.", OFF(push_max_age_seconds) },
	{ "push", "poll_interval_ms", CONFIG_INT, 10, 60000, "1000", NULL, false, false,
	  "Fallback polling of the outbox; new rows normally wake the dispatcher at once (LISTEN/NOTIFY).",
	  OFF(push_poll_interval_ms) },
	{ "push", "ca_file", CONFIG_STRING, 0, 4096, "", NULL, true, false,
	  "PEM bundle of the CAs trusted for FCM, OAuth and APNs; empty: the system's.", OFF(push_ca_file) },
	{ "push", "connections_per_host", CONFIG_INT, 1, 16, "2", NULL, true, false,
	  "HTTP/2 connections each dispatcher thread keeps per provider host; requests are multiplexed over them.",
	  OFF(push_connections_per_host) },
	{ "push", "request_timeout_seconds", CONFIG_INT, 1, 120, "15", NULL, true, false,
	  "Give up on one provider request (or token fetch) after this long; it is retried later.",
	  OFF(push_request_timeout_seconds) },
	{ "push", "retry_base_seconds", CONFIG_INT, 1, 3600, "5", NULL, false, false,
	  "First retry delay; it doubles with each attempt (with jitter), unless the provider asks for longer.",
	  OFF(push_retry_base_seconds) },
	{ "push", "retry_max_seconds", CONFIG_INT, 1, 86400, "1800", NULL, false, false,
	  "Longest delay between two attempts of one outbox row.", OFF(push_retry_max_seconds) },
	{ "fcm", "credentials_file", CONFIG_STRING, 0, 4096, "", NULL, true, false,
	  "Google service-account JSON key for FCM HTTP v1; empty: Android rows are not sent (they wait).",
	  OFF(fcm_credentials_file) },
	{ "fcm", "endpoint", CONFIG_STRING, 9, 1024, "https://fcm.googleapis.com", NULL, true, false,
	  "Base URL of the FCM HTTP v1 API (https).", OFF(fcm_endpoint) },
	{ "apns", "key_file", CONFIG_STRING, 0, 4096, "", NULL, true, false,
	  "APNs token-signing key (.p8); empty: iOS rows are not sent (they wait).", OFF(apns_key_file) },
	{ "apns", "key_id", CONFIG_STRING, 0, 64, "", NULL, true, false,
	  "The .p8 key's 10-character Key ID (the provider token's kid; letters and digits).", OFF(apns_key_id) },
	{ "apns", "team_id", CONFIG_STRING, 0, 64, "", NULL, true, false,
	  "The Apple developer Team ID (the provider token's iss; letters and digits).", OFF(apns_team_id) },
	{ "apns", "topic", CONFIG_STRING, 0, 255, "", NULL, true, false, "The app's bundle id, sent as apns-topic.",
	  OFF(apns_topic) },
	{ "apns", "sandbox", CONFIG_BOOL, 0, 0, "off", on_off, true, false,
	  "on: use Apple's development server (api.sandbox.push.apple.com) when endpoint is empty.", OFF(apns_sandbox) },
	{ "apns", "endpoint", CONFIG_STRING, 0, 1024, "", NULL, true, false,
	  "Base URL of the APNs provider API (https); empty: Apple's production or sandbox server.", OFF(apns_endpoint) },
	{ "apns", "token_refresh_minutes", CONFIG_INT, 20, 50, "40", NULL, true, false,
	  "Renew the provider token after this many minutes (Apple: not more often than 20, not older than 60); "
	  "the instances on one database share one, sealed under secrets.key_file.",
	  OFF(apns_token_refresh_minutes) },
	{ "events", "retention_months", CONFIG_INT, 0, 240, "24", NULL, true, false,
	  "Drop monthly event partitions older than this many months; 0 keeps events forever.", OFF(events_retention_months) },
	{ "events", "partitions_ahead_months", CONFIG_INT, 1, 24, "3", NULL, true, false,
	  "Create monthly event partitions this many months ahead.", OFF(events_partitions_ahead_months) },
	{ "events", "maintenance_interval_seconds", CONFIG_INT, 10, 86400, "3600", NULL, false, false,
	  "How often maintenance runs (partitions ahead, event retention, the retention.* rules).",
	  OFF(events_maintenance_interval_seconds) },
	{ "retention", "alerts_months", CONFIG_INT, 0, 240, "13", NULL, true, false,
	  "Delete alerts (and their outbox rows) older than this many months, unless a push is pending; 0 keeps them.",
	  OFF(retention_alerts_months) },
	{ "retention", "outbox_days", CONFIG_INT, 0, 3650, "90", NULL, true, false,
	  "Delete sent and failed outbox rows (push and mail) last changed this many days ago (never pending ones); 0 keeps"
	  " them.",
	  OFF(retention_outbox_days) },
	{ "retention", "device_token_days", CONFIG_INT, 0, 3650, "30", NULL, true, false,
	  "Erase the push token of a revoked or retired device this many days after it left active; 0 keeps it.",
	  OFF(retention_device_token_days) },
	{ "retention", "deactivated_user_days", CONFIG_INT, 0, 3650, "365", NULL, true, false,
	  "Pseudonymise a deactivated user (login, name, e-mail, phone, devices) this many days later; 0 never.",
	  OFF(retention_deactivated_user_days) },
	{ "retention", "activation_code_days", CONFIG_INT, 0, 3650, "30", NULL, true, false,
	  "Delete activation codes this many days after they were used, voided or expired; 0 keeps them.",
	  OFF(retention_activation_code_days) },
	{ "retention", "audit_personal_days", CONFIG_INT, 0, 3650, "365", NULL, true, false,
	  "Pseudonymise the personal fields of audit rows (people's ids, logins, addresses) older than this; 0 never;"
	  " otherwise at least 30 (the audit_log guard's floor, migration 0011).",
	  OFF(retention_audit_personal_days) },
	{ "retention", "batch_size", CONFIG_INT, 1, 100000, "1000", NULL, true, false,
	  "Rows per retention transaction, so a backlog never holds locks for long.", OFF(retention_batch_size) },
	{ "retention", "max_batches_per_run", CONFIG_INT, 1, 100000, "100", NULL, true, false,
	  "Most batches per rule in one maintenance run; a larger backlog continues at the next run.",
	  OFF(retention_max_batches_per_run) },
	/* [smtp] and [mail]: e-mail through libcurl's SMTP (issue 14, docs/operator-guide.md "E-mail (SMTP)") */
	{ "smtp", "url", CONFIG_STRING, 0, 1024, "", NULL, true, false,
	  "smtp://host:587 (STARTTLS required) or smtps://host:465 (implicit TLS); empty: no mail is sent, rows wait.",
	  OFF(smtp_url) },
	{ "smtp", "from", CONFIG_STRING, 0, 254, "", NULL, true, false,
	  "The sender address (From and MAIL FROM), e.g. canhbao@kbnn.gov.vn; required with smtp.url.", OFF(smtp_from) },
	{ "smtp", "username", CONFIG_STRING, 0, 254, "", NULL, true, false, "User name for SMTP AUTH; empty: no AUTH.",
	  OFF(smtp_username) },
	{ "smtp", "password_file", CONFIG_STRING, 0, 4096, "", NULL, true, false,
	  "File (mode 0600) holding the SMTP AUTH password; the password itself is never in the configuration.",
	  OFF(smtp_password_file) },
	{ "smtp", "ca_file", CONFIG_STRING, 0, 4096, "", NULL, true, false,
	  "PEM bundle of the CAs trusted for the SMTP server's certificate; empty: the system's.", OFF(smtp_ca_file) },
	{ "smtp", "timeout_seconds", CONFIG_INT, 1, 300, "30", NULL, true, false,
	  "Longest time one message's SMTP transfer may take (connecting at most 10 s of it).", OFF(smtp_timeout_seconds) },
	{ "mail", "workers", CONFIG_INT, 1, 8, "1", NULL, true, false,
	  "Mail worker threads per instance (only with smtp.url), each claiming mail_outbox rows with a lease.",
	  OFF(mail_workers) },
	{ "mail", "batch_size", CONFIG_INT, 1, 100, "10", NULL, true, false,
	  "Most mail_outbox rows a worker claims at once.", OFF(mail_batch_size) },
	{ "mail", "lease_seconds", CONFIG_INT, 30, 3600, "300", NULL, true, false,
	  "A claimed row not recorded within this time is claimed again; longer than smtp.timeout_seconds.",
	  OFF(mail_lease_seconds) },
	{ "mail", "max_attempts", CONFIG_INT, 1, 100, "8", NULL, true, false,
	  "After this many attempts a mail ends as failed with its last error.", OFF(mail_max_attempts) },
	{ "mail", "retry_base_seconds", CONFIG_INT, 1, 3600, "30", NULL, true, false,
	  "Delay before the first retry of a mail; it doubles with each attempt.", OFF(mail_retry_base_seconds) },
	{ "mail", "retry_max_seconds", CONFIG_INT, 1, 86400, "3600", NULL, true, false,
	  "Longest delay between two attempts of one mail.", OFF(mail_retry_max_seconds) },
	{ "mail", "poll_interval_ms", CONFIG_INT, 100, 600000, "5000", NULL, true, false,
	  "A worker looks for due mail at least this often (a NOTIFY wakes it sooner).", OFF(mail_poll_interval_ms) },
	{ "mail", "reminders_per_unit_per_day", CONFIG_INT, 1, 1000, "3", NULL, true, false,
	  "Most reminder mails (manual and automatic) queued for one unit per Vietnam day.",
	  OFF(mail_reminders_per_unit_per_day) },
	{ "mail", "reminders_per_office_per_day", CONFIG_INT, 1, 1000000, "500", NULL, true, false,
	  "Most reminder mails queued for the units of one transaction office per Vietnam day.",
	  OFF(mail_reminders_per_office_per_day) },
	{ "mail", "reminder_interval_days", CONFIG_INT, 7, 365, "7", NULL, true, false,
	  "An automatic reminder goes to one user at most once in this many days (a manual one is not limited).",
	  OFF(mail_reminder_interval_days) },
	{ "mail", "auto_reminders", CONFIG_BOOL, 0, 0, "off", on_off, true, false,
	  "on: maintenance e-mails install reminders to uncovered users of units that are not protected.",
	  OFF(mail_auto_reminders) },
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

const struct config_option *config_options(size_t *count)
{
	*count = N_OPTIONS;
	return options;
}

static const struct config_option *find_option(const char *section, const char *key)
{
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (strcmp(options[i].section, section) == 0 && strcmp(options[i].key, key) == 0)
			return &options[i];
	return NULL;
}

static bool section_exists(const char *section)
{
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (strcmp(options[i].section, section) == 0)
			return true;
	return false;
}

static void bad_value(const struct config_option *o, const char *value, const char *why, char *err, size_t errlen)
{
	if (o->secret)
		snprintf(err, errlen, "%s.%s: invalid value (not shown, it may hold a secret): %s", o->section, o->key, why);
	else
		snprintf(err, errlen, "%s.%s = \"%.200s\": %s", o->section, o->key, value, why);
}

static bool parse_int(const char *s, long long *out)
{
	char *end;

	if (*s == '\0' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

/* Accepts A.B.C.D:PORT or [v6]:PORT with a numeric address and port 1-65535. */
static bool parse_listen(const char *s, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon;
	long long port;
	size_t hlen;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return false;
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return false;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return false;
		hlen = (size_t)(colon - s);
		if (hlen == 0 || hlen >= sizeof(host))
			return false;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
	}
	if (!parse_int(colon + 1, &port) || port < 1 || port > 65535)
		return false;
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return false;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return false;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
	}
	return true;
}

static bool replace_string(char **slot, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return false;
	free(*slot);
	*slot = copy;
	return true;
}

static bool apply(struct config *cfg, const struct config_option *o, const char *value, char *err, size_t errlen)
{
	char *base = (char *)cfg;
	long long n;

	switch (o->type) {
	case CONFIG_INT:
		if (!parse_int(value, &n)) {
			bad_value(o, value, "expected a whole number", err, errlen);
			return false;
		}
		if (n < o->min || n > o->max) {
			char why[96];
			snprintf(why, sizeof(why), "must be between %lld and %lld", o->min, o->max);
			bad_value(o, value, why, err, errlen);
			return false;
		}
		*(long long *)(base + o->offset) = n;
		return true;
	case CONFIG_ENUM:
	case CONFIG_BOOL:
		for (int i = 0; o->choices[i]; i++) {
			if (strcmp(o->choices[i], value) == 0) {
				if (o->type == CONFIG_BOOL)
					*(bool *)(base + o->offset) = i != 0;
				else
					*(int *)(base + o->offset) = i;
				return true;
			}
		}
		bad_value(o, value, "not one of the allowed values", err, errlen);
		return false;
	case CONFIG_LISTEN:
		if (!parse_listen(value, &cfg->http_listen_addr)) {
			bad_value(o, value, "expected IPv4:PORT or [IPv6]:PORT with a port from 1 to 65535", err, errlen);
			return false;
		}
		break;
	case CONFIG_SHA256_HEX:
		if (value[0] != '\0') {
			size_t len = strlen(value);
			bool ok = len == 64;
			for (size_t i = 0; ok && i < len; i++)
				ok = isxdigit((unsigned char)value[i]) && !isupper((unsigned char)value[i]);
			if (!ok) {
				bad_value(o, value, "expected 64 lower-case hex digits or empty", err, errlen);
				return false;
			}
		}
		break;
	case CONFIG_STRING:
		if ((long long)strlen(value) < o->min || (long long)strlen(value) > o->max) {
			bad_value(o, value, "length out of bounds", err, errlen);
			return false;
		}
		if (o->offset == OFF(database_url)) {
			char *perr = NULL;
			PQconninfoOption *opts = PQconninfoParse(value, &perr);
			if (!opts) {
				bad_value(o, value, "not a valid libpq connection string or URI", err, errlen);
				PQfreemem(perr);
				return false;
			}
			PQconninfoFree(opts);
		}
		break;
	}
	if (!replace_string((char **)(base + o->offset), value)) {
		snprintf(err, errlen, "%s.%s: out of memory", o->section, o->key);
		return false;
	}
	return true;
}

bool config_set(struct config *cfg, const char *section, const char *key, const char *value, char *err, size_t errlen)
{
	const struct config_option *o = find_option(section, key);

	if (!o) {
		if (!section_exists(section))
			snprintf(err, errlen, "unknown section [%.64s]", section);
		else
			snprintf(err, errlen, "%.64s.%.64s: unknown option", section, key);
		return false;
	}
	return apply(cfg, o, value, err, errlen);
}

bool config_defaults(struct config *cfg, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < N_OPTIONS; i++) {
		if (!apply(cfg, &options[i], options[i].def, err, errlen)) {
			config_free(cfg);
			return false;
		}
	}
	return true;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Strip one pair of surrounding double quotes, so values may contain '#'. */
static char *unquote(char *v)
{
	size_t len = strlen(v);

	if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
		v[len - 1] = '\0';
		return v + 1;
	}
	return v;
}

static bool load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
	char line[CONFIG_MAX_LINE + 2];
	char section[65] = "";
	char inner[CONFIG_MAX_LINE];
	int lineno = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		size_t len = strlen(line);
		if (len > CONFIG_MAX_LINE && line[len - 1] != '\n') {
			snprintf(err, errlen, "%s:%d: line longer than %d bytes", path, lineno, CONFIG_MAX_LINE);
			goto fail;
		}
		char *s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (!close || close[1] != '\0' || close - s - 1 <= 0 || close - s - 1 >= (long)sizeof(section)) {
				snprintf(err, errlen, "%s:%d: malformed section header", path, lineno);
				goto fail;
			}
			*close = '\0';
			snprintf(section, sizeof(section), "%s", trim(s + 1));
			if (!section_exists(section)) {
				snprintf(err, errlen, "%s:%d: unknown section [%s]", path, lineno, section);
				goto fail;
			}
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected key = value", path, lineno);
			goto fail;
		}
		if (section[0] == '\0') {
			snprintf(err, errlen, "%s:%d: option outside of a [section]", path, lineno);
			goto fail;
		}
		*eq = '\0';
		char *key = trim(s);
		char *value = unquote(trim(eq + 1));
		if (!config_set(cfg, section, key, value, inner, sizeof(inner))) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, inner);
			goto fail;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto fail;
	}
	fclose(f);
	return true;
fail:
	fclose(f);
	return false;
}

static bool load_env(struct config *cfg, config_env_fn env, char *err, size_t errlen)
{
	char name[160];
	char inner[CONFIG_MAX_LINE];

	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct config_option *o = &options[i];
		int w = snprintf(name, sizeof(name), "ALERTD_%s_%s", o->section, o->key);
		if (w < 0 || (size_t)w >= sizeof(name))
			continue;
		for (char *p = name; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		const char *value = env(name);
		if (!value)
			continue;
		if (!apply(cfg, o, value, inner, sizeof(inner))) {
			snprintf(err, errlen, "environment %s: %s", name, inner);
			return false;
		}
	}
	return true;
}

/* Only ASCII letters and digits (the empty string too). */
static bool letters_digits(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

bool config_load(struct config *cfg, const char *path, config_env_fn env, char *err, size_t errlen)
{
	if (!config_defaults(cfg, err, errlen))
		return false;
	if (path && !load_file(cfg, path, err, errlen))
		goto fail;
	if (env && !load_env(cfg, env, err, errlen))
		goto fail;
	/* the audit_log guard of migration 0011 refuses to pseudonymise a row younger than this */
	if (cfg->retention_audit_personal_days > 0 && cfg->retention_audit_personal_days < CONFIG_AUDIT_PSEUDONYMISE_MIN_DAYS) {
		snprintf(err, errlen, "retention.audit_personal_days: must be 0 (never) or at least %d, got %lld",
			 CONFIG_AUDIT_PSEUDONYMISE_MIN_DAYS, cfg->retention_audit_personal_days);
		goto fail;
	}
	/* Apple's ids are letters and digits; the shared token's row (migration 0027) refuses anything else */
	if (!letters_digits(cfg->apns_key_id) || !letters_digits(cfg->apns_team_id)) {
		snprintf(err, errlen, "apns.key_id and apns.team_id: Apple's identifiers are letters and digits only");
		goto fail;
	}
	/* a send must end within its lease, or another instance could send the row again meanwhile */
	if (cfg->smtp_url[0] && (!cfg->smtp_from[0] || cfg->mail_lease_seconds < 2 * cfg->smtp_timeout_seconds)) {
		snprintf(err, errlen,
			 "smtp: with smtp.url set, smtp.from is required and mail.lease_seconds (%lld) must be"
			 " at least twice smtp.timeout_seconds (%lld)",
			 cfg->mail_lease_seconds, cfg->smtp_timeout_seconds);
		goto fail;
	}
	return true;
fail:
	config_free(cfg);
	return false;
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct config_option *o = &options[i];
		if (o->type == CONFIG_STRING || o->type == CONFIG_LISTEN || o->type == CONFIG_SHA256_HEX) {
			char **slot = (char **)((char *)cfg + o->offset);
			free(*slot);
			*slot = NULL;
		}
	}
}

static const char *type_name(const struct config_option *o)
{
	switch (o->type) {
	case CONFIG_INT:
		return "integer";
	case CONFIG_ENUM:
	case CONFIG_BOOL:
		return "enum";
	case CONFIG_LISTEN:
		return "address";
	case CONFIG_SHA256_HEX:
		return "sha256 hex";
	default:
		return "string";
	}
}

void config_write_example(FILE *out)
{
	const char *section = "";

	fprintf(out, "# alertd configuration. Generated by `alertd config-example`; every option is listed with its\n"
		     "# default (commented out). Full reference: docs/config.md. Environment overrides:\n"
		     "# ALERTD_<SECTION>_<KEY>. Keep this file mode 0600.\n");
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct config_option *o = &options[i];
		if (strcmp(section, o->section) != 0) {
			section = o->section;
			fprintf(out, "\n[%s]\n", section);
		}
		fprintf(out, "# %s\n#%s = %s%s%s\n", o->doc, o->key, o->type == CONFIG_STRING ? "\"" : "", o->def,
			o->type == CONFIG_STRING ? "\"" : "");
	}
}

void config_write_reference(FILE *out)
{
	fprintf(out, "| Option | Environment | Type | Bounds | Default | Restart | Description |\n");
	fprintf(out, "|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct config_option *o = &options[i];
		char env[160], bounds[160] = "";
		snprintf(env, sizeof(env), "ALERTD_%s_%s", o->section, o->key);
		for (char *p = env; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		if (o->type == CONFIG_INT) {
			snprintf(bounds, sizeof(bounds), "%lld..%lld", o->min, o->max);
		} else if (o->type == CONFIG_STRING) {
			snprintf(bounds, sizeof(bounds), "length %lld..%lld", o->min, o->max);
		} else if (o->type == CONFIG_ENUM || o->type == CONFIG_BOOL) {
			size_t off = 0;
			for (int c = 0; o->choices[c] && off < sizeof(bounds); c++) {
				int w = snprintf(bounds + off, sizeof(bounds) - off, "%s%s", c ? ", " : "", o->choices[c]);
				if (w < 0)
					break;
				off += (size_t)w;
			}
		} else if (o->type == CONFIG_LISTEN) {
			snprintf(bounds, sizeof(bounds), "port 1..65535");
		} else {
			snprintf(bounds, sizeof(bounds), "64 hex digits or empty");
		}
		fprintf(out, "| `%s.%s` | `%s` | %s | %s | `%s` | %s | %s |\n", o->section, o->key, env, type_name(o),
			bounds, o->def, o->restart ? "yes" : "no", o->doc);
	}
}
