/*
 * export.h - the writer of staff exports: a table of text cells (column
 * headers, then rows) as CSV or XLSX, for spreadsheets. Every cell, the
 * headers included, goes through core/spreadsheet's formula neutralising
 * (a leading ' for text starting with = + - @, a tab, a CR or their
 * full-width forms), in both formats.
 *
 * CSV: UTF-8 with a byte-order mark (Excel then reads Vietnamese right),
 * RFC 4180: every field in double quotes, '"' doubled, rows ended by CRLF;
 * a newline inside a cell stays inside its quotes.
 *
 * XLSX: written by libxlsxwriter (Debian libxlsxwriter-dev), every cell as
 * a string (never a number or formula), the header row bold, frozen and
 * filterable. libxlsxwriter 1.1.4 writes only to a file: the workbook and
 * its temporary files go into a new private directory (mkdtemp, mode
 * 0700), the result is read back under a cap, and the directory is
 * removed on every path.
 *
 * What goes into an export is personal data: the caller checks the
 * re-authentication (staff/reauth.h) and counts the rows against the
 * look-up quota (staff/lookups.h) before writing it.
 */
#ifndef ALERTD_STAFF_EXPORT_H
#define ALERTD_STAFF_EXPORT_H

#include "core/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* The largest export either format returns, in bytes. */
#define STAFF_EXPORT_MAX_BYTES (64u << 20)
/* The longest text an XLSX cell holds (Excel's limit, in bytes here: libxlsxwriter counts bytes). */
#define STAFF_EXPORT_XLSX_CELL_MAX 32767

#define STAFF_EXPORT_CSV_TYPE "text/csv; charset=utf-8"
#define STAFF_EXPORT_XLSX_TYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

struct staff_export {
	const char *sheet;	    /* XLSX sheet name: 1-31 characters, none of []:*?/\ */
	size_t ncols;		    /* >= 1 */
	const char *const *headers; /* ncols names */
	size_t nrows;
	const char *const *cells; /* nrows * ncols, row after row; a NULL cell is empty */
};

/*
 * The columns of GET /v1/staff/coverage/units.csv and .xlsx, one row per
 * unit of GET /v1/staff/coverage/units (the same filters and order):
 * missing_roles space-separated; booleans "yes"/"no"; volume_30d the VND
 * decimal string; contacts the unit's uncovered users, one per line in the
 * cell: "full_name (login; roles): phone, email". Such an export counts the
 * people it names (the contacts) against the look-up quota
 * (staff/lookups.h), and needs a fresh re-authentication first.
 */
#define STAFF_EXPORT_UNITS_COLS 16
extern const char *const staff_export_units_headers[STAFF_EXPORT_UNITS_COLS];

/* Append t to out as CSV (see above). False when out failed (its cap) or t is malformed. */
bool staff_export_csv(const struct staff_export *t, struct buf *out) __attribute__((warn_unused_result));

/*
 * t as an XLSX workbook of one sheet: a malloc'd buffer of *len bytes the
 * caller frees, or NULL with a reason in err (a cell over
 * STAFF_EXPORT_XLSX_CELL_MAX, the result over max, the temporary
 * directory, libxlsxwriter's error).
 */
char *staff_export_xlsx(const struct staff_export *t, size_t max, size_t *len, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
