/*
 * spreadsheet.c - formula neutralising for text exported to spreadsheets
 * (see spreadsheet.h and OWASP's CSV Injection page).
 */
#include "core/spreadsheet.h"

#include <string.h>

/* The characters that make a cell a formula (or a DDE call) in Excel, LibreOffice and Google Sheets. */
static const char formula_start[] = "=+-@\t\r";
/* Their full-width forms in UTF-8: U+FF1D, U+FF0B, U+FF0D, U+FF20. */
static const char *const formula_start_wide[] = { "\xEF\xBC\x9D", "\xEF\xBC\x8B", "\xEF\xBC\x8D", "\xEF\xBC\xA0" };

bool spreadsheet_is_formula(const char *s)
{
	if (!s || !*s)
		return false;
	if (strchr(formula_start, *s))
		return true;
	for (size_t i = 0; i < sizeof(formula_start_wide) / sizeof(formula_start_wide[0]); i++)
		if (strncmp(s, formula_start_wide[i], 3) == 0)
			return true;
	return false;
}

bool spreadsheet_text(struct buf *out, const char *s)
{
	if (!s)
		s = "";
	if (spreadsheet_is_formula(s))
		buf_append(out, "'", 1);
	return buf_append(out, s, strlen(s));
}

bool spreadsheet_csv_field(struct buf *out, const char *s)
{
	if (!s)
		s = "";
	buf_append(out, "\"", 1);
	if (spreadsheet_is_formula(s))
		buf_append(out, "'", 1);
	for (const char *q; (q = strchr(s, '"')) != NULL; s = q + 1) {
		buf_append(out, s, (size_t)(q - s) + 1);
		buf_append(out, "\"", 1);
	}
	buf_append(out, s, strlen(s));
	return buf_append(out, "\"", 1);
}
