/*
 * api_staff_mail.h - staff routes for e-mail (docs/staff.md "E-mail"):
 * reminders to a unit's uncovered users, bulk activation codes with their
 * instructions mail, and a unit's recent mails with their outcomes. Every
 * unit outside the caller's office subtree is answered 404, as unknown.
 */
#ifndef ALERTD_API_STAFF_MAIL_H
#define ALERTD_API_STAFF_MAIL_H

#include "http/http.h"

/* POST /v1/staff/units/{code}/reminders (operator or admin; limited per unit and office per day) */
enum http_outcome api_staff_unit_reminders(const struct app *app, struct http_req *req, struct http_resp *resp);

/* POST /v1/staff/instructions {"units": [...]} (operator or admin, re-authenticated) */
enum http_outcome api_staff_instructions(const struct app *app, struct http_req *req, struct http_resp *resp);

/* GET /v1/staff/units/{code}/mail: the unit's recent mails, addresses masked */
enum http_outcome api_staff_unit_mail(const struct app *app, struct http_req *req, struct http_resp *resp);

#endif
