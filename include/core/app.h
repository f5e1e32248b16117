/*
 * app.h - what every request handler is given: the immutable configuration
 * and the shared, internally synchronised services.
 *
 * Handlers receive a const struct app *; nothing in it is written after
 * startup except through the services' own locking (pool, metrics atomics).
 */
#ifndef ALERTD_APP_H
#define ALERTD_APP_H

#include "core/secrets.h"

#include <stdbool.h>
#include <stddef.h>

struct config;
struct db_pool;
struct metrics;
struct route;
struct source_cache;
struct ratelimit;
struct ingest_writer;

struct config_live;

struct app {
	const struct config *cfg;
	struct config_live *live; /* reloadable options (core/reload.h): take a snapshot per request */
	struct db_pool *db;
	struct metrics *metrics;
	const struct route *routes;
	size_t nroutes;
	struct source_cache *sources;	 /* ingest verification keys */
	struct ratelimit *ingest_limits; /* per-source event rate */
	struct ingest_writer *ingest;	 /* group-commit writer */
	struct ratelimit *activation_by_ip;
	struct ratelimit *activation_by_login;
	struct ratelimit *activation_global; /* one bucket for every client: the ceiling IPv6 rotation cannot dodge */
	struct ratelimit *admin_by_ip;	     /* before any database work, so refused keys cannot flood the audit log */
	unsigned char code_key[32];	     /* activation-code HMAC key, derived from the KEK */
	bool code_key_set;
	unsigned char collapse_key[32]; /* key of balance pushes' opaque collapse keys, derived from the KEK */
	bool collapse_key_set;
	struct ratelimit *staff_signin_by_ip; /* staff sign-in and password-change attempts, before the database */
	struct secrets_kek kek;		      /* opens staff TOTP secrets; only when kek_set */
	bool kek_set;
	unsigned char metrics_token_hash[32];
	bool metrics_token_set;
};

#endif
