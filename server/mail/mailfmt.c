/*
 * mailfmt.c - the e-mail texts (see mailfmt.h), filled with alertfmt_fill
 * so that a value (a unit's name, a person's name) can never inject a
 * placeholder. Every mail says it is automatic and whom to call, since a
 * phishing mail would say neither the same way.
 */
#include "mail/mailfmt.h"
#include "ingest/event.h"

#include <stdio.h>
#include <string.h>

enum { T_FALLBACK_SUBJECT, T_FALLBACK_BODY, T_REMINDER_SUBJECT, T_REMINDER_BODY, T_CODE_SUBJECT, T_CODE_BODY, T__COUNT };

static const char *const texts[T__COUNT][2] = {
	[T_FALLBACK_SUBJECT] = { "Cảnh báo rủi ro - đơn vị {unit}: {rule}", "Risk alert - unit {unit}: {rule}" },
	[T_FALLBACK_BODY] = { "Hệ thống cảnh báo của Kho bạc Nhà nước phát hiện một giao dịch của đơn vị {unit} cần được kiểm tra"
			      " ({rule}, lúc {time}).\n\n"
			      "Thư này được gửi vì không điện thoại nào của anh/chị nhận được thông báo. Thư không ghi số tiền hay"
			      " người thụ hưởng: hãy đăng nhập ứng dụng cảnh báo KBNN hoặc Dịch vụ công trực tuyến (DVCTT) để xem chi"
			      " tiết.\n\n"
			      "Nếu giao dịch này không do đơn vị thực hiện, hãy gọi ngay cho {office}.\n\n"
			      "Đây là thư tự động, vui lòng không trả lời. Kho bạc không bao giờ hỏi mật khẩu hay mã OTP qua thư.\n",
			      "The State Treasury's alert service found a transaction of unit {unit} that should be checked"
			      " ({rule}, at {time}).\n\n"
			      "You receive this e-mail because none of your phones could be reached. It shows no amount and no"
			      " counterparty: log in to the KBNN alert app or to the online public services (DVCTT) to see the"
			      " details.\n\n"
			      "If your unit did not make this transaction, call {office} now.\n\n"
			      "This is an automatic message; please do not reply. The Treasury never asks for a password or an OTP"
			      " by e-mail.\n" },
	[T_REMINDER_SUBJECT] = { "Nhắc cài đặt ứng dụng cảnh báo KBNN - đơn vị {unit}",
				 "Reminder: install the KBNN alert app - unit {unit}" },
	[T_REMINDER_BODY] = { "Đơn vị {unit} ({name}) chưa được bảo vệ đầy đủ: cảnh báo rủi ro về tài khoản của đơn vị chưa đến được"
			      " điện thoại của anh/chị.\n\n"
			      "Để nhận cảnh báo:\n"
			      "1. Cài ứng dụng cảnh báo KBNN từ App Store hoặc Google Play.\n"
			      "2. Xin mã kích hoạt tại {office} (hoặc cán bộ Kho bạc gửi cho anh/chị).\n"
			      "3. Mở ứng dụng, nhập tên đăng nhập DVCTT và mã kích hoạt.\n\n"
			      "Cần hỗ trợ, hãy liên hệ {office}.\n\n"
			      "Đây là thư tự động, vui lòng không trả lời. Kho bạc không bao giờ hỏi mật khẩu hay mã OTP qua thư.\n",
			      "Unit {unit} ({name}) is not fully protected: risk alerts about the unit's accounts do not reach your"
			      " phone yet.\n\n"
			      "To receive them:\n"
			      "1. Install the KBNN alert app from the App Store or Google Play.\n"
			      "2. Ask {office} for an activation code (or a Treasury officer sends you one).\n"
			      "3. Open the app and enter your DVCTT login and the activation code.\n\n"
			      "For help, contact {office}.\n\n"
			      "This is an automatic message; please do not reply. The Treasury never asks for a password or an OTP"
			      " by e-mail.\n" },
	[T_CODE_SUBJECT] = { "Mã kích hoạt ứng dụng cảnh báo KBNN", "Your KBNN alert app activation code" },
	[T_CODE_BODY] = { "Kính gửi {person},\n\n"
			  "Để nhận cảnh báo rủi ro của Kho bạc Nhà nước trên điện thoại:\n"
			  "1. Cài ứng dụng cảnh báo KBNN từ App Store hoặc Google Play.\n"
			  "2. Mở ứng dụng, nhập tên đăng nhập DVCTT: {login}\n"
			  "3. Nhập mã kích hoạt: {code}\n\n"
			  "Mã chỉ dùng một lần, hết hạn lúc {expires}, và chỉ dành cho anh/chị: không chuyển mã cho người khác,"
			  " kể cả đồng nghiệp. Nếu anh/chị không yêu cầu mã này, hãy gọi cho {office}.\n\n"
			  "Đây là thư tự động, vui lòng không trả lời. Kho bạc không bao giờ hỏi mật khẩu hay mã OTP qua thư.\n",
			  "Dear {person},\n\n"
			  "To receive the State Treasury's risk alerts on your phone:\n"
			  "1. Install the KBNN alert app from the App Store or Google Play.\n"
			  "2. Open the app and enter your DVCTT login: {login}\n"
			  "3. Enter the activation code: {code}\n\n"
			  "The code works once, expires at {expires} and is for you alone: do not pass it on, not even to a"
			  " colleague. If you did not ask for it, call {office}.\n\n"
			  "This is an automatic message; please do not reply. The Treasury never asks for a password or an OTP"
			  " by e-mail.\n" },
};

/* The rule's title without its "Cảnh báo: " / "Warning: " lead (the subject says it already). */
static const char *rule_words(const char *rule, enum alert_lang lang, char *buf, size_t cap)
{
	char id[96];
	snprintf(id, sizeof(id), "risk.%s.title", rule ? rule : "");
	const char *t = alertfmt_message(id, lang);
	if (!t)
		return lang == ALERT_LANG_EN ? "risk" : "rủi ro";
	const char *colon = strstr(t, ": ");
	snprintf(buf, cap, "%s", colon ? colon + 2 : t);
	return buf;
}

static bool fill2(int s, int b, enum alert_lang lang, const struct alertfmt_var *vars, size_t n,
		  char subject[MAILFMT_SUBJECT_MAX], char body[MAILFMT_BODY_MAX])
{
	int l = lang == ALERT_LANG_EN ? 1 : 0;
	if (alertfmt_fill(texts[s][l], vars, n, subject, MAILFMT_SUBJECT_MAX) &&
	    alertfmt_fill(texts[b][l], vars, n, body, MAILFMT_BODY_MAX)) {
		alertfmt_truncate(subject, 200); /* bytes: well inside the row's 200 characters */
		return true;
	}
	subject[0] = body[0] = '\0';
	return false;
}

bool mailfmt_fallback(enum alert_lang lang, const char *rule, int64_t occurred_at_us, const char *unit_code,
		      const char *office, char subject[MAILFMT_SUBJECT_MAX], char body[MAILFMT_BODY_MAX])
{
	char words[200], when[32];

	alertfmt_time(occurred_at_us, when, sizeof(when));
	struct alertfmt_var vars[] = { { "unit", unit_code },
				       { "rule", rule_words(rule, lang, words, sizeof(words)) },
				       { "time", when },
				       { "office", office } };
	return fill2(T_FALLBACK_SUBJECT, T_FALLBACK_BODY, lang, vars, 4, subject, body);
}

bool mailfmt_reminder(enum alert_lang lang, const char *unit_code, const char *unit_name, const char *office,
		      char subject[MAILFMT_SUBJECT_MAX], char body[MAILFMT_BODY_MAX])
{
	struct alertfmt_var vars[] = { { "unit", unit_code }, { "name", unit_name }, { "office", office } };
	return fill2(T_REMINDER_SUBJECT, T_REMINDER_BODY, lang, vars, 3, subject, body);
}

bool mailfmt_instructions(enum alert_lang lang, const char *full_name, const char *login, const char *code,
			  const char *expires_at, const char *office, char subject[MAILFMT_SUBJECT_MAX],
			  char body[MAILFMT_BODY_MAX])
{
	char when[32] = "";
	int64_t us = 0;

	if (expires_at && event_parse_rfc3339(expires_at, &us))
		alertfmt_time(us, when, sizeof(when));
	struct alertfmt_var vars[] = {
		{ "person", full_name }, { "login", login }, { "code", code }, { "expires", when }, { "office", office }
	};
	return fill2(T_CODE_SUBJECT, T_CODE_BODY, lang, vars, 5, subject, body);
}
