/*
 * test_pages.c - the dashboard's embedded files (api_pages.h): each has a
 * content type and a strong ETag that is the SHA-256 of its bytes, the shell
 * names every asset it loads by that version and nothing that is not
 * embedded, no HTML carries inline script or style, and If-None-Match is
 * read as RFC 9110 says (a list, weak tags, "*").
 */
#include "api/api_pages.h"
#include "testlib.h"

#include <sodium.h>

static void test_every_file_has_its_hash_and_type(void)
{
	CHECK(web_assets_count >= 4);
	for (size_t i = 0; i < web_assets_count; i++) {
		const struct web_asset *a = &web_assets[i];
		unsigned char h[crypto_hash_sha256_BYTES];
		char hex[2 * sizeof(h) + 1];

		crypto_hash_sha256(h, (const unsigned char *)a->data, a->len);
		sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
		hex[32] = '\0';
		CHECK_STR(a->etag, hex);
		CHECK(a->len > 0 && strlen(a->data) == a->len); /* text, no NUL inside */
		CHECK(api_pages_find(a->name) == a);
		const char *dot = strrchr(a->name, '.');
		CHECK(dot != NULL);
		if (!dot)
			continue;
		if (strcmp(dot, ".js") == 0)
			CHECK_STR(a->content_type, "text/javascript; charset=utf-8");
		else if (strcmp(dot, ".css") == 0)
			CHECK_STR(a->content_type, "text/css; charset=utf-8");
		else if (strcmp(dot, ".html") == 0)
			CHECK_STR(a->content_type, "text/html; charset=utf-8");
		else if (strcmp(dot, ".svg") == 0)
			CHECK_STR(a->content_type, "image/svg+xml");
		else
			CHECK(!"an unexpected kind of file");
	}
	CHECK(api_pages_find("nope.js") == NULL);
	CHECK(api_pages_find("") == NULL);
	CHECK(api_pages_find(NULL) == NULL);
}

/* The shell loads app.js, app.css and the icon by their current versions, and carries nothing inline. */
static void test_shell_names_versions(void)
{
	const struct web_asset *shell = api_pages_find("index.html");
	const char *names[] = { "app.js", "app.css", "favicon.svg" };
	char ref[128];

	CHECK(shell != NULL);
	if (!shell)
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct web_asset *a = api_pages_find(names[i]);
		CHECK(a != NULL);
		if (!a)
			continue;
		snprintf(ref, sizeof(ref), "assets/%s?v=%s\"", a->name, a->etag);
		CHECK_CONTAINS(shell->data, ref);
	}
	for (const char *p = shell->data; (p = strstr(p, "assets/")) != NULL; p++)
		CHECK(strncmp(strchr(p, '?') ? strchr(p, '?') : "", "?v=", 3) == 0);
	CHECK(strstr(shell->data, "<style") == NULL && strstr(shell->data, " style=") == NULL);
	CHECK(strstr(shell->data, "<script>") == NULL && strstr(shell->data, "javascript:") == NULL);
}

static void test_if_none_match(void)
{
	static const struct {
		const char *header;
		bool match;
	} cases[] = {
		{ "\"abc\"", true },	     { "W/\"abc\"", true }, { "\"x\", \"abc\"", true },
		{ "\"x\",W/\"abc\"", true }, { "*", true },	    { "\"abcd\"", false },
		{ "\"ab\"", false },	     { "abc", false }, /* not quoted: not an entity tag */
		{ "\"abc", false },			       /* unterminated */
		{ "\"x\", abc", false },     { "", false },	    { NULL, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (api_pages_etag_matches(cases[i].header, "abc") != cases[i].match) {
			fprintf(stderr, "  If-None-Match case %zu (%s): expected %s\n", i,
				cases[i].header ? cases[i].header : "NULL", cases[i].match ? "a match" : "no match");
			tl_current_failed = 1;
		}
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	RUN(test_every_file_has_its_hash_and_type);
	RUN(test_shell_names_versions);
	RUN(test_if_none_match);
	TEST_SUMMARY("test_pages");
}
