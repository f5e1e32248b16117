/*
 * test_roster_parse.c - the roster CSV parser without a database: line
 * endings (LF and CRLF read, a carriage return anywhere else, as in CR-only
 * files, refused with its line), and the line numbers of the rows read.
 */
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

int main(void)
{
	RUN(test_lf_and_crlf);
	RUN(test_cr_only_refused);
	TEST_SUMMARY("test_roster_parse");
}
