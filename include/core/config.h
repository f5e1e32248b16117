/*
 * config.h - alertd configuration: one table of options, an INI loader and
 * ALERTD_<SECTION>_<KEY> environment overrides.
 *
 * A struct config is filled once at startup and then treated as immutable:
 * every thread receives it by const pointer. A reload (SIGHUP) builds a new
 * one and publishes it as a snapshot (core/reload.h); options marked
 * restart keep their startup values in it.
 */
#ifndef ALERTD_CONFIG_H
#define ALERTD_CONFIG_H

#include "core/log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

/*
 * CONFIG_ENUM fields are C enum types (stored as int: the choice's index,
 * which each choices table pins with designated initialisers); CONFIG_BOOL
 * fields are bool, spelled off|on in files and the environment.
 */
enum config_type { CONFIG_STRING, CONFIG_INT, CONFIG_ENUM, CONFIG_BOOL, CONFIG_LISTEN, CONFIG_SHA256_HEX };

/*
 * retention.audit_personal_days is 0 (never) or at least this: the audit_log
 * guard trigger of migration 0011 refuses to pseudonymise a younger row.
 */
#define CONFIG_AUDIT_PSEUDONYMISE_MIN_DAYS 30

/* push.provider: live sends to FCM/APNs; log only logs what would be sent (development, make run). */
enum config_push_provider { CONFIG_PUSH_LIVE = 0, CONFIG_PUSH_LOG = 1 };

struct config {
	char *database_url;
	long long database_pool_size;
	long long database_connect_timeout_seconds;

	char *http_listen;
	struct sockaddr_storage http_listen_addr; /* parsed form of http_listen */
	long long http_threads;
	long long http_max_body_bytes;
	long long http_max_json_depth;
	long long http_max_connections;
	long long http_connection_timeout_seconds;
	long long http_shutdown_grace_seconds;
	long long http_max_upload_bytes; /* routes that take files (roster import) */
	bool http_trust_forwarded_for;

	enum log_level log_level;
	enum log_format log_format;

	char *metrics_token_sha256; /* "" = no token accepted */

	char *secrets_key_file; /* "" = ingest disabled */

	long long ingest_timestamp_tolerance_seconds;
	long long ingest_secret_cache_seconds;
	long long ingest_rate_limit_per_second;
	long long ingest_rate_limit_burst;
	long long ingest_writers;
	long long ingest_group_commit_max_events;
	long long ingest_group_commit_max_wait_us;

	long long app_token_ttl_days;
	long long app_token_max_lifetime_days; /* from activation (devices.first_seen_at), heartbeats or not */
	long long app_activation_code_ttl_hours;
	long long app_activation_per_ip_per_minute;
	long long app_activation_per_login_per_minute;
	long long app_activation_global_per_minute;
	long long coverage_active_days;
	long long coverage_refresh_seconds;
	long long worklist_due_days;
	long long escalation_after_minutes;
	long long escalation_check_seconds;
	bool escalation_email;
	long long admin_requests_per_ip_per_minute;

	/* auth.*: the treasury's staff sign-in rules; the bounds keep them at least as strict as the treasury's */
	long long auth_password_min_length;
	long long auth_password_history;
	long long auth_password_max_age_days;
	long long auth_inactive_disable_days;
	long long auth_lockout_failures;
	long long auth_temporary_password_hours;
	long long auth_lockout_seconds;
	long long auth_session_idle_seconds;
	long long auth_session_lifetime_seconds;
	long long auth_signin_per_ip_per_minute;
	bool auth_require_totp;
	long long auth_reauth_seconds; /* how recent a step-up re-authentication must be */
	long long staff_lookups_per_minute;
	long long staff_lookups_per_day;
	long long staff_activation_codes_per_day;
	/* notices.*: security notices (docs/staff.md "Security notices") */
	char *notices_allowed_link_domains; /* comma-separated; links elsewhere are refused */
	char *notices_holidays;		    /* comma-separated YYYY-MM-DD, Vietnam days without office hours */
	long long notices_check_seconds;
	long long notices_chunk_users;

	long long risk_signature_gap_seconds;
	long long risk_large_amount_vnd;
	long long risk_repeat_window_minutes;
	long long alerts_reroute_max_age_hours;
	bool alerts_privacy_mode; /* a unit can also turn it on for itself */

	enum config_push_provider push_provider;
	long long push_workers;
	long long push_batch_size;
	long long push_max_in_flight;
	long long push_record_interval_ms;
	long long push_lease_seconds;
	long long push_max_attempts;
	long long push_max_age_seconds;
	long long push_poll_interval_ms;
	char *push_ca_file; /* "" = system CAs */
	long long push_connections_per_host;
	long long push_request_timeout_seconds;
	long long push_retry_base_seconds;
	long long push_retry_max_seconds;

	char *fcm_credentials_file; /* "" = FCM off */
	char *fcm_endpoint;
	char *apns_key_file; /* "" = APNs off */
	char *apns_key_id;
	char *apns_team_id;
	char *apns_topic;
	bool apns_sandbox;
	char *apns_endpoint; /* "" = by apns_sandbox */
	long long apns_token_refresh_minutes;

	long long events_retention_months; /* 0 = keep forever */
	long long events_partitions_ahead_months;
	long long events_maintenance_interval_seconds;

	/* retention.*: 0 = the rule is off (docs/privacy.md) */
	long long retention_alerts_months;
	long long retention_outbox_days;
	long long retention_device_token_days;
	long long retention_deactivated_user_days;
	long long retention_activation_code_days;
	long long retention_audit_personal_days;
	long long retention_batch_size;
	long long retention_max_batches_per_run;

	/* smtp.* and mail.*: e-mail (issue 14); smtp_url "" = no mail worker */
	char *smtp_url;
	char *smtp_from;
	char *smtp_username;
	char *smtp_password_file;
	char *smtp_ca_file;
	long long smtp_timeout_seconds;
	long long mail_workers;
	long long mail_batch_size;
	long long mail_lease_seconds;
	long long mail_max_attempts;
	long long mail_retry_base_seconds;
	long long mail_retry_max_seconds;
	long long mail_poll_interval_ms;
	long long mail_reminders_per_unit_per_day;
	long long mail_reminders_per_office_per_day;
	long long mail_reminder_interval_days;
	bool mail_auto_reminders;
};

struct config_option {
	const char *section;
	const char *key;
	enum config_type type;
	long long min, max;	    /* CONFIG_INT bounds; CONFIG_STRING max length */
	const char *def;	    /* default, in the same text form a file uses */
	const char *const *choices; /* CONFIG_ENUM, CONFIG_BOOL: NULL-terminated; index is stored */
	bool restart;		    /* false: SIGHUP applies a change at once (core/reload.h) */
	bool secret;		    /* never echo the value in messages */
	const char *doc;
	size_t offset; /* into struct config */
};

/* Lookup used for environment overrides; getenv() in production. */
typedef const char *(*config_env_fn)(const char *name);

/* The option table and its length. */
const struct config_option *config_options(size_t *count);

/* Fill cfg with defaults. On failure writes a message to err and returns false. */
bool config_defaults(struct config *cfg, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Defaults, then the INI file at path (may be NULL), then environment
 * overrides through env (may be NULL). On failure err names the offending
 * key and value (unless the option is secret), cfg is freed and false is
 * returned. On success the caller owns cfg and frees it with config_free().
 */
bool config_load(struct config *cfg, const char *path, config_env_fn env, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Set one option from text. Returns false with err on unknown key or bad value. */
bool config_set(struct config *cfg, const char *section, const char *key, const char *value, char *err, size_t errlen)
	__attribute__((warn_unused_result));

void config_free(struct config *cfg);

/* Write an example INI file listing every option with its default (deploy/alertd.conf.example). */
void config_write_example(FILE *out);

/* Write the markdown reference table for docs/config.md. */
void config_write_reference(FILE *out);

#endif
