/*
 * test_roster_parse.c - the roster CSV parser without a database: line
 * endings (LF and CRLF read, a carriage return anywhere else, as in CR-only
 * files, refused with its line), the line numbers of the rows read, and
 * spreadsheet formulas: kept verbatim, never at the start of a report text.
 */
#include "core/spreadsheet.h"
#include "people/roster_parse.h"
#include "testlib.h"

#include <stdlib.h>

#define HEADER                                                                                                      \
	"office_code,office_name,parent_office_code,unit_code,unit_name,unit_email,unit_phone,accounts,user_login," \
	"user_name,user_email,user_phone,roles"
#define ROW1 "0001,Kho bac,,1000003,Van phong,,,9523.1.1000003,duc.1000003,Hoang Minh Duc,,,account_holder"
#define ROW2 "0001,Kho bac,,1000003,Van phong,,,9523.1.1000003,hang.1000003,Dang Thuy Hang,,,chief_accountant"

/* Parse text; returns the result, with err and the number of rows read. */
static enum roster_result parse(const char *text, char *err, size_t errlen, size_t *nrows, long *last_line)
{
	struct roster_state imp;
	enum roster_result rc;

	roster_state_init(&imp);
	err[0] = '\0';
	rc = roster_parse(&imp, text, strlen(text), err, errlen);
	*nrows = imp.nrows;
	*last_line = imp.nrows ? imp.rows[imp.nrows - 1].line : 0;
	roster_state_free(&imp);
	return rc;
}

static void test_lf_and_crlf(void)
{
	char err[512];
	size_t n;
	long last;

	CHECK(parse(HEADER "\n" ROW1 "\n" ROW2 "\n", err, sizeof(err), &n, &last) == ROSTER_OK);
	CHECK(n == 2 && last == 3);
	CHECK(parse("\xEF\xBB\xBF" HEADER "\r\n" ROW1 "\r\n\r\n" ROW2 "\r\n", err, sizeof(err), &n, &last) == ROSTER_OK);
	CHECK(n == 2 && last == 4);
	/* no line end after the last row */
	CHECK(parse(HEADER "\r\n" ROW1 "\r\n" ROW2, err, sizeof(err), &n, &last) == ROSTER_OK);
	CHECK(n == 2 && last == 3);
}

static void test_cr_only_refused(void)
{
	char err[512];
	size_t n;
	long last;

	/* a file saved with CR-only line ends (classic Mac OS, some spreadsheet exports) */
	CHECK(parse(HEADER "\r" ROW1 "\r" ROW2 "\r", err, sizeof(err), &n, &last) == ROSTER_MALFORMED);
	CHECK_CONTAINS(err, "line 1: a carriage return (CR) not followed by a line feed");
	CHECK_CONTAINS(err, "lines must end with LF or CRLF");
	CHECK(n == 0);
	/* one CR-only line end among LF ones: the line it is on */
	CHECK(parse(HEADER "\n" ROW1 "\n" ROW2 "\r" ROW1 "\n", err, sizeof(err), &n, &last) == ROSTER_MALFORMED);
	CHECK_CONTAINS(err, "line 3: a carriage return (CR)");
	/* a CR at the very end of the file */
	CHECK(parse(HEADER "\n" ROW1 "\r", err, sizeof(err), &n, &last) == ROSTER_MALFORMED);
	CHECK_CONTAINS(err, "line 2: a carriage return (CR)");
	/* inside a quoted field too */
	CHECK(parse(HEADER "\n" ROW1 "\n0001,\"Kho\rbac\",,1000003,Van phong,,,9523.1.1000003,x.1000003,X,,,accountant\n",
		    err, sizeof(err), &n, &last) == ROSTER_MALFORMED);
	CHECK_CONTAINS(err, "line 3: a carriage return (CR)");
	/* a CR-only blank line */
	CHECK(parse(HEADER "\n\r\n" ROW1 "\n\r", err, sizeof(err), &n, &last) == ROSTER_MALFORMED);
	CHECK_CONTAINS(err, "line 4: a carriage return (CR)");
}

static void test_formula_values(void)
{
	/* spreadsheet formulas in every free-text column, and in a bad role and a bad account */
	static const char text[] =
		HEADER "\n"
		       "0001,@SUM(A1),,1000003,+1+1,,,9523.1.1000003,-1+1,\"=cmd|' /C calc'!A0\",,,account_holder\n"
		       "0001,@SUM(A1),,1000003,+1+1,,,9523.1.1000003,=HYPERLINK(x),\"\t=1+1\",,,accountant\n"
		       "0001,@SUM(A1),,1000003,+1+1,,,9523.1.1000003,x.1000003,X,,,=cmd|' /C calc'!A0\n"
		       "0001,@SUM(A1),,1000003,+1+1,,,=1+1,y.1000003,Y,,,accountant\n";
	struct roster_state imp;
	char err[512];
	json_t *warnings = json_array(), *rejected = json_array();

	roster_state_init(&imp);
	CHECK(roster_parse(&imp, text, strlen(text), err, sizeof(err)) == ROSTER_OK);
	CHECK(imp.nrows == 4 && imp.nrejected == 2);
	/* stored as given (trimmed): neutralising is the exports' job */
	CHECK(imp.nrows >= 2 && imp.noffices == 1 && imp.nunits == 1);
	if (imp.nrows >= 2 && imp.noffices == 1 && imp.nunits == 1) {
		CHECK_STR(imp.rows[0].login, "-1+1");
		CHECK_STR(imp.rows[0].name, "=cmd|' /C calc'!A0");
		CHECK_STR(imp.rows[1].login, "=HYPERLINK(x)");
		CHECK_STR(imp.rows[1].name, "=1+1");
		CHECK_STR(imp.offices[0].name.v, "@SUM(A1)");
		CHECK_STR(imp.units[0].name.v, "+1+1");
	}
	/* the report quotes the bad values inside texts that start with the column name */
	CHECK(roster_collect_warnings(&imp, warnings) && json_array_size(warnings) == 0);
	CHECK(roster_list_rejected(&imp, rejected) && json_array_size(rejected) == 2);
	const char *r0 = json_string_value(json_object_get(json_array_get(rejected, 0), "reason"));
	const char *r1 = json_string_value(json_object_get(json_array_get(rejected, 1), "reason"));
	CHECK(r0 && strncmp(r0, "roles: unknown role '=cmd|", 26) == 0 && !spreadsheet_is_formula(r0));
	CHECK(r1 && strncmp(r1, "accounts: '=1+1' is not an account", 34) == 0 && !spreadsheet_is_formula(r1));
	json_decref(warnings);
	json_decref(rejected);
	roster_state_free(&imp);
}

int main(void)
{
	RUN(test_lf_and_crlf);
	RUN(test_cr_only_refused);
	RUN(test_formula_values);
	TEST_SUMMARY("test_roster_parse");
}
