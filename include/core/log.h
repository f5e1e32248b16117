/*
 * log.h - structured logging to stderr (JSON lines or text).
 *
 * The level and format are set by log_init() at startup and may change with
 * log_set() on a configuration reload; both are atomics, so threads log
 * without locks.
 * Callers must never pass secrets, tokens or request bodies as fields.
 */
#ifndef ALERTD_LOG_H
#define ALERTD_LOG_H

#include <stdbool.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_JSON = 0, LOG_FORMAT_TEXT };

struct log_field {
	const char *key;
	enum { LF_STR, LF_INT, LF_DOUBLE } kind;
	const char *s;
	long long i;
	double d;
};

#define LOG_S(k, v) ((struct log_field){ .key = (k), .kind = LF_STR, .s = (v) })
#define LOG_I(k, v) ((struct log_field){ .key = (k), .kind = LF_INT, .i = (v) })
#define LOG_D(k, v) ((struct log_field){ .key = (k), .kind = LF_DOUBLE, .d = (v) })

/* Set level and format; call once at startup before threads exist. */
void log_init(enum log_level level, enum log_format format);

/* Change level and format while threads run (configuration reload). */
void log_set(enum log_level level, enum log_format format);

bool log_enabled(enum log_level level);

/* Write one line: timestamp, level, msg, then the fields in order. Call it through LOG_FIELDS. */
void log_fields(enum log_level level, const char *msg, const struct log_field *fields, int n);

/*
 * LOG_FIELDS(LOG_INFO, "device activated", LOG_I("device_id", id), LOG_S("remote", ip)):
 * one line with the fields given, counted by the compiler, so a field added
 * to the list can never be left out of the count (or a count overrun it).
 */
#define LOG_FIELDS(level, msg, ...)                                                                           \
	do {                                                                                                  \
		const struct log_field log_fields_[] = { __VA_ARGS__ };                                       \
		log_fields((level), (msg), log_fields_, (int)(sizeof(log_fields_) / sizeof(log_fields_[0]))); \
	} while (0)

/* printf-style convenience for messages without structured fields. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
