/*
 * spreadsheet.h - text bound for a spreadsheet (a CSV or XLSX export) made
 * safe from formula injection, per OWASP's "CSV Injection" guidance: a
 * value that a spreadsheet would take as a formula (=cmd|' /C calc'!A0,
 * +1+1, -1+1, @SUM(A1), or any of these after a tab or a carriage return)
 * gets a leading single quote, which makes it text.
 *
 * alertd stores such values verbatim (a roster name may be "=Nguyễn" by
 * mistake; it is the export that must not run it). Every export of text to
 * CSV or XLSX passes each text cell through spreadsheet_text() or
 * spreadsheet_csv_field(); see docs/roster.md "Spreadsheet formulas".
 */
#ifndef ALERTD_SPREADSHEET_H
#define ALERTD_SPREADSHEET_H

#include "core/buf.h"

#include <stdbool.h>

/*
 * True when a spreadsheet could read s as a formula: it starts with '=',
 * '+', '-', '@', a tab or a carriage return, or with the full-width forms
 * U+FF1D '＝', U+FF0B '＋', U+FF0D '－', U+FF20 '＠' (which some
 * spreadsheets convert). NULL and "" are not.
 */
bool spreadsheet_is_formula(const char *s);

/* Append s to out as the text of one cell: with a leading ' when spreadsheet_is_formula(s). NULL is "". */
bool spreadsheet_text(struct buf *out, const char *s);

/*
 * Append s to out as one RFC 4180 CSV field: neutralised as by
 * spreadsheet_text(), then always enclosed in double quotes, a '"' inside
 * doubled. The caller writes the ',' between fields and the CRLF after a
 * row. NULL is an empty field ("").
 */
bool spreadsheet_csv_field(struct buf *out, const char *s);

#endif
