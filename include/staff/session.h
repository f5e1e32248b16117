/*
 * session.h - staff sign-in, sessions, password change and TOTP
 * enrolment: the rules of docs/staff.md, in SQL on a connection the
 * caller holds (outside any transaction of its own).
 *
 * Session tokens and CSRF tokens are 256 random bits, handed out once as
 * base64url text and stored only as SHA-256 hashes. Every outcome, refusals
 * included, writes an audit_log row (actor_kind "staff") in the same
 * transaction; what the caller is told never says which check refused.
 */
#ifndef ALERTD_STAFF_SESSION_H
#define ALERTD_STAFF_SESSION_H

#include "core/secrets.h"
#include "staff/totp.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct config;

/* base64url (no padding) of 32 bytes, and its NUL */
#define STAFF_TOKEN_TEXT 44
#define STAFF_COOKIE_NAME "__Host-alertd_session"
/* Sent with every answer of a /v1/staff/ route (http.c), with Referrer-Policy and X-Frame-Options. */
#define STAFF_CSP                                                                                               \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri " \
	"'none'; frame-ancestors 'none'; form-action 'self'"

/*
 * Sent with every answer under /staff (the dashboard's shell and files,
 * http.c): the API's policy plus what the page itself does, fetch() to its
 * own API, the QR code as a data: image, and nothing else. No 'unsafe-inline'
 * anywhere: the pages carry no inline script or style (tools/embed_web.c
 * refuses to build them otherwise).
 */
#define STAFF_PAGE_CSP                                                                                        \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " \
	"font-src 'self'; manifest-src 'self'; form-action 'self'; object-src 'none'; base-uri 'none'; "      \
	"frame-ancestors 'none'"

/* Who made the request: the audit row's ip and request_id. */
struct staff_request {
	const char *ip;
	const char *request_id;
	const char *user_agent; /* may be NULL */
};

/* What an authenticated session may do next. */
struct staff_principal {
	long long staff_id;
	char login[65];
	char office[16];
	char role[16];
	char session_hash[65]; /* hex SHA-256 of the session token */
	unsigned char csrf_hash[32];
	bool password_temporary; /* first password or reset: change it */
	bool password_expired;	 /* older than auth.password_max_age_days: change it */
	bool totp_enrolled;
	bool approver; /* staff.approver: may approve notices (read at every request) */
};

/* STAFF_NO_KEK: an enrolled account's second factor needs the KEK and none is configured (not counted). */
enum staff_result { STAFF_OK, STAFF_DENIED, STAFF_ERROR, STAFF_NO_KEK };

/* The first secrets of a new session. */
struct staff_new_session {
	char token[STAFF_TOKEN_TEXT];
	char csrf[STAFF_TOKEN_TEXT];
	struct staff_principal who;
};

/*
 * Sign in with login and password and, once TOTP is enrolled, a TOTP code
 * or an unused recovery code (one of them). STAFF_DENIED for every reason
 * (unknown login, wrong password or code, replayed code, locked, disabled),
 * after the same Argon2id work; a wrong password or code counts toward
 * auth.lockout_failures. kek opens the TOTP secret (NULL: none configured;
 * an enrolled account with the right password gets STAFF_NO_KEK, which is
 * neither counted nor audited).
 */
enum staff_result staff_session_signin(PGconn *conn, const struct config *cfg, const struct secrets_kek *kek,
				       const char *login, const char *password, size_t password_len,
				       const char *totp_code, const char *recovery_code, const struct staff_request *rq,
				       struct staff_new_session *out);

/*
 * The session whose token is token (from the cookie), if it is open, not
 * idle longer than auth.session_idle_seconds, within its absolute lifetime
 * and of an active account; then its last use is now. STAFF_DENIED
 * otherwise.
 */
enum staff_result staff_session_authenticate(PGconn *conn, const struct config *cfg, const char *token, size_t len,
					     struct staff_principal *who);

/*
 * Step-up re-authentication of who's session (POST /v1/staff/reauth): the
 * password and, once TOTP is enrolled, a fresh TOTP code or an unused
 * recovery code, verified as at sign-in (the row locked, the same Argon2id
 * work first, a code good once). STAFF_OK stamps the session's reauth_at
 * and clears the failure count; STAFF_DENIED for every refusal (wrong
 * password or code, replayed code, locked); a wrong one counts toward
 * auth.lockout_failures, and the one that locks the account ends all its
 * sessions, this one included. Audited as staff.reauth either way.
 * STAFF_NO_KEK as at sign-in (not counted, not audited).
 */
enum staff_result staff_session_reauth(PGconn *conn, const struct config *cfg, const struct secrets_kek *kek,
				       const struct staff_principal *who, const char *password, size_t password_len,
				       const char *totp_code, const char *recovery_code, const struct staff_request *rq);

/*
 * Whether who's session re-authenticated within auth.reauth_seconds:
 * *fresh. False on a database error.
 */
bool staff_session_reauth_fresh(PGconn *conn, const struct config *cfg, const struct staff_principal *who, bool *fresh)
	__attribute__((warn_unused_result));

/* End the session on the server (audited). */
bool staff_session_end(PGconn *conn, const struct staff_principal *who, const struct staff_request *rq)
	__attribute__((warn_unused_result));

enum staff_password_change {
	STAFF_PASSWORD_CHANGED,
	STAFF_PASSWORD_WRONG_CURRENT, /* message: "is not your current password" */
	STAFF_PASSWORD_REFUSED,	      /* a rule refused it; message says which */
	STAFF_PASSWORD_REUSED,	      /* one of the last auth.password_history */
	STAFF_PASSWORD_LOCKED,	      /* the account is locked (now or by this wrong password): all its sessions ended */
	STAFF_PASSWORD_CHANGE_ERROR,
};

/*
 * Change the password of who's account: checks the current one, the rules
 * (staff_password_check) and the history; ends the account's other
 * sessions. message (>= 160 bytes) gets the sentence for a refusal. A
 * wrong current password counts toward auth.lockout_failures like a wrong
 * password at sign-in; the one that locks the account also ends all its
 * sessions, this one included (STAFF_PASSWORD_LOCKED); so does any change
 * attempted while the account is locked. When the old password was temporary or
 * expired the session is renewed: renewed gets the new token, CSRF token
 * and principal (renewed->token[0] is '\0' otherwise).
 */
enum staff_password_change staff_session_change_password(PGconn *conn, const struct config *cfg,
							 const struct staff_principal *who, const char *current,
							 size_t current_len, const char *fresh, size_t fresh_len,
							 const struct staff_request *rq, char *message, size_t messagelen,
							 struct staff_new_session *renewed);

enum staff_totp_result {
	STAFF_TOTP_OK,
	STAFF_TOTP_ALREADY,
	STAFF_TOTP_BAD_CODE,
	STAFF_TOTP_NO_PENDING,
	STAFF_TOTP_ERROR
};

/* A new pending secret for who (replacing an unconfirmed one); base32 gets its text. */
enum staff_totp_result staff_session_totp_enrol(PGconn *conn, const struct secrets_kek *kek, const struct staff_principal *who,
						const struct staff_request *rq, char base32[STAFF_TOTP_BASE32_MAX]);

/*
 * Confirm the pending secret with a code; codes receives the ten recovery
 * codes, shown once, and renewed the session's new token, CSRF token and
 * principal (the old token is revoked).
 */
enum staff_totp_result staff_session_totp_confirm(PGconn *conn, const struct secrets_kek *kek,
						  const struct staff_principal *who, const char *code,
						  const struct staff_request *rq,
						  char codes[STAFF_RECOVERY_CODES][STAFF_RECOVERY_CODE_LEN + 1],
						  struct staff_new_session *renewed);

#endif
