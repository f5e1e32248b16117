/*
 * fuzz_roster.c - libFuzzer harness for the roster CSV parser: the input is
 * a roster file as uploaded, read by roster_parse() (libcsv, UTF-8 and NFC,
 * every row validated on its own and against the earlier rows), then the
 * report's warnings and rejected rows are built from it, as roster_import()
 * does before it touches the database. Checked besides crashes and leaks: a
 * malformed file names its line; a readable one has rows in file order,
 * starting after the header, each valid row with its login and unit, and
 * exactly nrejected rejected rows, each with a reason that starts with a
 * column name; no text of the report starts like a spreadsheet formula.
 */
#include "fuzz.h"
#include "core/spreadsheet.h"
#include "people/roster_parse.h"

#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_rows(const struct roster_state *imp)
{
	long nrejected = 0, last = 1;

	for (size_t i = 0; i < imp->nrows; i++) {
		const struct roster_row *r = &imp->rows[i];
		REQUIRE(r->line > last);
		last = r->line;
		if (r->reason) {
			nrejected++;
			REQUIRE(strchr(r->reason, ':') != NULL);
		} else {
			REQUIRE(r->login && *r->login && r->unit && *r->unit && r->name && *r->name && r->roles);
		}
	}
	REQUIRE(nrejected == imp->nrejected);
}

/* No text of the report starts like a spreadsheet formula, whatever the file held (docs/roster.md). */
static void check_report_text(const json_t *list)
{
	size_t i;
	const char *key;
	json_t *item, *v;

	json_array_foreach(list, i, item) {
		json_object_foreach((json_t *)item, key, v) {
			if (json_is_string(v))
				REQUIRE(!spreadsheet_is_formula(json_string_value(v)));
		}
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct roster_state imp;
	char err[512] = "";
	json_t *warnings = json_array(), *rejected = json_array();

	REQUIRE(warnings && rejected);
	roster_state_init(&imp);
	enum roster_result rc = roster_parse(&imp, (const char *)data, size, err, sizeof(err));
	if (rc == ROSTER_OK) {
		check_rows(&imp);
		REQUIRE(roster_collect_warnings(&imp, warnings));
		REQUIRE(roster_list_rejected(&imp, rejected));
		REQUIRE((long)json_array_size(rejected) == imp.nrejected);
		check_report_text(warnings);
		check_report_text(rejected);
	} else {
		REQUIRE(rc == ROSTER_MALFORMED);
		REQUIRE(strncmp(err, "line ", 5) == 0);
	}
	roster_state_free(&imp);
	json_decref(warnings);
	json_decref(rejected);
	return 0;
}
