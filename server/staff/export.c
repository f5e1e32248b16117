/*
 * export.c - CSV and XLSX exports of text tables (see export.h).
 */
#define _GNU_SOURCE /* mkdtemp, secure_getenv */
#include "staff/export.h"
#include "core/fileio.h"
#include "core/spreadsheet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

const char *const staff_export_units_headers[STAFF_EXPORT_UNITS_COLS] = {
	"code",		"name",		 "office_code",	    "office_name",
	"status",	"missing_roles", "never_installed", "installed_unreachable",
	"shared_phone", "users",	 "covered_users",   "reachable_devices",
	"volume_30d",	"contact_email", "contact_phone",   "contacts",
};

static bool row_csv(struct buf *out, const char *const *cells, size_t ncols)
{
	for (size_t c = 0; c < ncols; c++) {
		if (c > 0)
			buf_append(out, ",", 1);
		spreadsheet_csv_field(out, cells ? cells[c] : NULL);
	}
	return buf_append(out, "\r\n", 2);
}

bool staff_export_csv(const struct staff_export *t, struct buf *out)
{
	if (t->ncols == 0 || !t->headers || (t->nrows > 0 && !t->cells))
		return false;
	buf_append(out, "\xEF\xBB\xBF", 3);
	row_csv(out, t->headers, t->ncols);
	for (size_t r = 0; r < t->nrows; r++)
		row_csv(out, t->cells + r * t->ncols, t->ncols);
	return buf_ok(out);
}

/* Write one text cell, neutralised, as a string; empty cells are left out. */
static bool cell_xlsx(lxw_worksheet *ws, size_t r, size_t c, const char *s, lxw_format *fmt, char *err, size_t errlen)
{
	struct buf b;
	bool ok;

	if (!s || !*s)
		return true;
	buf_init(&b, STAFF_EXPORT_XLSX_CELL_MAX + 2);
	if (!spreadsheet_text(&b, s) || !buf_ok(&b) || b.len > STAFF_EXPORT_XLSX_CELL_MAX) {
		snprintf(err, errlen, "row %zu column %zu: more than %d bytes for one cell", r, c + 1,
			 STAFF_EXPORT_XLSX_CELL_MAX);
		buf_free(&b);
		return false;
	}
	lxw_error e = worksheet_write_string(ws, (lxw_row_t)r, (lxw_col_t)c, b.data, fmt);
	ok = e == LXW_NO_ERROR;
	if (!ok)
		snprintf(err, errlen, "row %zu column %zu: %s", r, c + 1, lxw_strerror(e));
	buf_free(&b);
	return ok;
}

char *staff_export_xlsx(const struct staff_export *t, size_t max, size_t *len, char *err, size_t errlen)
{
	char dir[256], path[300];
	const char *tmp = secure_getenv("TMPDIR");
	lxw_workbook *wb = NULL;
	char *data = NULL;
	bool written = false;

	*len = 0;
	if (t->ncols == 0 || t->ncols > LXW_COL_MAX || t->nrows >= LXW_ROW_MAX || !t->headers || (t->nrows > 0 && !t->cells)) {
		snprintf(err, errlen, "malformed table");
		return NULL;
	}
	if (!tmp || !*tmp || tmp[0] != '/')
		tmp = "/tmp";
	if (snprintf(dir, sizeof(dir), "%s/alertd-export-XXXXXX", tmp) >= (int)sizeof(dir) || !mkdtemp(dir)) {
		snprintf(err, errlen, "cannot create a private temporary directory in %.100s", tmp);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/export.xlsx", dir);
	lxw_workbook_options opts = { .constant_memory = LXW_TRUE, .tmpdir = dir };
	wb = workbook_new_opt(path, &opts);
	lxw_worksheet *ws = wb ? workbook_add_worksheet(wb, t->sheet) : NULL;
	lxw_format *bold = wb ? workbook_add_format(wb) : NULL;
	if (!ws || !bold) {
		snprintf(err, errlen, "cannot start the workbook (sheet name \"%.40s\")", t->sheet ? t->sheet : "");
		goto out;
	}
	format_set_bold(bold);
	for (size_t c = 0; c < t->ncols; c++)
		if (!cell_xlsx(ws, 0, c, t->headers[c], bold, err, errlen))
			goto out;
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++)
			if (!cell_xlsx(ws, r + 1, c, t->cells[r * t->ncols + c], NULL, err, errlen))
				goto out;
	worksheet_freeze_panes(ws, 1, 0);
	worksheet_autofilter(ws, 0, 0, (lxw_row_t)t->nrows, (lxw_col_t)(t->ncols - 1));
	lxw_error e = workbook_close(wb);
	wb = NULL;
	if (e != LXW_NO_ERROR) {
		snprintf(err, errlen, "writing the workbook failed: %s", lxw_strerror(e));
		goto out;
	}
	written = true;
	data = fileio_read(path, max, len, err, errlen);
out:
	if (wb && !written)
		workbook_close(wb); /* frees it; the partial file is removed below */
	unlink(path);
	if (rmdir(dir) != 0 && !data)
		snprintf(err + strlen(err), errlen - strlen(err), "%s", " (temporary directory left behind)");
	if (!data)
		*len = 0;
	return data;
}
