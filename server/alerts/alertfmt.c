/*
 * alertfmt.c - the text of alerts: money, time, account and UTF-8 helpers,
 * the vi/en message catalogue, a small placeholder renderer, and rendering an
 * event into a push title and body.
 *
 * Every user-visible string is one row of catalogue[] below (an id, its
 * Vietnamese and its English text); code only picks rows and fills their
 * {placeholders}. Values are inserted verbatim and never re-scanned, so text
 * that came with an event cannot inject a placeholder. Nothing here touches
 * the database, allocates, or depends on the process locale or TZ: local time
 * is Asia/Ho_Chi_Minh, UTC+7 all year (Vietnam has no DST).
 *
 * The body of an alert must fit ALERTFMT_BODY_MAX bytes. The only unbounded
 * parts of an event are its free text (a balance description, a rejection
 * reason, a device label); when the body would not fit, that one value is cut
 * with alertfmt_truncate to exactly the room left.
 */
#include "alerts/alertfmt.h"
#include "core/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>

#define US_PER_SEC 1000000LL
#define ELLIPSIS "\xe2\x80\xa6" /* U+2026 */
#define ELLIPSIS_LEN 3
#define MASK_KEEP 4 /* characters of an account shown after the ellipsis */
#define MAX_VARS 8
#define ID_MAX 64

struct message {
	const char *id;
	const char *text[2]; /* [ALERT_LANG_VI], [ALERT_LANG_EN] */
};

/* The whole catalogue. docs/alerts.md shows what these render to. */
static const struct message catalogue[] = {
	/* balance.changed */
	{ "balance.changed.title", { "Biến động số dư", "Balance change" } },
	{ "balance.changed.body",
	  { "TK {account}: {amount} lúc {time}. Số dư: {balance}.", "Acct {account}: {amount} at {time}. Balance: {balance}." } },
	{ "balance.changed.body_desc",
	  { "TK {account}: {amount} lúc {time}. Số dư: {balance}. ND: {desc}",
	    "Acct {account}: {amount} at {time}. Balance: {balance}. Note: {desc}" } },

	/* voucher.status_changed */
	{ "voucher.status_changed.title", { "Cập nhật trạng thái chứng từ", "Voucher status update" } },
	{ "voucher.status_changed.body",
	  { "Chứng từ {number} ({kind}) {amount}: {status}", "Voucher {number} ({kind}) {amount}: {status}" } },
	{ "voucher.status_changed.body_reason",
	  { "Chứng từ {number} ({kind}) {amount}: {status}. Lý do: {reason}",
	    "Voucher {number} ({kind}) {amount}: {status}. Reason: {reason}" } },

	/* voucher statuses, as the end of the voucher sentence */
	{ "voucher.status.submitted", { "đã được gửi đến KBNN", "submitted to the State Treasury" } },
	{ "voucher.status.received", { "KBNN đã tiếp nhận", "received by the State Treasury" } },
	{ "voucher.status.checking", { "KBNN đang kiểm soát", "being checked by the State Treasury" } },
	{ "voucher.status.approved", { "KBNN đã phê duyệt", "approved by the State Treasury" } },
	{ "voucher.status.rejected", { "KBNN đã từ chối", "rejected by the State Treasury" } },
	{ "voucher.status.accounted", { "KBNN đã hạch toán", "posted by the State Treasury" } },
	{ "voucher.status.paid", { "KBNN đã thanh toán", "paid by the State Treasury" } },

	/* voucher kinds */
	{ "voucher.kind.budget_withdrawal", { "Giấy rút dự toán", "budget withdrawal" } },
	{ "voucher.kind.payment_order", { "Ủy nhiệm chi", "payment order" } },
	{ "voucher.kind.cash_withdrawal", { "Giấy rút tiền mặt", "cash withdrawal" } },
	{ "voucher.kind.advance", { "Tạm ứng", "advance" } },
	{ "voucher.kind.refund", { "Hoàn trả", "refund" } },
	{ "voucher.kind.other", { "Chứng từ", "voucher" } },

	/* risk rules: title, and the explanation that opens the body */
	{ "risk.body", { "{rule} {event}", "{rule} {event}" } },
	{ "risk.signature_gap.title", { "Cảnh báo: hai chữ ký gần như cùng lúc", "Warning: both signatures seconds apart" } },
	{ "risk.signature_gap.explanation",
	  { "Chủ tài khoản và kế toán trưởng ký cách nhau chỉ vài giây, có thể một người đang giữ cả hai chữ ký số.",
	    "The account holder and the chief accountant signed seconds apart; one person may hold both digital "
	    "signatures." } },
	{ "risk.same_certificate.title", { "Cảnh báo: trùng chữ ký số", "Warning: same signer or certificate" } },
	{ "risk.same_certificate.explanation",
	  { "Chủ tài khoản và kế toán trưởng ký bằng cùng một chứng thư số hoặc cùng một người ký.",
	    "The account holder and the chief accountant signed with the same digital certificate or as the same "
	    "person." } },
	{ "risk.cash_withdrawal.title", { "Cảnh báo: rút tiền mặt", "Warning: cash withdrawal" } },
	{ "risk.cash_withdrawal.explanation",
	  { "Có chứng từ rút tiền mặt. Nếu đơn vị không thực hiện, hãy báo ngay cho Kho bạc.",
	    "A cash withdrawal is under way. If your unit did not make it, contact your treasury office at once." } },
	{ "risk.large_amount.title", { "Cảnh báo: giao dịch giá trị lớn", "Warning: large amount" } },
	{ "risk.large_amount.explanation",
	  { "Số tiền bằng hoặc vượt ngưỡng giá trị lớn của đơn vị.",
	    "The amount is at or above your unit's large-amount threshold." } },
	{ "risk.off_hours.title", { "Cảnh báo: giao dịch ngoài giờ làm việc", "Warning: outside working hours" } },
	{ "risk.off_hours.explanation",
	  { "Chứng từ được ký hoặc gửi ngoài giờ làm việc hoặc vào cuối tuần.",
	    "The voucher was signed or submitted outside working hours or at the weekend." } },
	{ "risk.rejected.title", { "Cảnh báo: chứng từ bị từ chối", "Warning: voucher rejected" } },
	{ "risk.rejected.explanation",
	  { "KBNN đã từ chối chứng từ; hãy kiểm tra lý do và xử lý kịp thời.",
	    "The State Treasury rejected a voucher; check the reason and act on it promptly." } },
	{ "risk.new_beneficiary.title", { "Cảnh báo: người thụ hưởng mới", "Warning: new beneficiary" } },
	{ "risk.new_beneficiary.explanation",
	  { "Lần đầu đơn vị chuyển tiền đến tài khoản thụ hưởng này.",
	    "Your unit is paying this beneficiary account for the first time." } },
	{ "risk.rapid_repeat.title", { "Cảnh báo: chi lặp lại", "Warning: repeated payment" } },
	{ "risk.rapid_repeat.explanation",
	  { "Một chứng từ khác cùng số tiền, cùng người thụ hưởng vừa được gửi cách đây ít phút.",
	    "The same amount to the same beneficiary was submitted on another voucher minutes ago." } },

	/* privacy mode: nothing about the event */
	{ "privacy.title", { "KBNN: Bạn có thông báo mới", "KBNN: You have a new notification" } },
	{ "privacy.body", { "Mở ứng dụng để xem chi tiết.", "Open the app to see the details." } },
	{ "privacy.body_risk",
	  { "Có cảnh báo quan trọng, hãy mở ứng dụng để xem ngay.", "An important warning: open the app to see it now." } },

	/* security */
	{ "security.new_device.title", { "Kích hoạt trên thiết bị mới", "New device activated" } },
	{ "security.new_device.body",
	  { "Tài khoản của bạn vừa được kích hoạt trên thiết bị mới ({device}) lúc {time}. Nếu không phải bạn, hãy "
	    "báo ngay cho Kho bạc.",
	    "Your account was just activated on a new device ({device}) at {time}. If this was not you, contact your "
	    "treasury office at once." } },
};

#define N_MESSAGES (sizeof(catalogue) / sizeof(catalogue[0]))

enum alert_lang alertfmt_lang(const char *code)
{
	return code && strcmp(code, "en") == 0 ? ALERT_LANG_EN : ALERT_LANG_VI;
}

const char *alertfmt_message(const char *id, enum alert_lang lang)
{
	if (!id)
		return NULL;
	for (size_t i = 0; i < N_MESSAGES; i++)
		if (strcmp(catalogue[i].id, id) == 0)
			return catalogue[i].text[lang == ALERT_LANG_EN ? 1 : 0];
	return NULL;
}

size_t alertfmt_message_count(void)
{
	return N_MESSAGES;
}

const char *alertfmt_message_id(size_t i)
{
	return i < N_MESSAGES ? catalogue[i].id : NULL;
}

/* alertfmt_message of prefix + name, e.g. ("voucher.status.", "paid"). NULL when unknown. */
static const char *message2(const char *prefix, const char *name, const char *suffix, enum alert_lang lang)
{
	char id[ID_MAX];
	int n;

	if (!name)
		return NULL;
	n = snprintf(id, sizeof(id), "%s%s%s", prefix, name, suffix);
	if (n < 0 || (size_t)n >= sizeof(id))
		return NULL;
	return alertfmt_message(id, lang);
}

static void clear(char *out, size_t outlen)
{
	if (out && outlen > 0)
		out[0] = '\0';
}

bool alertfmt_amount(long long amount, const char *currency, enum alert_lang lang, char *out, size_t outlen)
{
	char digits[40]; /* 19 digits, 6 separators, a sign and NUL */
	size_t i = sizeof(digits);
	/* magnitude in unsigned arithmetic: -INT64_MIN does not fit a long long */
	unsigned long long m = amount < 0 ? 0ULL - (unsigned long long)amount : (unsigned long long)amount;
	char sep = lang == ALERT_LANG_EN ? ',' : '.';
	int in_group = 0, n;

	digits[--i] = '\0';
	do {
		if (in_group == 3) {
			digits[--i] = sep;
			in_group = 0;
		}
		digits[--i] = (char)('0' + m % 10);
		m /= 10;
		in_group++;
	} while (m);
	if (amount < 0)
		digits[--i] = '-';
	if (!currency || !*currency)
		currency = "VND";
	n = snprintf(out, outlen, "%s %s", digits + i, currency);
	if (n < 0 || (size_t)n >= outlen) {
		clear(out, outlen);
		return false;
	}
	return true;
}

void alertfmt_time(int64_t us, char *out, size_t outlen)
{
	int64_t secs = us / US_PER_SEC;
	struct tm tm;
	time_t t;
	int n;

	if (us % US_PER_SEC < 0)
		secs--; /* round down, not toward zero */
	t = (time_t)(secs + CLOCK_VN_OFFSET_SECONDS);
	if (!gmtime_r(&t, &tm)) {
		clear(out, outlen);
		return;
	}
	n = snprintf(out, outlen, "%02d:%02d %02d/%02d/%04lld", tm.tm_hour, tm.tm_min, tm.tm_mday, tm.tm_mon + 1,
		     (long long)tm.tm_year + 1900);
	if (n < 0 || (size_t)n >= outlen)
		clear(out, outlen);
}

void alertfmt_account(const char *account, char *out, size_t outlen)
{
	const char *p;
	int n, count = 0;

	if (!account) {
		clear(out, outlen);
		return;
	}
	/* step back over MASK_KEEP code points (a code point starts at a non-continuation byte) */
	p = account + strlen(account);
	while (p > account && count < MASK_KEEP) {
		p--;
		if (((unsigned char)*p & 0xC0) != 0x80)
			count++;
	}
	if (p == account)
		n = snprintf(out, outlen, "%s", account);
	else
		n = snprintf(out, outlen, ELLIPSIS "%s", p);
	if (n < 0 || (size_t)n >= outlen)
		clear(out, outlen);
}

/* The largest grapheme-cluster boundary of s (len bytes) that is <= limit. */
static size_t grapheme_floor(const char *s, size_t len, size_t limit)
{
	const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
	utf8proc_int32_t prev = -1, cp, state = 0;
	size_t pos = 0, best = 0;

	while (pos < len && pos <= limit) {
		utf8proc_ssize_t k = utf8proc_iterate(u + pos, (utf8proc_ssize_t)(len - pos), &cp);
		if (k <= 0) { /* not valid UTF-8 after all: step one byte */
			cp = 0xFFFD;
			k = 1;
		}
		if (prev < 0 || utf8proc_grapheme_break_stateful(prev, cp, &state))
			best = pos;
		prev = cp;
		pos += (size_t)k;
	}
	if (pos == len && pos <= limit)
		best = pos;
	return best;
}

size_t alertfmt_truncate(char *s, size_t max_bytes)
{
	size_t len, cut;
	bool room = max_bytes >= ELLIPSIS_LEN;

	if (!s)
		return 0;
	len = strlen(s);
	if (len <= max_bytes)
		return len;
	cut = grapheme_floor(s, len, room ? max_bytes - ELLIPSIS_LEN : max_bytes);
	if (room) {
		while (cut > 0 && s[cut - 1] == ' ')
			cut--;
		memcpy(s + cut, ELLIPSIS, ELLIPSIS_LEN);
		cut += ELLIPSIS_LEN;
	}
	s[cut] = '\0';
	return cut;
}

static const struct alertfmt_var *find_var(const struct alertfmt_var *vars, size_t nvars, const char *name, size_t len)
{
	for (size_t i = 0; i < nvars; i++)
		if (vars[i].name && strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0)
			return &vars[i];
	return NULL;
}

bool alertfmt_fill(const char *tmpl, const struct alertfmt_var *vars, size_t nvars, char *out, size_t outlen)
{
	size_t n = 0;
	const char *p = tmpl;

	if (!out || outlen == 0)
		return false;
	out[0] = '\0';
	if (!tmpl)
		return false;
	while (*p) {
		const char *piece;
		size_t len;

		if (*p == '{') {
			const char *end = strchr(p + 1, '}');
			const struct alertfmt_var *v = end ? find_var(vars, nvars, p + 1, (size_t)(end - p - 1)) : NULL;
			if (!v)
				goto fail;
			piece = v->value ? v->value : "";
			len = strlen(piece);
			p = end + 1;
		} else {
			const char *brace = strchr(p, '{');
			piece = p;
			len = brace ? (size_t)(brace - p) : strlen(p);
			p += len;
		}
		if (len >= outlen - n)
			goto fail;
		memcpy(out + n, piece, len);
		n += len;
	}
	out[n] = '\0';
	return true;
fail:
	out[0] = '\0';
	return false;
}

/*
 * One sentence to render: a template, its values (pointing into the buffers
 * here or into the event), and which value, if any, is free text that may be
 * cut to make the body fit.
 */
struct line {
	const char *tmpl;
	struct alertfmt_var vars[MAX_VARS];
	size_t nvars;
	int free_var; /* index into vars, or -1 */
	char account[64], amount[48], balance[48], time[32];
};

static void add_var(struct line *l, const char *name, const char *value)
{
	if (l->nvars < MAX_VARS) {
		l->vars[l->nvars].name = name;
		l->vars[l->nvars].value = value;
		l->nvars++;
	}
}

static void add_free_var(struct line *l, const char *name, const char *value)
{
	l->free_var = (int)l->nvars;
	add_var(l, name, value);
}

static bool balance_line(const struct alertfmt_event *ev, enum alert_lang lang, struct line *l)
{
	bool has_desc = ev->description && ev->description[0];
	size_t sign = ev->amount > 0;

	l->tmpl = alertfmt_message(has_desc ? "balance.changed.body_desc" : "balance.changed.body", lang);
	alertfmt_account(ev->account, l->account, sizeof(l->account));
	/* an inflow is shown "+1.500.000 VND", as banks do */
	l->amount[0] = '+';
	if (!alertfmt_amount(ev->amount, ev->currency, lang, l->amount + sign, sizeof(l->amount) - sign) ||
	    !alertfmt_amount(ev->balance_after, ev->currency, lang, l->balance, sizeof(l->balance)))
		return false;
	alertfmt_time(ev->occurred_at_us, l->time, sizeof(l->time));
	add_var(l, "account", l->account);
	add_var(l, "amount", l->amount);
	add_var(l, "time", l->time);
	add_var(l, "balance", l->balance);
	if (has_desc)
		add_free_var(l, "desc", ev->description);
	return true;
}

static bool voucher_line(const struct alertfmt_event *ev, enum alert_lang lang, struct line *l)
{
	const char *status = message2("voucher.status.", ev->status, "", lang);
	const char *kind = message2("voucher.kind.", ev->voucher_kind ? ev->voucher_kind : "other", "", lang);
	bool has_reason = ev->status && strcmp(ev->status, "rejected") == 0 && ev->reason && ev->reason[0];

	if (!status || !kind)
		return false;
	l->tmpl = alertfmt_message(has_reason ? "voucher.status_changed.body_reason" : "voucher.status_changed.body", lang);
	if (!alertfmt_amount(ev->amount, ev->currency, lang, l->amount, sizeof(l->amount)))
		return false;
	add_var(l, "number", ev->voucher_number ? ev->voucher_number : "");
	add_var(l, "kind", kind);
	add_var(l, "amount", l->amount);
	add_var(l, "status", status);
	if (has_reason)
		add_free_var(l, "reason", ev->reason);
	return true;
}

/* Render l into out; with explanation, as template risk.body around it. */
static bool compose(const struct line *l, const char *explanation, enum alert_lang lang, char *out, size_t outlen)
{
	char event[ALERTFMT_BODY_MAX];
	struct alertfmt_var risk[2] = { { "rule", explanation }, { "event", event } };

	if (!explanation)
		return alertfmt_fill(l->tmpl, l->vars, l->nvars, out, outlen);
	return alertfmt_fill(l->tmpl, l->vars, l->nvars, event, sizeof(event)) &&
	       alertfmt_fill(alertfmt_message("risk.body", lang), risk, 2, out, outlen);
}

/*
 * compose, cutting the free-text value of l (if any) to the room that is left
 * when the whole does not fit. l is modified (the free value then points at a
 * local copy only for the duration of the call; it is restored).
 */
static bool compose_fitting(struct line *l, const char *explanation, enum alert_lang lang, char *out, size_t outlen)
{
	char cut[ALERTFMT_BODY_MAX + 2 * ELLIPSIS_LEN];
	const char *orig;
	size_t fixed, room, len;
	bool ok;

	if (compose(l, explanation, lang, out, outlen))
		return true;
	if (l->free_var < 0 || outlen == 0)
		return false;
	/* what the body takes without the free text */
	orig = l->vars[l->free_var].value;
	l->vars[l->free_var].value = "";
	ok = compose(l, explanation, lang, out, outlen);
	fixed = strlen(out);
	room = outlen - 1 - fixed;
	/* copy at most sizeof(cut) - 1 bytes: more than room, so alertfmt_truncate always cuts what was clipped here */
	len = strlen(orig);
	if (len > sizeof(cut) - 1)
		len = sizeof(cut) - 1;
	memcpy(cut, orig, len);
	cut[len] = '\0';
	alertfmt_truncate(cut, room);
	l->vars[l->free_var].value = cut;
	ok = ok && compose(l, explanation, lang, out, outlen);
	l->vars[l->free_var].value = orig;
	return ok;
}

static bool copy_message(const char *id, enum alert_lang lang, char *out, size_t outlen)
{
	return alertfmt_fill(alertfmt_message(id, lang), NULL, 0, out, outlen);
}

static bool privacy_text(bool risk, enum alert_lang lang, char title[ALERTFMT_TITLE_MAX], char body[ALERTFMT_BODY_MAX])
{
	return copy_message("privacy.title", lang, title, ALERTFMT_TITLE_MAX) &&
	       copy_message(risk ? "privacy.body_risk" : "privacy.body", lang, body, ALERTFMT_BODY_MAX);
}

static bool failed(char title[ALERTFMT_TITLE_MAX], char body[ALERTFMT_BODY_MAX])
{
	clear(title, ALERTFMT_TITLE_MAX);
	clear(body, ALERTFMT_BODY_MAX);
	return false;
}

bool alertfmt_render(const struct alertfmt_event *ev, const char *risk_rule, enum alert_lang lang, bool privacy,
		     char title[ALERTFMT_TITLE_MAX], char body[ALERTFMT_BODY_MAX])
{
	struct line l = { .free_var = -1 };
	const char *explanation = NULL, *title_id;
	bool ok;

	if (!ev || !ev->type)
		return failed(title, body);
	if (strcmp(ev->type, "balance.changed") == 0) {
		ok = balance_line(ev, lang, &l);
		title_id = "balance.changed.title";
	} else if (strcmp(ev->type, "voucher.status_changed") == 0) {
		ok = voucher_line(ev, lang, &l);
		title_id = "voucher.status_changed.title";
	} else {
		return failed(title, body);
	}
	if (risk_rule) {
		explanation = message2("risk.", risk_rule, ".explanation", lang);
		ok = ok && explanation;
	}
	/* the event line is rendered even in privacy mode, so a broken event or template is caught the same way */
	ok = ok && compose_fitting(&l, explanation, lang, body, ALERTFMT_BODY_MAX);
	if (ok && privacy)
		ok = privacy_text(risk_rule != NULL, lang, title, body);
	else if (ok && risk_rule)
		ok = alertfmt_fill(message2("risk.", risk_rule, ".title", lang), NULL, 0, title, ALERTFMT_TITLE_MAX);
	else if (ok)
		ok = copy_message(title_id, lang, title, ALERTFMT_TITLE_MAX);
	return ok ? true : failed(title, body);
}

bool alertfmt_render_new_device(const char *device, int64_t at_us, enum alert_lang lang, bool privacy,
				char title[ALERTFMT_TITLE_MAX], char body[ALERTFMT_BODY_MAX])
{
	struct line l = { .free_var = -1 };
	bool ok;

	l.tmpl = alertfmt_message("security.new_device.body", lang);
	alertfmt_time(at_us, l.time, sizeof(l.time));
	add_var(&l, "time", l.time);
	add_free_var(&l, "device", device ? device : "");
	ok = compose_fitting(&l, NULL, lang, body, ALERTFMT_BODY_MAX);
	if (ok && privacy)
		ok = privacy_text(false, lang, title, body);
	else if (ok)
		ok = copy_message("security.new_device.title", lang, title, ALERTFMT_TITLE_MAX);
	return ok ? true : failed(title, body);
}
