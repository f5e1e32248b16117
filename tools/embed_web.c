/*
 * embed_web.c - build-time tool: turn the staff dashboard's files (web/)
 * into a C source defining web_assets[] (see include/api/api_pages.h), so
 * alertd serves them from the binary: no CDN, no files to deploy.
 *
 * Usage: embed_web OUT.c FILE...
 * Each file becomes one asset named by its base name, with its content type
 * (from the extension: .html .js .css .svg only) and a strong ETag, the
 * first 128 bits of its SHA-256 in hex. index.html is the page shell: every
 * "assets/NAME" it references is rewritten to "assets/NAME?v=ETAG", so the
 * shell names the exact version of each file and the versioned URL can be
 * cached for good (api_pages.c).
 *
 * The build fails on what the dashboard's Content-Security-Policy would
 * refuse in a browser: an inline <script> (one without src), a <style>
 * element, a style="" attribute, an on...= event handler attribute or a
 * javascript: URL in the HTML, a reference in index.html to an asset that
 * is not embedded, and any name outside [a-z0-9._-].
 */
#include <ctype.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FILES 32
#define MAX_FILE_BYTES (1024 * 1024)
#define ETAG_BYTES 16

struct file {
	const char *path;
	const char *name;
	const char *type;
	unsigned char *data;
	size_t len;
	char etag[2 * ETAG_BYTES + 1];
};

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *content_type(const char *name)
{
	if (ends_with(name, ".html"))
		return "text/html; charset=utf-8";
	if (ends_with(name, ".js"))
		return "text/javascript; charset=utf-8";
	if (ends_with(name, ".css"))
		return "text/css; charset=utf-8";
	if (ends_with(name, ".svg"))
		return "image/svg+xml";
	return NULL;
}

static bool valid_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 64 || name[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '.' ||
		      name[i] == '_' || name[i] == '-'))
			return false;
	return true;
}

static bool read_all(struct file *f)
{
	FILE *in = fopen(f->path, "rb");
	size_t cap = 4096;

	if (!in) {
		perror(f->path);
		return false;
	}
	f->data = malloc(cap + 1);
	f->len = 0;
	while (f->data) {
		size_t n = fread(f->data + f->len, 1, cap - f->len, in);
		f->len += n;
		if (f->len < cap)
			break;
		if (cap >= MAX_FILE_BYTES) {
			fprintf(stderr, "%s: larger than %d bytes\n", f->path, MAX_FILE_BYTES);
			fclose(in);
			return false;
		}
		cap *= 2;
		unsigned char *bigger = realloc(f->data, cap + 1);
		if (!bigger)
			free(f->data);
		f->data = bigger;
	}
	if (!f->data || ferror(in)) {
		perror(f->path);
		fclose(in);
		return false;
	}
	fclose(in);
	f->data[f->len] = '\0';
	return true;
}

static void set_etag(struct file *f)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, f->data, f->len);
	for (int i = 0; i < ETAG_BYTES; i++)
		snprintf(f->etag + 2 * i, 3, "%02x", h[i]);
}

/* Case-insensitive search for needle in the NUL-terminated text. */
static const char *find_ci(const char *text, const char *needle)
{
	size_t n = strlen(needle);

	for (const char *p = text; *p; p++)
		if (strncasecmp(p, needle, n) == 0)
			return p;
	return NULL;
}

/* What the CSP refuses in HTML; the message names it, NULL when clean. */
static const char *inline_code(const char *html)
{
	for (const char *p = html; (p = find_ci(p, "<script")) != NULL; p++) {
		const char *end = strchr(p, '>');
		if (!end)
			return "an unterminated <script> tag";
		char tag[512];
		size_t n = (size_t)(end - p) < sizeof(tag) - 1 ? (size_t)(end - p) : sizeof(tag) - 1;
		memcpy(tag, p, n);
		tag[n] = '\0';
		if (!find_ci(tag, " src="))
			return "an inline <script> (without src)";
	}
	if (find_ci(html, "<style"))
		return "a <style> element";
	if (find_ci(html, "javascript:"))
		return "a javascript: URL";
	for (const char *p = html; *p; p++) {
		if (!isspace((unsigned char)*p))
			continue;
		if (strncasecmp(p + 1, "style=", 6) == 0)
			return "a style=\"\" attribute";
		if (tolower((unsigned char)p[1]) == 'o' && tolower((unsigned char)p[2]) == 'n') {
			const char *q = p + 3;
			while (isalpha((unsigned char)*q))
				q++;
			if (q > p + 3 && *q == '=')
				return "an on...= event handler attribute";
		}
	}
	return NULL;
}

static const struct file *find_file(const struct file *files, int n, const char *name, size_t len)
{
	for (int i = 0; i < n; i++)
		if (strlen(files[i].name) == len && memcmp(files[i].name, name, len) == 0)
			return &files[i];
	return NULL;
}

static void emit_bytes(FILE *out, const unsigned char *data, size_t len)
{
	size_t col = 0;

	fputs("\t  \"", out);
	for (size_t i = 0; i < len; i++) {
		int c = data[i];
		if (c == '\\' || c == '"' || c == '?' || c < 0x20 || c >= 0x7f)
			fprintf(out, "\\%03o", c);
		else
			fputc(c, out);
		if (c == '\n' || ++col > 100) {
			fputs("\"\n\t  \"", out);
			col = 0;
		}
	}
	fputs("\"", out);
}

/*
 * The shell with every "assets/NAME" reference versioned. Returns a new
 * buffer (*len bytes), or NULL after naming an unknown asset.
 */
static unsigned char *versioned_shell(const struct file *shell, const struct file *files, int n, size_t *len)
{
	static const char marker[] = "assets/";
	size_t cap = shell->len + 1, used = 0;
	unsigned char *out;
	const char *p = (const char *)shell->data;

	for (const char *q = p; (q = strstr(q, marker)) != NULL; q++)
		cap += 3 + 2 * ETAG_BYTES;
	out = malloc(cap);
	if (!out)
		return NULL;
	for (;;) {
		const char *q = strstr(p, marker);
		size_t lit = q ? (size_t)(q - p) + sizeof(marker) - 1 : strlen(p);
		memcpy(out + used, p, lit);
		used += lit;
		if (!q)
			break;
		p = q + sizeof(marker) - 1;
		size_t nl = strcspn(p, "\"'?# >");
		const struct file *f = find_file(files, n, p, nl);
		if (!f || f == shell) {
			fprintf(stderr, "%s: references assets/%.*s, which is not embedded\n", shell->path, (int)nl, p);
			free(out);
			return NULL;
		}
		memcpy(out + used, p, nl);
		used += nl;
		used += (size_t)snprintf((char *)out + used, cap - used, "?v=%s", f->etag);
		p += nl;
	}
	*len = used;
	return out;
}

int main(int argc, char **argv)
{
	struct file files[MAX_FILES];
	int n = argc - 2, shell = -1;
	FILE *out;

	if (argc < 3 || n > MAX_FILES) {
		fprintf(stderr, "usage: %s OUT.c FILE... (at most %d files)\n", argv[0], MAX_FILES);
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	memset(files, 0, sizeof(files));
	for (int i = 0; i < n; i++) {
		struct file *f = &files[i];
		f->path = argv[i + 2];
		f->name = base_name(f->path);
		f->type = content_type(f->name);
		if (!valid_name(f->name) || !f->type) {
			fprintf(stderr, "%s: names are [a-z0-9._-] ending .html, .js, .css or .svg\n", f->path);
			return 1;
		}
		if (find_file(files, i, f->name, strlen(f->name))) {
			fprintf(stderr, "%s: a second file of that name\n", f->path);
			return 1;
		}
		if (!read_all(f))
			return 1;
		if (ends_with(f->name, ".html")) {
			const char *why = inline_code((const char *)f->data);
			if (why) {
				fprintf(stderr, "%s: %s, which the dashboard's Content-Security-Policy refuses\n",
					f->path, why);
				return 1;
			}
		}
		if (strcmp(f->name, "index.html") == 0)
			shell = i;
		set_etag(f);
	}
	if (shell < 0) {
		fprintf(stderr, "embed_web: no index.html among the files\n");
		return 1;
	}
	size_t shell_len = 0;
	unsigned char *shell_data = versioned_shell(&files[shell], files, n, &shell_len);
	if (!shell_data)
		return 1;
	free(files[shell].data);
	files[shell].data = shell_data;
	files[shell].len = shell_len;
	set_etag(&files[shell]);

	out = fopen(argv[1], "w");
	if (!out) {
		perror(argv[1]);
		return 1;
	}
	fprintf(out, "/* Generated by tools/embed_web.c from web/; do not edit. */\n");
	fprintf(out, "#include \"api/api_pages.h\"\n\n");
	fprintf(out, "const struct web_asset web_assets[] = {\n");
	for (int i = 0; i < n; i++) {
		fprintf(out, "\t{ \"%s\", \"%s\", \"%s\",\n", files[i].name, files[i].type, files[i].etag);
		emit_bytes(out, files[i].data, files[i].len);
		fprintf(out, ",\n\t  %zu },\n", files[i].len);
		free(files[i].data);
	}
	fprintf(out, "};\n\nconst size_t web_assets_count = %d;\n", n);
	if (fclose(out) != 0) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
