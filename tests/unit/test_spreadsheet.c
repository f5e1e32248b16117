/*
 * test_spreadsheet.c - formula neutralising for spreadsheet-bound text
 * (core/spreadsheet.h): OWASP's CSV injection payloads, tab- and CR-prefixed
 * ones and full-width forms get a leading quote; ordinary text, including
 * Vietnamese, is left alone; CSV fields are always quoted with '"' doubled.
 */
#include "core/spreadsheet.h"
#include "testlib.h"

#include <stdlib.h>

static const struct {
	const char *in, *text, *csv;
} cases[] = {
	/* formulas and DDE payloads */
	{ "=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0", "\"'=cmd|' /C calc'!A0\"" },
	{ "=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"" },
	{ "+1+1", "'+1+1", "\"'+1+1\"" },
	{ "-1+1", "'-1+1", "\"'-1+1\"" },
	{ "@SUM(A1:A9)", "'@SUM(A1:A9)", "\"'@SUM(A1:A9)\"" },
	{ "\t=1+1", "'\t=1+1", "\"'\t=1+1\"" },
	{ "\r=1+1", "'\r=1+1", "\"'\r=1+1\"" },
	{ "=", "'=", "\"'=\"" },
	/* full-width = + - @ */
	{ "\xEF\xBC\x9D"
	  "1+1",
	  "'\xEF\xBC\x9D"
	  "1+1",
	  "\"'\xEF\xBC\x9D"
	  "1+1\"" },
	{ "\xEF\xBC\x8B"
	  "1",
	  "'\xEF\xBC\x8B"
	  "1",
	  "\"'\xEF\xBC\x8B"
	  "1\"" },
	{ "\xEF\xBC\x8D"
	  "1",
	  "'\xEF\xBC\x8D"
	  "1",
	  "\"'\xEF\xBC\x8D"
	  "1\"" },
	{ "\xEF\xBC\xA0"
	  "SUM",
	  "'\xEF\xBC\xA0"
	  "SUM",
	  "\"'\xEF\xBC\xA0"
	  "SUM\"" },
	/* text */
	{ "Nguy\xe1\xbb\x85n V\xc4\x83n A", "Nguy\xe1\xbb\x85n V\xc4\x83n A", "\"Nguy\xe1\xbb\x85n V\xc4\x83n A\"" },
	{ "1+1", "1+1", "\"1+1\"" },
	{ " =1+1", " =1+1", "\" =1+1\"" },
	{ "a=b", "a=b", "\"a=b\"" },
	{ "'quoted", "'quoted", "\"'quoted\"" },
	{ "say \"hi\", then go", "say \"hi\", then go", "\"say \"\"hi\"\", then go\"" },
	{ "\"", "\"", "\"\"\"\"" },
	{ "line\nbreak", "line\nbreak", "\"line\nbreak\"" },
	{ "\xEF\xBC\xA1", "\xEF\xBC\xA1", "\"\xEF\xBC\xA1\"" }, /* U+FF21, a full-width A */
	{ "", "", "\"\"" },
};

static void test_is_formula(void)
{
	CHECK(spreadsheet_is_formula("=1"));
	CHECK(spreadsheet_is_formula("\t"));
	CHECK(!spreadsheet_is_formula(""));
	CHECK(!spreadsheet_is_formula(NULL));
	CHECK(!spreadsheet_is_formula("\xEF\xBC")); /* a cut full-width form is not one */
	CHECK(!spreadsheet_is_formula("\n=1"));
}

static void test_cells(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf text, csv;
		buf_init(&text, 1024);
		buf_init(&csv, 1024);
		CHECK(spreadsheet_text(&text, cases[i].in) && buf_ok(&text));
		CHECK(spreadsheet_csv_field(&csv, cases[i].in) && buf_ok(&csv));
		CHECK_STR(text.data, cases[i].text);
		CHECK_STR(csv.data, cases[i].csv);
		buf_free(&text);
		buf_free(&csv);
	}
}

static void test_null_and_cap(void)
{
	struct buf b;

	buf_init(&b, 1024);
	CHECK(spreadsheet_text(&b, NULL) && buf_ok(&b) && b.len == 0);
	CHECK(spreadsheet_csv_field(&b, NULL));
	CHECK_STR(b.data, "\"\"");
	buf_free(&b);
	/* past the buffer's cap the append fails, and says so */
	buf_init(&b, 4);
	CHECK(!spreadsheet_csv_field(&b, "=12345"));
	CHECK(!buf_ok(&b));
	buf_free(&b);
}

int main(void)
{
	RUN(test_is_formula);
	RUN(test_cells);
	RUN(test_null_and_cap);
	TEST_SUMMARY("test_spreadsheet");
}
