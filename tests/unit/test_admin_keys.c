/*
 * test_admin_keys.c - the action list of `alertd admin-key add --scope`
 * (data-driven): each of roster, activation, unrouted, read at most once, comma
 * separated, nothing else; and the names the audit rows and the database
 * use for each action.
 */
#include "people/admin_keys.h"
#include "testlib.h"

#include <string.h>

static void test_parse_actions(void)
{
	static const struct {
		const char *list;
		bool ok;
		unsigned actions;
	} cases[] = {
		{ "roster", true, ADMIN_ACTION_ROSTER },
		{ "activation", true, ADMIN_ACTION_ACTIVATION },
		{ "read", true, ADMIN_ACTION_READ },
		{ "read,roster", true, ADMIN_ACTION_READ | ADMIN_ACTION_ROSTER },
		{ "roster,activation,unrouted,read", true, ADMIN_ACTIONS_ALL },
		{ "roster,activation,read", true, ADMIN_ACTIONS_ALL & ~(unsigned)ADMIN_ACTION_UNROUTED },
		{ "unrouted", true, ADMIN_ACTION_UNROUTED },
		{ "unrouted,unrouted", false, 0 },
		{ "", false, 0 },
		{ ",", false, 0 },
		{ "read,", false, 0 },
		{ ",read", false, 0 },
		{ "read,,roster", false, 0 },
		{ "read,read", false, 0 },
		{ "read, roster", false, 0 },
		{ " read", false, 0 },
		{ "READ", false, 0 },
		{ "reader", false, 0 },
		{ "rea", false, 0 },
		{ "write", false, 0 },
		{ "roster;read", false, 0 },
		{ "all", false, 0 },
	};
	char err[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned actions = 99;
		err[0] = '\0';
		bool ok = admin_keys_parse_actions(cases[i].list, &actions, err, sizeof(err));
		if (ok != cases[i].ok || actions != cases[i].actions)
			fprintf(stderr, "  case '%s': ok %d actions %u\n", cases[i].list, ok, actions);
		CHECK(ok == cases[i].ok);
		CHECK(actions == cases[i].actions);
		CHECK(ok == (err[0] == '\0'));
	}
	unsigned actions;
	CHECK(!admin_keys_parse_actions(NULL, &actions, err, sizeof(err)) && actions == 0);
	CHECK(strstr(err, "invalid scope") != NULL);
}

static void test_action_names(void)
{
	CHECK_STR(admin_keys_action_name(ADMIN_ACTION_ROSTER), "roster");
	CHECK_STR(admin_keys_action_name(ADMIN_ACTION_ACTIVATION), "activation");
	CHECK_STR(admin_keys_action_name(ADMIN_ACTION_READ), "read");
	CHECK_STR(admin_keys_action_name(ADMIN_ACTION_UNROUTED), "unrouted");
	/* a set of actions is not one action: no route can be granted by it */
	CHECK(admin_keys_action_name((enum admin_action)(ADMIN_ACTION_READ | ADMIN_ACTION_ROSTER)) == NULL);
	CHECK(admin_keys_action_name((enum admin_action)0) == NULL);
}

int main(void)
{
	RUN(test_parse_actions);
	RUN(test_action_names);
	TEST_SUMMARY("test_admin_keys");
}
