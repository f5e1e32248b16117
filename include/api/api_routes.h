/*
 * api_routes.h - the one routing table of alertd.
 */
#ifndef ALERTD_API_ROUTES_H
#define ALERTD_API_ROUTES_H

#include "http/router.h"

#include <stddef.h>

/* The table and its length; static data, never freed. */
const struct route *api_routes(size_t *count);

#endif
