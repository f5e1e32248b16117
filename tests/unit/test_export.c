/*
 * test_export.c - the staff export writer (staff/export.h): the CSV's
 * byte-order mark, RFC 4180 quoting (quotes doubled, commas and newlines
 * kept inside the field), formula neutralising of every cell and header,
 * Vietnamese text byte for byte; and an XLSX that a zip and XML reader
 * (python3's zipfile and ElementTree, tests/unit/xlsx_cells.py) opens,
 * with every cell a string, none a formula, the same neutralising, and
 * no temporary file left behind.
 */
#define _GNU_SOURCE
#include "staff/export.h"
#include "testlib.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const headers[] = { "Mã ĐVQHNS", "Tên", "=Ghi chú" };
static const char *const cells[] = {
	"1000001",
	"Nguyễn Thị Hồng Nhung",
	"=HYPERLINK(\"http://x\",\"y\")",
	"1000002",
	"Trần \"Bé\", Văn",
	"dòng 1\r\ndòng 2",
	"1000003",
	NULL,
	"+84912345678",
	"1000004",
	"@SUM(A1)",
	"-5",
};
static const struct staff_export table = { .sheet = "Đơn vị", .ncols = 3, .headers = headers, .nrows = 4, .cells = cells };

static void test_csv(void)
{
	struct buf b;
	buf_init(&b, 1 << 16);
	CHECK(staff_export_csv(&table, &b));
	const char *want = "\xEF\xBB\xBF"
			   "\"Mã ĐVQHNS\",\"Tên\",\"'=Ghi chú\"\r\n"
			   "\"1000001\",\"Nguyễn Thị Hồng Nhung\",\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\r\n"
			   "\"1000002\",\"Trần \"\"Bé\"\", Văn\",\"dòng 1\r\ndòng 2\"\r\n"
			   "\"1000003\",\"\",\"'+84912345678\"\r\n"
			   "\"1000004\",\"'@SUM(A1)\",\"'-5\"\r\n";
	CHECK_STR(b.data, want);
	CHECK(b.len == strlen(want));
	buf_free(&b);
}

static void test_csv_cap_and_malformed(void)
{
	struct buf b;
	buf_init(&b, 40); /* smaller than the table: refused, not cut */
	CHECK(!staff_export_csv(&table, &b));
	buf_free(&b);
	struct staff_export none = { .sheet = "x", .ncols = 0, .headers = headers };
	buf_init(&b, 1 << 16);
	CHECK(!staff_export_csv(&none, &b));
	struct staff_export nocells = { .sheet = "x", .ncols = 3, .headers = headers, .nrows = 1 };
	CHECK(!staff_export_csv(&nocells, &b));
	buf_free(&b);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		if (strncmp(e->d_name, "alertd-export-", 14) == 0)
			n++;
	if (d)
		closedir(d);
	return n;
}

static void test_xlsx(void)
{
	char tmp[] = "/tmp/alertd-test-export-XXXXXX", err[200] = "", path[96], cmd[256];
	size_t len = 0;

	CHECK(mkdtemp(tmp) != NULL);
	char abs[4096];
	CHECK(realpath(tmp, abs) != NULL);
	setenv("TMPDIR", abs, 1);
	char *x = staff_export_xlsx(&table, STAFF_EXPORT_MAX_BYTES, &len, err, sizeof(err));
	CHECK(x != NULL);
	if (!x) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	CHECK(len > 100 && memcmp(x, "PK\x03\x04", 4) == 0);
	/* the private directory and its files are gone */
	CHECK(count_entries(abs) == 0);
	snprintf(path, sizeof(path), "%s/out.xlsx", tmp);
	FILE *f = fopen(path, "wb");
	CHECK(f && fwrite(x, 1, len, f) == len);
	if (f)
		fclose(f);
	free(x);
	snprintf(cmd, sizeof(cmd), "python3 tests/unit/xlsx_cells.py %s", path);
	FILE *p = popen(cmd, "r");
	char out[4096] = "";
	size_t n = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
	out[n] = '\0';
	CHECK(p && pclose(p) == 0);
	/* one line per cell: ref TAB type TAB text (newlines shown as \n) */
	CHECK_STR(out, "sheet\tĐơn vị\n"
		       "A1\tstr\tMã ĐVQHNS\nB1\tstr\tTên\nC1\tstr\t'=Ghi chú\n"
		       "A2\tstr\t1000001\nB2\tstr\tNguyễn Thị Hồng Nhung\nC2\tstr\t'=HYPERLINK(\"http://x\",\"y\")\n"
		       "A3\tstr\t1000002\nB3\tstr\tTrần \"Bé\", Văn\nC3\tstr\tdòng 1\\r\\ndòng 2\n"
		       "A4\tstr\t1000003\nC4\tstr\t'+84912345678\n"
		       "A5\tstr\t1000004\nB5\tstr\t'@SUM(A1)\nC5\tstr\t'-5\n"
		       "formulas\t0\n");
	unlink(path);
	rmdir(tmp);
	unsetenv("TMPDIR");
}

static void test_xlsx_refusals(void)
{
	char err[200] = "";
	size_t len = 1;
	/* over the cap */
	char *x = staff_export_xlsx(&table, 100, &len, err, sizeof(err));
	CHECK(x == NULL && len == 0);
	CHECK_CONTAINS(err, "larger than 100 bytes");
	/* a cell longer than Excel holds */
	char *big = malloc(STAFF_EXPORT_XLSX_CELL_MAX + 2);
	memset(big, 'a', STAFF_EXPORT_XLSX_CELL_MAX + 1);
	big[STAFF_EXPORT_XLSX_CELL_MAX + 1] = '\0';
	const char *row[] = { "1", big, "3" };
	struct staff_export t = { .sheet = "x", .ncols = 3, .headers = headers, .nrows = 1, .cells = row };
	x = staff_export_xlsx(&t, STAFF_EXPORT_MAX_BYTES, &len, err, sizeof(err));
	CHECK(x == NULL);
	CHECK_CONTAINS(err, "more than 32767 bytes");
	/* exactly the limit fits (a leading quote would not: "=" counts) */
	big[STAFF_EXPORT_XLSX_CELL_MAX] = '\0';
	x = staff_export_xlsx(&t, STAFF_EXPORT_MAX_BYTES, &len, err, sizeof(err));
	CHECK(x != NULL);
	free(x);
	big[0] = '=';
	x = staff_export_xlsx(&t, STAFF_EXPORT_MAX_BYTES, &len, err, sizeof(err));
	CHECK(x == NULL);
	free(big);
	/* a sheet name Excel refuses */
	struct staff_export bad = { .sheet = "a/b", .ncols = 3, .headers = headers, .nrows = 0 };
	x = staff_export_xlsx(&bad, STAFF_EXPORT_MAX_BYTES, &len, err, sizeof(err));
	CHECK(x == NULL);
	CHECK_CONTAINS(err, "sheet name");
}

int main(void)
{
	RUN(test_csv);
	RUN(test_csv_cap_and_malformed);
	RUN(test_xlsx);
	RUN(test_xlsx_refusals);
	TEST_SUMMARY("test_export");
}
