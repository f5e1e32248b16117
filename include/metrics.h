/*
 * metrics.h - per-instance Prometheus metrics: HTTP requests by route and
 * status, a latency histogram per route, and database pool usage.
 *
 * Counters are lock-free atomics so the request path never blocks on them.
 */
#ifndef ALERTD_METRICS_H
#define ALERTD_METRICS_H

#include <stdbool.h>
#include <stddef.h>

struct metrics;
struct route;
struct db_pool;

/* One slot per route plus one for requests that matched no route. NULL on OOM. */
struct metrics *metrics_new(size_t nroutes);
void metrics_free(struct metrics *m);

/* route_index == nroutes means "no route matched". status 100-599. */
void metrics_observe_request(struct metrics *m, size_t route_index, int status, double seconds);

/*
 * Render the text exposition format. Returns a malloc'd string the caller
 * frees, or NULL on allocation failure.
 */
char *metrics_render(struct metrics *m, const struct route *routes, size_t nroutes,
		     struct db_pool *pool, size_t *len);

#endif
