/*
 * notices.c - the checks of a notice's text, the link allow-list, the
 * templates and the holidays list (see notices.h). Pure functions: the
 * handlers call them before anything is stored.
 *
 * Phishing that imitates treasury notices is the threat: a notice the app
 * shows as coming from the treasury must never carry a link elsewhere. So
 * anything a phone could turn into a link is checked, not only http(s)
 * URLs: bare "www.x.y" and domain-looking words ("evil.com/login"), and the
 * domain of an e-mail address (a reply address is a link too). The rule is
 * deliberately strict: a word such as "TP.HCM" looks like a domain and is
 * refused with its name, and the author writes "TP. HCM".
 */
#include "notices/notices.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

/* The wording of the recurring notices, in Vietnamese and English. */
static const struct notice_template templates[] = {
	{ "password_42_days", "Đổi mật khẩu DVCTT định kỳ 42 ngày",
	  "Theo quy định của Kho bạc Nhà nước, mật khẩu dịch vụ công trực tuyến (DVCTT) phải được đổi ít nhất 42 ngày "
	  "một lần. Hãy đăng nhập DVCTT và đổi mật khẩu ngay nếu đã quá hạn. Không dùng lại mật khẩu cũ và không chia "
	  "sẻ mật khẩu với bất kỳ ai.",
	  "Change your DVCTT password every 42 days",
	  "The State Treasury requires the online public service (DVCTT) password to be changed at least every 42 "
	  "days. Sign in to DVCTT and change it now if it is older. Do not reuse an old password and never share it." },
	{ "signing_certificate", "Không chia sẻ chứng thư số và USB ký số",
	  "Chứng thư số và USB ký số (token) chỉ do chính chủ tài khoản hoặc kế toán trưởng giữ và sử dụng. Không giao "
	  "USB ký số, mã PIN hay mật khẩu cho người khác, kể cả đồng nghiệp. Mỗi người ký trên thiết bị của mình.",
	  "Never share your signing certificate or USB token",
	  "The signing certificate and its USB token are held and used only by the account holder or the chief "
	  "accountant themselves. Never hand the token, its PIN or a password to anyone else, colleagues included. "
	  "Each person signs on their own device." },
	{ "phishing", "Cảnh giác lừa đảo mạo danh Kho bạc Nhà nước",
	  "Kho bạc Nhà nước không bao giờ yêu cầu cung cấp mật khẩu, mã OTP hay mã PIN qua điện thoại, tin nhắn hoặc "
	  "e-mail. Không bấm vào đường link lạ. Khi có nghi ngờ, hãy gọi cho phòng giao dịch Kho bạc Nhà nước của đơn "
	  "vị theo số điện thoại đã biết.",
	  "Beware of fraud in the name of the State Treasury",
	  "The State Treasury never asks for a password, an OTP code or a PIN by phone, text message or e-mail. Do not "
	  "open unknown links. When in doubt, call your State Treasury transaction office on the number you know." },
	{ "install_app", "Cài đặt ứng dụng cảnh báo của Kho bạc Nhà nước",
	  "Hãy cài đặt ứng dụng cảnh báo của Kho bạc Nhà nước từ kho ứng dụng chính thức (App Store hoặc Google Play) "
	  "và kích hoạt bằng mã do phòng giao dịch cấp, để nhận ngay cảnh báo về tài khoản và chứng từ của đơn vị.",
	  "Install the State Treasury alerts app",
	  "Install the State Treasury alerts app from the official store (App Store or Google Play) and activate it "
	  "with the code your transaction office gives you, to be told at once about your unit's accounts and "
	  "vouchers." },
};

const struct notice_template *notices_templates(size_t *n)
{
	*n = sizeof(templates) / sizeof(templates[0]);
	return templates;
}

const struct notice_template *notices_template(const char *id)
{
	for (size_t i = 0; id && i < sizeof(templates) / sizeof(templates[0]); i++)
		if (strcmp(templates[i].id, id) == 0)
			return &templates[i];
	return NULL;
}

/* One label of a domain list entry: 1-63 of a-z 0-9 -, not starting or ending with '-'. */
static bool label_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return true;
}

/* s[0..n) is a lower-case domain name of two labels or more. */
static bool domain_ok(const char *s, size_t n)
{
	size_t labels = 0, start = 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++)
		if (i == n || s[i] == '.') {
			if (!label_ok(s + start, i - start))
				return false;
			labels++;
			start = i + 1;
		}
	return labels >= 2;
}

bool notices_domains_valid(const char *list)
{
	size_t count = 0;
	const char *p = list;

	for (;;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (!domain_ok(p, n) || ++count > NOTICES_DOMAINS_MAX)
			return false;
		if (!e)
			return true;
		p = e + 1;
	}
}

bool notices_host_allowed(const char *host, const char *domains)
{
	size_t hl = strlen(host);
	const char *p = domains;

	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		/* equal, or a subdomain: the entry preceded by a dot, so "evilkbnn.vn" is not "kbnn.vn" */
		if (n > 0 && hl >= n && memcmp(host + hl - n, p, n) == 0 && (hl == n || host[hl - n - 1] == '.'))
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

/* Bytes that end a word for the link scan (ASCII only; other text stays inside the word, which is stricter). */
static bool separator(unsigned char c)
{
	return isspace(c) || strchr("<>\"'()[]{},;|\\", c) != NULL;
}

/* A byte a domain label may hold: what DNS allows, and any non-ASCII byte (a look-alike letter is still a link). */
static bool label_byte(unsigned char c)
{
	return isalnum(c) || c == '-' || c >= 0x80;
}

/*
 * Does w[0..n) look like a host name a phone would make a link of: two
 * labels or more, and a last label that can be a top-level domain (starts
 * with a letter; ASCII letters only, an xn-- name, or non-ASCII text)?
 * Numbers such as 1.234.567 and 100.000đ are not.
 */
static bool looks_like_host(const char *w, size_t n)
{
	size_t start = 0, labels = 0, last = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || w[i] == '.') {
			if (i == start)
				return false;
			labels++;
			last = start;
			start = i + 1;
		} else if (!label_byte((unsigned char)w[i])) {
			return false;
		}
	}
	if (labels < 2 || n - last < 2)
		return false;
	const unsigned char *t = (const unsigned char *)w + last;
	size_t tl = n - last;
	if (!(isalpha(t[0]) || t[0] >= 0x80))
		return false;
	if (tl > 4 && memcmp(t, "xn--", 4) == 0)
		return true;
	bool ascii_letters = true, non_ascii = false;
	for (size_t i = 0; i < tl; i++) {
		non_ascii |= t[i] >= 0x80;
		ascii_letters &= isalpha(t[i]) != 0;
	}
	return ascii_letters || non_ascii;
}

/* Schemes a phone opens without http(s): refused wherever they appear. */
static const char *const bad_schemes[] = { "javascript:", "data:", "vbscript:", "file:", "mailto:",
					   "tel:",	  "sms:",  "intent:",	"ftp:",	 "blob:",
					   "market:",	  "zalo:", "viber:",	"tg:",	 NULL };

static bool prefix_ci(const char *w, size_t n, const char *p)
{
	size_t pl = strlen(p);
	return n >= pl && strncasecmp(w, p, pl) == 0;
}

/*
 * Check one word w[0..n) of the text; false with msg when it is a link
 * that is not allowed.
 */
static bool word_ok(const char *w, size_t n, const char *domains, char *msg, size_t msglen)
{
	char host[256];
	size_t hn = 0;

	while (n > 0 && strchr(".!?:", w[n - 1]))
		n--; /* the end of a sentence is not part of a link */
	if (n == 0)
		return true;
	const char *rest = w;
	size_t rn = n;
	const char *sep = NULL;
	for (size_t i = 0; i + 2 < n; i++)
		if (w[i] == ':' && w[i + 1] == '/' && w[i + 2] == '/') {
			sep = w + i;
			break;
		}
	if (sep) {
		size_t sl = (size_t)(sep - w);
		if (!((sl == 4 && strncasecmp(w, "http", 4) == 0) || (sl == 5 && strncasecmp(w, "https", 5) == 0))) {
			snprintf(msg, msglen, "only http and https links are allowed: %.*s", (int)(n > 120 ? 120 : n), w);
			return false;
		}
		rest = sep + 3;
		rn = n - sl - 3;
	} else {
		for (const char *const *s = bad_schemes; *s; s++)
			if (prefix_ci(w, n, *s)) {
				snprintf(msg, msglen, "links of this kind are not allowed: %.*s", (int)(n > 120 ? 120 : n), w);
				return false;
			}
	}
	/* the host: before the path, after any user name (an e-mail address's domain too), without the port */
	size_t end = 0;
	while (end < rn && !strchr("/?#", rest[end]))
		end++;
	const char *h = rest;
	for (size_t i = 0; i < end; i++)
		if (rest[i] == '@')
			h = rest + i + 1;
	size_t hl = (size_t)(rest + end - h);
	for (size_t i = 0; i < hl; i++)
		if (h[i] == ':') {
			hl = i;
			break;
		}
	if (!sep && !looks_like_host(h, hl))
		return true;
	bool ascii = hl > 0 && hl < sizeof(host);
	for (size_t i = 0; ascii && i < hl; i++) {
		unsigned char c = (unsigned char)h[i];
		ascii = c < 0x80;
		host[hn++] = (char)tolower(c);
	}
	host[hn] = '\0';
	while (hn > 0 && host[hn - 1] == '.')
		host[--hn] = '\0';
	if (!ascii || hn == 0 || !notices_host_allowed(host, domains)) {
		snprintf(msg, msglen, "this link is not to an allowed domain (notices.allowed_link_domains): %.*s",
			 (int)(n > 120 ? 120 : n), w);
		return false;
	}
	return true;
}

bool notices_text_ok(const char *s, size_t len, size_t max, bool multiline, const char *domains, char *msg, size_t msglen)
{
	size_t chars = 0, word = 0;
	utf8proc_ssize_t i = 0;

	while ((size_t)i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)len - i, &cp);
		if (k <= 0) {
			snprintf(msg, msglen, "is not valid UTF-8");
			return false;
		}
		utf8proc_category_t cat = utf8proc_category(cp);
		bool newline = cp == '\n';
		if ((newline && !multiline) ||
		    (!newline && (cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF ||
				  cat == UTF8PROC_CATEGORY_CO || cat == UTF8PROC_CATEGORY_CN || cat == UTF8PROC_CATEGORY_CS ||
				  cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP))) {
			snprintf(msg, msglen, "must not contain U+%04X (%s)", (unsigned)cp,
				 newline ? "a line break" : "a control or invisible character");
			return false;
		}
		chars++;
		i += k;
	}
	if (chars == 0 || chars > max) {
		snprintf(msg, msglen, "must be 1 to %zu characters", max);
		return false;
	}
	for (size_t p = 0; p <= len; p++) {
		if (p == len || separator((unsigned char)s[p])) {
			if (p > word && !word_ok(s + word, p - word, domains, msg, msglen))
				return false;
			word = p + 1;
		}
	}
	return true;
}

bool notices_holidays_array(const char *list, char *out, size_t outlen)
{
	size_t o = 0, count = 0;
	const char *p = list;

	if (outlen < 3)
		return false;
	out[o++] = '{';
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		int y, m, d;
		char tail;
		char one[16];
		if (n != 10 || ++count > NOTICES_HOLIDAYS_MAX)
			return false;
		memcpy(one, p, n);
		one[n] = '\0';
		for (size_t k = 0; k < n; k++)
			if ((k == 4 || k == 7) ? one[k] != '-' : !isdigit((unsigned char)one[k]))
				return false;
		if (sscanf(one, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 2000 || y > 2999 || m < 1 || m > 12 ||
		    d < 1 || d > 31 || one[4] != '-' || one[7] != '-')
			return false;
		if (o + n + 3 > outlen)
			return false;
		if (count > 1)
			out[o++] = ',';
		memcpy(out + o, one, n);
		o += n;
		if (!e)
			break;
		p = e + 1;
	}
	out[o++] = '}';
	out[o] = '\0';
	return true;
}
