/*
 * preferences.c - the preferences store (see preferences.h).
 */
#include "store/preferences.h"
#include "db/db.h"
#include "store/store.h"

static const char get_sql[] = "SELECT COALESCE(p.lang, 'vi'), COALESCE(p.min_amount, 0), to_char(p.quiet_from, 'HH24:MI'),"
			      " to_char(p.quiet_to, 'HH24:MI'), COALESCE(p.toggles, '{}')::text"
			      " FROM users u LEFT JOIN user_preferences p ON p.user_id = u.id WHERE u.id = $1";

bool preferences_get(PGconn *conn, long long user_id, PGresult **out)
{
	char uid[STORE_ID_TEXT];
	const char *params[1] = { store_id(uid, user_id) };

	*out = store_query(conn, "preferences_get", get_sql, 1, params, PREFERENCES_COL__COUNT);
	return *out != NULL;
}

bool preferences_put(PGconn *conn, long long user_id, const struct preferences_update *u, PGresult **out)
{
	char uid[STORE_ID_TEXT];
	const char *params[7] = { store_id(uid, user_id), u->lang,     u->min_amount, u->quiet_set ? "t" : "f",
				  u->quiet_from,	  u->quiet_to, u->toggles };

	*out = NULL;
	if (!db_run(conn,
		    "INSERT INTO user_preferences AS p (user_id, lang, min_amount, quiet_from, quiet_to, toggles)"
		    " VALUES ($1, COALESCE($2, 'vi'), COALESCE($3::bigint, 0), $5::time, $6::time, COALESCE($7::jsonb, '{}'))"
		    " ON CONFLICT (user_id) DO UPDATE SET lang = COALESCE($2, p.lang),"
		    " min_amount = COALESCE($3::bigint, p.min_amount),"
		    " quiet_from = CASE WHEN $4::boolean THEN $5::time ELSE p.quiet_from END,"
		    " quiet_to = CASE WHEN $4::boolean THEN $6::time ELSE p.quiet_to END,"
		    " toggles = p.toggles || COALESCE($7::jsonb, '{}')",
		    7, params))
		return false;
	return preferences_get(conn, user_id, out);
}
