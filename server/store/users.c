/*
 * users.c - the users store (see users.h).
 */
#include "store/users.h"
#include "store/store.h"

bool users_profile(PGconn *conn, long long user_id, PGresult **out)
{
	char id[STORE_ID_TEXT];
	const char *params[1] = { store_id(id, user_id) };

	*out = store_query(conn, "users_profile",
			   "SELECT u.dvctt_login, u.full_name, u.email, u.phone,"
			   " COALESCE((SELECT json_agg(r.role ORDER BY r.role) FROM user_roles r WHERE r.user_id = u.id), '[]'),"
			   " b.code, b.name, b.office_code, o.name"
			   " FROM users u JOIN budget_units b ON b.code = u.unit_code JOIN offices o ON o.code = b.office_code"
			   " WHERE u.id = $1",
			   1, params, USERS_COL__COUNT);
	return *out != NULL;
}
