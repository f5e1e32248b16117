/*
 * api_app.h - the mobile app's API: activation, the user's identity, its
 * devices (heartbeat, logout, revocation), the alert inbox and preferences.
 * Every route but activation takes "Authorization: Bearer at_..." and sees
 * only the calling user's own data; anything else is 404.
 */
#ifndef ALERTD_API_APP_H
#define ALERTD_API_APP_H

#include "http/router.h"

struct app;
struct http_req;
struct http_resp;

enum http_outcome api_app_activate(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_app_me(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_app_device_put(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_app_device_delete(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_app_devices(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_app_devices_delete(const struct app *app, struct http_req *req, struct http_resp *resp);

/* api_app_alerts.c */
enum http_outcome api_app_alerts(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_app_alert(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_app_alert_read(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_app_preferences_get(const struct app *app, struct http_req *req, struct http_resp *resp);
enum http_outcome api_app_preferences_put(const struct app *app, struct http_req *req, struct http_resp *resp);

#endif
