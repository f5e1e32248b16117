/*
 * log.c - structured logging to stderr.
 *
 * Each call builds the whole line in a jansson object (JSON) or a bounded
 * buffer (text) and emits it with a single write(2), so lines from concurrent
 * threads never interleave.
 */
#include "core/log.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Set by log_init() at startup and log_set() on a reload (SIGHUP): atomics, read by every thread. */
static _Atomic int min_level = LOG_INFO;
static _Atomic int out_format = LOG_FORMAT_JSON;

static const char *level_names[] = { "debug", "info", "warn", "error" };

void log_init(enum log_level level, enum log_format format)
{
	atomic_store(&min_level, (int)level);
	atomic_store(&out_format, (int)format);
}

void log_set(enum log_level level, enum log_format format)
{
	log_init(level, format);
}

bool log_enabled(enum log_level level)
{
	return (int)level >= atomic_load(&min_level);
}

static void format_time(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000L) % 1000);
}

static void write_all(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, buf, len);
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void emit_json(enum log_level level, const char *ts, const char *msg, const struct log_field *fields, int n)
{
	json_t *o = json_object();
	char *line;

	if (!o)
		return;
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "level", json_string(level_names[level]));
	/* json_string() refuses invalid UTF-8; fall back so nothing is lost silently */
	json_t *m = json_string(msg);
	json_object_set_new(o, "msg", m ? m : json_string("(invalid utf-8 message)"));
	for (int i = 0; i < n; i++) {
		json_t *v = NULL;
		switch (fields[i].kind) {
		case LF_STR:
			v = fields[i].s ? json_string(fields[i].s) : json_null();
			if (!v)
				v = json_string("(invalid utf-8)");
			break;
		case LF_INT:
			v = json_integer(fields[i].i);
			break;
		case LF_DOUBLE:
			v = json_real(fields[i].d);
			break;
		}
		json_object_set_new(o, fields[i].key, v);
	}
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (!line)
		return;
	size_t len = strlen(line);
	char *nl = realloc(line, len + 2);
	if (!nl) {
		free(line);
		return;
	}
	nl[len] = '\n';
	nl[len + 1] = '\0';
	write_all(nl, len + 1);
	free(nl);
}

/* Control characters (a percent-decoded %0A in a URL, say) would forge lines: show them escaped. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void emit_text(enum log_level level, const char *ts, const char *msg, const struct log_field *fields, int n)
{
	char buf[4096];
	size_t off = 0;
	int w;

	w = snprintf(buf, sizeof(buf), "%s %-5s %s", ts, level_names[level], msg);
	off = w < 0 ? 0 : ((size_t)w >= sizeof(buf) ? sizeof(buf) - 1 : (size_t)w);
	for (int i = 0; i < n && off < sizeof(buf) - 1; i++) {
		size_t room = sizeof(buf) - off;
		switch (fields[i].kind) {
		case LF_STR:
			w = snprintf(buf + off, room, " %s=%s", fields[i].key, fields[i].s ? fields[i].s : "-");
			break;
		case LF_INT:
			w = snprintf(buf + off, room, " %s=%lld", fields[i].key, fields[i].i);
			break;
		default:
			w = snprintf(buf + off, room, " %s=%.3f", fields[i].key, fields[i].d);
			break;
		}
		if (w < 0)
			break;
		off = (size_t)w >= room ? sizeof(buf) - 1 : off + (size_t)w;
	}
	if (off >= sizeof(buf) - 1)
		off = sizeof(buf) - 2;
	buf[off] = '\0';
	sanitize(buf);
	buf[off++] = '\n';
	write_all(buf, off);
}

void log_fields(enum log_level level, const char *msg, const struct log_field *fields, int n)
{
	char ts[64];

	if (!log_enabled(level))
		return;
	format_time(ts, sizeof(ts));
	if (atomic_load(&out_format) == LOG_FORMAT_JSON)
		emit_json(level, ts, msg, fields, n);
	else
		emit_text(level, ts, msg, fields, n);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_fields(level, msg, NULL, 0);
}
