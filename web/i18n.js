// i18n.js - the dashboard's words in Vietnamese (the default) and English,
// and numbers, money and dates written the way the phone app writes them
// (server/alerts/alertfmt.c): "1.234.567 VND" in Vietnamese, "1,234,567 VND"
// in English, times as "HH:MM DD/MM/YYYY" in Vietnam time (UTC+7, no DST).
// The chosen language is kept in localStorage (a preference, not a secret).

const STRINGS = {
  vi: {
    app_name: 'Theo dõi cài đặt ứng dụng cảnh báo',
    org: 'Kho bạc Nhà nước',
    skip: 'Bỏ qua, đến nội dung chính',
    nav_overview: 'Tổng quan',
    nav_units: 'Đơn vị',
    nav_risk: 'Cảnh báo rủi ro',
    nav_notices: 'Thông báo bảo mật',
    nav_account: 'Tài khoản',
    nav_label: 'Điều hướng chính',
    lang_switch: 'English',
    lang_switch_label: 'Switch to English',
    sign_out: 'Đăng xuất',
    loading: 'Đang tải…',
    retry: 'Thử lại',
    cancel: 'Hủy',
    close: 'Đóng',
    save: 'Lưu',
    more: 'Xem thêm',
    none: 'Không có',
    yes: 'Có',
    no: 'Không',
    all: 'Tất cả',
    apply: 'Lọc',
    reset: 'Xóa bộ lọc',

    signin_title: 'Đăng nhập',
    signin_intro: 'Dành cho cán bộ Kho bạc Nhà nước. Bạn chỉ xem được số liệu của đơn vị mình và các đơn vị cấp dưới.',
    login: 'Tên đăng nhập',
    password: 'Mật khẩu',
    code: 'Mã xác thực',
    code_hint: '6 chữ số trong ứng dụng xác thực, hoặc một mã khôi phục. Để trống ở lần đăng nhập đầu tiên.',
    signin_button: 'Đăng nhập',
    signin_denied: 'Tên đăng nhập, mật khẩu hoặc mã xác thực không đúng, hoặc tài khoản đang bị khóa.',
    signin_throttled: 'Quá nhiều lần thử. Vui lòng đợi {s} giây rồi thử lại.',
    signin_no_remember: 'Trình duyệt không lưu mật khẩu và không tự đăng nhập: đây là quy định của Kho bạc.',
    session_ended: 'Phiên làm việc đã kết thúc. Vui lòng đăng nhập lại.',
    signed_out: 'Bạn đã đăng xuất.',

    pw_title: 'Đổi mật khẩu',
    pw_forced_temp: 'Mật khẩu hiện tại là mật khẩu tạm thời. Hãy đặt mật khẩu mới trước khi tiếp tục.',
    pw_forced_expired: 'Mật khẩu đã hết hạn. Hãy đặt mật khẩu mới trước khi tiếp tục.',
    pw_current: 'Mật khẩu hiện tại',
    pw_new: 'Mật khẩu mới',
    pw_confirm: 'Nhập lại mật khẩu mới',
    pw_rules_title: 'Mật khẩu mới phải:',
    pw_rule_len: 'có ít nhất 8 ký tự (tối đa 128);',
    pw_rule_classes: 'có chữ hoa, chữ thường, chữ số và ký tự đặc biệt;',
    pw_rule_login: 'không chứa tên đăng nhập;',
    pw_rule_dict: 'không dựa trên từ trong từ điển hay quá dễ đoán;',
    pw_rule_history: 'khác 10 mật khẩu gần nhất;',
    pw_rule_expiry: 'được đổi ít nhất 42 ngày một lần.',
    pw_mismatch: 'Hai lần nhập mật khẩu mới không giống nhau.',
    pw_button: 'Đổi mật khẩu',
    pw_done: 'Đã đổi mật khẩu. Các phiên đăng nhập khác của bạn đã kết thúc.',
    pw_refused: 'Máy chủ từ chối mật khẩu mới: {m}',

    totp_title: 'Đăng ký xác thực hai lớp',
    totp_heading: 'Xác thực hai lớp',
    totp_intro: 'Quét mã QR bằng ứng dụng xác thực (ví dụ Google Authenticator, Microsoft Authenticator), hoặc nhập khóa bí mật bằng tay. Sau đó nhập mã 6 chữ số ứng dụng hiển thị.',
    totp_qr_alt: 'Mã QR để thêm tài khoản vào ứng dụng xác thực',
    totp_secret: 'Khóa bí mật (nhập tay)',
    totp_code: 'Mã 6 chữ số',
    totp_confirm: 'Xác nhận',
    totp_bad_code: 'Mã không đúng. Kiểm tra giờ trên điện thoại và nhập mã đang hiển thị.',
    totp_already: 'Tài khoản đã đăng ký xác thực hai lớp. Nếu mất điện thoại, hãy nhờ quản trị viên đặt lại.',
    recovery_title: 'Mã khôi phục',
    recovery_intro: 'Mỗi mã dùng được một lần thay cho mã xác thực, khi bạn không có điện thoại. Hãy in hoặc chép lại và cất giữ an toàn: các mã chỉ hiển thị một lần này.',
    recovery_done: 'Tôi đã lưu các mã, tiếp tục',

    reauth_title: 'Xác nhận lại danh tính',
    reauth_intro: 'Thao tác này cần nhập lại mật khẩu và mã xác thực.',
    reauth_button: 'Xác nhận',
    reauth_denied: 'Mật khẩu hoặc mã không đúng.',

    overview_title: 'Tổng quan: {office}',
    computed_at: 'Số liệu tính lúc {t}',
    protected: 'Được bảo vệ',
    partial: 'Bảo vệ một phần',
    unprotected: 'Chưa được bảo vệ',
    not_protected: 'Chưa bảo vệ đầy đủ',
    units_n: '{n} đơn vị',
    of_units: 'trên {n} đơn vị',
    reachable_devices: 'Thiết bị nhận được cảnh báo',
    covered_users: '{c}/{n} người dùng nhận được cảnh báo',
    money_at_risk: 'Tiền chưa được bảo vệ (30 ngày)',
    money_at_risk_of: '{p} của {v} giao dịch',
    never_installed: 'Chưa từng cài ứng dụng',
    installed_unreachable: 'Đã cài nhưng không nhận được',
    shared_phone_units: 'Dùng chung điện thoại',
    target: 'Mục tiêu: {p} trước {d}',
    no_target: 'Chưa đặt mục tiêu.',
    children_title: 'Các đơn vị trực thuộc',
    children_none: 'Không có đơn vị trực thuộc.',
    col_office: 'Đơn vị KBNN',
    col_units: 'Số ĐVSDNS',
    col_protected: 'Được bảo vệ',
    col_partial: 'Một phần',
    col_unprotected: 'Chưa bảo vệ',
    col_pct: 'Tỷ lệ bảo vệ',
    col_money: 'Tiền chưa bảo vệ',
    sort_by: 'Sắp xếp theo {c}',
    trend_title: 'Tỷ lệ đơn vị được bảo vệ theo ngày',
    trend_desc: 'Từ {a} ngày {d1} đến {b} ngày {d2}.',
    trend_target: 'Mục tiêu {p}',
    trend_empty: 'Chưa có số liệu lịch sử.',
    trend_data: 'Xem bảng số liệu',
    col_day: 'Ngày',
    risk_newest: 'Cảnh báo rủi ro mới nhất',
    risk_all: 'Xem tất cả cảnh báo rủi ro',
    risk_none: 'Không có cảnh báo rủi ro.',
    help_title: 'Các khái niệm trên trang này',
    help_reachable: 'Thiết bị nhận được cảnh báo: đang hoạt động, mã nhận thông báo chưa bị Google/Apple từ chối, và đã liên lạc với hệ thống trong {d} ngày qua (tín hiệu định kỳ, kích hoạt hoặc nhận thông báo thành công).',
    help_covered: 'Người dùng được bảo vệ: có ít nhất một thiết bị nhận được cảnh báo.',
    help_protected: 'Đơn vị được bảo vệ: mọi chủ tài khoản và mọi kế toán trưởng đều được bảo vệ.',
    help_partial: 'Bảo vệ một phần: có người dùng được bảo vệ, nhưng chưa đủ chủ tài khoản và kế toán trưởng.',
    help_unprotected: 'Chưa được bảo vệ: không người dùng nào nhận được cảnh báo.',
    help_money: 'Tiền chưa được bảo vệ: tỷ lệ giá trị giao dịch 30 ngày qua (biến động số dư và chứng từ) thuộc các đơn vị chưa được bảo vệ đầy đủ.',
    help_shared: 'Dùng chung điện thoại: chủ tài khoản và kế toán trưởng dùng cùng một điện thoại; đây là dấu hiệu rủi ro Kho bạc cảnh báo.',

    units_title: 'Đơn vị sử dụng ngân sách',
    search: 'Tìm theo mã hoặc tên',
    status: 'Tình trạng',
    sort: 'Thứ tự',
    sort_worst: 'Kém nhất trước',
    sort_code: 'Theo mã',
    sort_name: 'Theo tên',
    export_csv: 'Tải CSV',
    export_xlsx: 'Tải Excel (XLSX)',
    export_note: 'Tệp tải về có thông tin cá nhân; mỗi lần tải được ghi nhật ký.',
    exporting: 'Đang chuẩn bị tệp…',
    col_unit: 'Đơn vị',
    col_status: 'Tình trạng',
    col_missing: 'Còn thiếu',
    col_users: 'Người dùng',
    col_devices: 'Thiết bị',
    col_volume: 'Giao dịch 30 ngày',
    col_contacts: 'Cần liên hệ',
    units_none: 'Không có đơn vị nào khớp bộ lọc.',
    units_count: 'Đang hiển thị {n} đơn vị',
    role_account_holder: 'Chủ tài khoản',
    role_chief_accountant: 'Kế toán trưởng',
    role_accountant: 'Kế toán',
    role_viewer: 'Xem',
    role_operator: 'Cán bộ nghiệp vụ',
    role_admin: 'Quản trị',
    nobody_rostered: 'chưa có trong danh sách',

    unit_title: 'Đơn vị {code}',
    unit_contact: 'Liên hệ đơn vị',
    users_title: 'Người dùng và thiết bị',
    col_person: 'Người dùng',
    col_roles: 'Vai trò',
    col_reach: 'Liên hệ',
    col_activation: 'Mã kích hoạt',
    activation_none: 'chưa cấp',
    activation_pending: 'đã cấp, chưa dùng',
    activation_used: 'đã dùng',
    issue_code: 'Cấp mã kích hoạt',
    issue_code_confirm: 'Cấp mã kích hoạt mới cho {name}? Mã cũ (nếu có) sẽ hết hiệu lực.',
    issued_lead: 'Mã kích hoạt cho {login}:',
    issued_note: '(hết hạn {t}). Mã chỉ hiển thị một lần: hãy đọc cho người dùng qua điện thoại, không gửi qua thư điện tử.',
    device: 'Thiết bị',
    devices_none: 'Chưa có thiết bị',
    reachable: 'nhận được',
    unreachable: 'không nhận được',
    last_seen: 'liên lạc lần cuối {t}',
    recent_alerts: 'Cảnh báo gần đây và kết quả gửi',
    alerts_none: 'Chưa có cảnh báo.',
    col_time: 'Thời gian',
    col_alert: 'Cảnh báo',
    col_delivery: 'Kết quả gửi',
    covered_yes: 'nhận được cảnh báo',
    covered_no: 'không nhận được cảnh báo',

    risk_title: 'Cảnh báo rủi ro',
    rule: 'Quy tắc',
    office: 'Mã đơn vị KBNN',
    from: 'Từ ngày',
    to: 'Đến ngày',
    col_rule: 'Quy tắc',
    col_occurred: 'Xảy ra lúc',
    col_alerted: 'Đã báo',
    alerted_of: '{d}/{n} người nhận được',

    account_title: 'Tài khoản của bạn',
    account_who: 'Tài khoản {login}, đơn vị {office}, vai trò {role}.',
    totp_status_on: 'Xác thực hai lớp: đã bật.',
    totp_status_off: 'Xác thực hai lớp: chưa bật.',
    totp_enrol_now: 'Đăng ký ngay',
    recovery_note: 'Mã khôi phục chỉ hiển thị một lần khi đăng ký. Nếu đã dùng hết hoặc làm mất, hãy nhờ quản trị viên đặt lại xác thực hai lớp (alertd staff reset --totp) rồi đăng ký lại để có mã mới.',

    not_found: 'Không tìm thấy, hoặc không thuộc phạm vi đơn vị của bạn.',
    forbidden: 'Bạn không có quyền thực hiện thao tác này.',
    quota: 'Bạn đã xem quá nhiều thông tin cá nhân trong thời gian ngắn. Vui lòng thử lại sau {s} giây.',
    unavailable: 'Hệ thống tạm thời không phản hồi. Vui lòng thử lại sau ít phút.',
    error: 'Đã xảy ra lỗi ({s}). Mã yêu cầu: {id}.',
    not_built: 'Chức năng này chưa có trên máy chủ.',
  },
  en: {
    app_name: 'Alert app install coverage',
    org: 'State Treasury of Viet Nam',
    skip: 'Skip to main content',
    nav_overview: 'Overview',
    nav_units: 'Units',
    nav_risk: 'Risk alerts',
    nav_notices: 'Security notices',
    nav_account: 'Account',
    nav_label: 'Main navigation',
    lang_switch: 'Tiếng Việt',
    lang_switch_label: 'Chuyển sang tiếng Việt',
    sign_out: 'Sign out',
    loading: 'Loading…',
    retry: 'Retry',
    cancel: 'Cancel',
    close: 'Close',
    save: 'Save',
    more: 'Show more',
    none: 'None',
    yes: 'Yes',
    no: 'No',
    all: 'All',
    apply: 'Filter',
    reset: 'Clear filters',

    signin_title: 'Sign in',
    signin_intro: 'For State Treasury staff. You see only your own office and the offices under it.',
    login: 'Login',
    password: 'Password',
    code: 'Verification code',
    code_hint: 'The 6 digits your authenticator app shows, or a recovery code. Leave empty at your first sign-in.',
    signin_button: 'Sign in',
    signin_denied: 'The login, password or code is wrong, or the account is locked.',
    signin_throttled: 'Too many attempts. Wait {s} seconds and try again.',
    signin_no_remember: 'The browser does not save your password or sign you in automatically: treasury policy.',
    session_ended: 'Your session has ended. Please sign in again.',
    signed_out: 'You have signed out.',

    pw_title: 'Change password',
    pw_forced_temp: 'Your password is a temporary one. Set a new password to go on.',
    pw_forced_expired: 'Your password has expired. Set a new password to go on.',
    pw_current: 'Current password',
    pw_new: 'New password',
    pw_confirm: 'New password again',
    pw_rules_title: 'The new password must:',
    pw_rule_len: 'be at least 8 characters long (at most 128);',
    pw_rule_classes: 'contain an upper-case letter, a lower-case letter, a digit and a special character;',
    pw_rule_login: 'not contain your login;',
    pw_rule_dict: 'not be based on a dictionary word or be easy to guess;',
    pw_rule_history: 'differ from your last 10 passwords;',
    pw_rule_expiry: 'be changed at least every 42 days.',
    pw_mismatch: 'The two new passwords differ.',
    pw_button: 'Change password',
    pw_done: 'Password changed. Your other sessions have ended.',
    pw_refused: 'The server refused the new password: {m}',

    totp_title: 'Set up two-step verification',
    totp_heading: 'Two-step verification',
    totp_intro: 'Scan the QR code with an authenticator app (for example Google Authenticator or Microsoft Authenticator), or type the secret key in. Then enter the 6-digit code the app shows.',
    totp_qr_alt: 'QR code that adds this account to an authenticator app',
    totp_secret: 'Secret key (to type in)',
    totp_code: '6-digit code',
    totp_confirm: 'Confirm',
    totp_bad_code: 'That code is wrong. Check the phone’s clock and enter the code shown now.',
    totp_already: 'Two-step verification is already set up. If you lost your phone, ask an administrator to reset it.',
    recovery_title: 'Recovery codes',
    recovery_intro: 'Each code replaces a verification code once, when you do not have your phone. Print or copy them and keep them safe: they are shown only this once.',
    recovery_done: 'I have saved the codes, continue',

    reauth_title: 'Confirm it is you',
    reauth_intro: 'This action needs your password and a verification code again.',
    reauth_button: 'Confirm',
    reauth_denied: 'The password or code is wrong.',

    overview_title: 'Overview: {office}',
    computed_at: 'Figures as of {t}',
    protected: 'Protected',
    partial: 'Partial',
    unprotected: 'Unprotected',
    not_protected: 'Not fully protected',
    units_n: '{n} units',
    of_units: 'of {n} units',
    reachable_devices: 'Reachable devices',
    covered_users: '{c} of {n} users reachable',
    money_at_risk: 'Money at risk (30 days)',
    money_at_risk_of: '{p} of {v} moved',
    never_installed: 'Never installed the app',
    installed_unreachable: 'Installed, not reachable',
    shared_phone_units: 'Shared phone',
    target: 'Target: {p} by {d}',
    no_target: 'No target set.',
    children_title: 'Offices below',
    children_none: 'No offices below this one.',
    col_office: 'Treasury office',
    col_units: 'Units',
    col_protected: 'Protected',
    col_partial: 'Partial',
    col_unprotected: 'Unprotected',
    col_pct: 'Protected share',
    col_money: 'Money at risk',
    sort_by: 'Sort by {c}',
    trend_title: 'Share of units protected, by day',
    trend_desc: 'From {a} on {d1} to {b} on {d2}.',
    trend_target: 'Target {p}',
    trend_empty: 'No history yet.',
    trend_data: 'Show the figures as a table',
    col_day: 'Day',
    risk_newest: 'Newest risk alerts',
    risk_all: 'All risk alerts',
    risk_none: 'No risk alerts.',
    help_title: 'What the terms on this page mean',
    help_reachable: 'Reachable device: active, its push token not rejected by Google or Apple, and seen within the last {d} days (a heartbeat, an activation or a successful push).',
    help_covered: 'Covered user: has at least one reachable device.',
    help_protected: 'Protected unit: every account holder and every chief accountant is covered.',
    help_partial: 'Partial: some rostered users are covered, but not every account holder and chief accountant.',
    help_unprotected: 'Unprotected: no rostered user is covered.',
    help_money: 'Money at risk: the share of the last 30 days’ volume (balance changes and vouchers) that belongs to units not fully protected.',
    help_shared: 'Shared phone: the account holder and the chief accountant use one phone, the fraud pattern the treasury warns about.',

    units_title: 'Budget units',
    search: 'Search by code or name',
    status: 'Status',
    sort: 'Order',
    sort_worst: 'Worst first',
    sort_code: 'By code',
    sort_name: 'By name',
    export_csv: 'Download CSV',
    export_xlsx: 'Download Excel (XLSX)',
    export_note: 'Downloads hold personal data; every download is audited.',
    exporting: 'Preparing the file…',
    col_unit: 'Unit',
    col_status: 'Status',
    col_missing: 'Missing',
    col_users: 'Users',
    col_devices: 'Devices',
    col_volume: 'Volume, 30 days',
    col_contacts: 'Whom to call',
    units_none: 'No unit matches these filters.',
    units_count: 'Showing {n} units',
    role_account_holder: 'Account holder',
    role_chief_accountant: 'Chief accountant',
    role_accountant: 'Accountant',
    role_viewer: 'Viewer',
    role_operator: 'Operator',
    role_admin: 'Administrator',
    nobody_rostered: 'nobody rostered',

    unit_title: 'Unit {code}',
    unit_contact: 'Unit contact',
    users_title: 'Users and devices',
    col_person: 'User',
    col_roles: 'Roles',
    col_reach: 'Contact',
    col_activation: 'Activation code',
    activation_none: 'none issued',
    activation_pending: 'issued, unused',
    activation_used: 'used',
    issue_code: 'Issue activation code',
    issue_code_confirm: 'Issue a new activation code for {name}? An older code stops working.',
    issued_lead: 'Activation code for {login}:',
    issued_note: '(expires {t}). Shown only once: read it to the user over the phone, do not e-mail it.',
    device: 'Device',
    devices_none: 'No device',
    reachable: 'reachable',
    unreachable: 'not reachable',
    last_seen: 'last seen {t}',
    recent_alerts: 'Recent alerts and their delivery',
    alerts_none: 'No alerts yet.',
    col_time: 'Time',
    col_alert: 'Alert',
    col_delivery: 'Delivery',
    covered_yes: 'covered',
    covered_no: 'not covered',

    risk_title: 'Risk alerts',
    rule: 'Rule',
    office: 'Treasury office code',
    from: 'From',
    to: 'To',
    col_rule: 'Rule',
    col_occurred: 'Occurred',
    col_alerted: 'Alerted',
    alerted_of: '{d} of {n} reached',

    account_title: 'Your account',
    account_who: 'Account {login}, office {office}, role {role}.',
    totp_status_on: 'Two-step verification: on.',
    totp_status_off: 'Two-step verification: not set up.',
    totp_enrol_now: 'Set it up now',
    recovery_note: 'Recovery codes are shown once, at set-up. If you used them all or lost them, ask an administrator to reset two-step verification (alertd staff reset --totp) and set it up again for new codes.',

    not_found: 'Not found, or not in your offices.',
    forbidden: 'You are not allowed to do this.',
    quota: 'You have looked up too much personal data in a short time. Try again in {s} seconds.',
    unavailable: 'The service is not answering right now. Try again in a few minutes.',
    error: 'Something went wrong ({s}). Request id: {id}.',
    not_built: 'The server does not offer this yet.',
  },
};

// The security notices pages (web/notices.js).
Object.assign(STRINGS.vi, {
  notices_title: 'Thông báo bảo mật',
  notices_intro: 'Thông báo của Kho bạc Nhà nước gửi vào hộp thư ứng dụng của người dùng các đơn vị. Mỗi thông báo do một cán bộ soạn và một cán bộ khác có quyền phê duyệt duyệt trước khi gửi.',
  notices_none: 'Chưa có thông báo nào.',
  notice: 'Thông báo',
  notice_new: 'Soạn thông báo',
  notice_compose_intro: 'Soạn nội dung, chọn người nhận và thời điểm gửi, xem trước số người nhận rồi gửi để phê duyệt. Sau khi gửi phê duyệt, nội dung không sửa được nữa.',
  notice_text: 'Nội dung',
  notice_template: 'Mẫu',
  notice_no_template: '(không dùng mẫu)',
  notice_title_vi: 'Tiêu đề (tiếng Việt)',
  notice_body_vi: 'Nội dung (tiếng Việt)',
  notice_title_en: 'Tiêu đề (tiếng Anh, không bắt buộc)',
  notice_body_en: 'Nội dung (tiếng Anh, không bắt buộc)',
  notice_links_hint: 'Chỉ được dẫn link đến các tên miền của Kho bạc Nhà nước; link khác bị từ chối (chống giả mạo).',
  notice_target: 'Người nhận',
  notice_office: 'Đơn vị KBNN',
  notice_office_hint: 'Mã đơn vị KBNN: thông báo đến các đơn vị sử dụng ngân sách của đơn vị này và cấp dưới.',
  notice_units: 'Mã đơn vị sử dụng ngân sách',
  notice_units_hint: 'Để trống: tất cả đơn vị. Cách nhau bằng dấu cách hoặc dấu phẩy.',
  notice_roles: 'Vai trò',
  notice_roles_hint: 'Không chọn: mọi vai trò.',
  notice_only_unprotected: 'Chỉ các đơn vị chưa được bảo vệ',
  notice_send: 'Thời điểm gửi',
  notice_mode_office_hours: 'Trong giờ hành chính (07:30–17:00, thứ Hai–thứ Sáu)',
  notice_mode_immediate: 'Gửi ngay khi được duyệt',
  notice_mode_at: 'Hẹn giờ (vẫn trong giờ hành chính)',
  notice_send_at_field: 'Hẹn giờ',
  notice_send_hint: 'Giờ Việt Nam. Chỉ dùng khi chọn hẹn giờ.',
  notice_preview: 'Xem trước số người nhận',
  notice_submit: 'Gửi để phê duyệt',
  notice_submitted: 'Đã gửi thông báo để phê duyệt.',
  notice_reach: 'Số người nhận',
  notice_measure: 'Chỉ tiêu',
  notice_count: 'Số lượng',
  reach_units: 'Đơn vị sử dụng ngân sách',
  reach_users: 'Người dùng',
  reach_devices: 'Thiết bị sẽ nhận thông báo đẩy',
  reach_reachable_devices: 'Thiết bị đang hoạt động',
  reach_users_reachable: 'Người dùng có thiết bị đang hoạt động',
  reach_users_without: 'Người dùng không có thiết bị hoạt động (gửi e-mail thay thế)',
  reach_fallback_addresses: 'Địa chỉ e-mail thay thế',
  reach_users_without_address: 'Người dùng không có cả thiết bị lẫn e-mail',
  reach_note: 'Con số tại thời điểm xem; khi gửi, danh sách được tính lại.',
  notice_state: 'Trạng thái',
  notice_state_pending_approval: 'Chờ phê duyệt',
  notice_state_approved: 'Đã duyệt, chờ gửi',
  notice_state_sending: 'Đang gửi',
  notice_state_sent: 'Đã gửi',
  notice_state_withdrawn: 'Đã rút lại',
  notice_author: 'Người soạn',
  notice_created: 'Ngày soạn',
  notice_send_at: 'Gửi lúc',
  notice_approved_by: 'Người duyệt',
  notice_hash: 'Mã SHA-256 của nội dung',
  notice_approve: 'Phê duyệt và gửi',
  notice_approve_hint: 'Đọc kỹ nội dung: bạn phê duyệt đúng văn bản này. Bạn sẽ phải nhập lại mật khẩu và mã xác thực.',
  notice_withdraw: 'Rút lại',
  notice_approved: 'Đã phê duyệt thông báo.',
  notice_withdrawn: 'Đã rút lại thông báo.',
  report_title: 'Kết quả gửi',
  report_targeted: 'Người nhận',
  report_alerts: 'Đã vào hộp thư',
  report_read: 'Đã đọc',
  report_pushed: 'Thông báo đẩy',
  report_delivered: 'Đã chuyển đến thiết bị',
  report_pending: 'Đang chờ gửi',
  report_failed: 'Gửi lỗi',
  report_emailed: 'E-mail thay thế',
  mail_state_pending: 'chờ gửi',
  mail_state_sent: 'đã gửi',
  mail_state_failed: 'lỗi',
});
Object.assign(STRINGS.en, {
  notices_title: 'Security notices',
  notices_intro: 'Notices of the State Treasury, delivered to the app inbox of the budget units\u2019 users. Each notice is written by one staff member and approved by another who holds the approver permission before it is sent.',
  notices_none: 'No notices yet.',
  notice: 'Notice',
  notice_new: 'Write a notice',
  notice_compose_intro: 'Write the text, choose who receives it and when, preview its reach, then submit it for approval. Once submitted, the text cannot be changed.',
  notice_text: 'Text',
  notice_template: 'Template',
  notice_no_template: '(no template)',
  notice_title_vi: 'Title (Vietnamese)',
  notice_body_vi: 'Text (Vietnamese)',
  notice_title_en: 'Title (English, optional)',
  notice_body_en: 'Text (English, optional)',
  notice_links_hint: 'Links may only go to the State Treasury\u2019s domains; any other link is refused (anti-phishing).',
  notice_target: 'Recipients',
  notice_office: 'Treasury office',
  notice_office_hint: 'Office code: the notice reaches the budget units of this office and the offices below it.',
  notice_units: 'Budget unit codes',
  notice_units_hint: 'Empty: all units. Separate codes with spaces or commas.',
  notice_roles: 'Roles',
  notice_roles_hint: 'None ticked: every role.',
  notice_only_unprotected: 'Only units that are not protected',
  notice_send: 'When to send',
  notice_mode_office_hours: 'In office hours (07:30\u201317:00, Monday\u2013Friday)',
  notice_mode_immediate: 'At once when approved',
  notice_mode_at: 'At a time (still in office hours)',
  notice_send_at_field: 'Time',
  notice_send_hint: 'Vietnam time. Only for a chosen time.',
  notice_preview: 'Preview the reach',
  notice_submit: 'Submit for approval',
  notice_submitted: 'The notice was submitted for approval.',
  notice_reach: 'Reach',
  notice_measure: 'Measure',
  notice_count: 'Count',
  reach_units: 'Budget units',
  reach_users: 'Users',
  reach_devices: 'Devices a push goes to',
  reach_reachable_devices: 'Reachable devices',
  reach_users_reachable: 'Users with a reachable device',
  reach_users_without: 'Users with no reachable device (e-mail instead)',
  reach_fallback_addresses: 'Fallback e-mail addresses',
  reach_users_without_address: 'Users with neither a device nor an e-mail address',
  reach_note: 'As of now; the recipients are worked out again when it is sent.',
  notice_state: 'State',
  notice_state_pending_approval: 'Pending approval',
  notice_state_approved: 'Approved, waiting',
  notice_state_sending: 'Sending',
  notice_state_sent: 'Sent',
  notice_state_withdrawn: 'Withdrawn',
  notice_author: 'Author',
  notice_created: 'Written',
  notice_send_at: 'Sent at',
  notice_approved_by: 'Approved by',
  notice_hash: 'SHA-256 of the text',
  notice_approve: 'Approve and send',
  notice_approve_hint: 'Read the text carefully: you approve exactly this text. You will give your password and a code again.',
  notice_withdraw: 'Withdraw',
  notice_approved: 'The notice is approved.',
  notice_withdrawn: 'The notice was withdrawn.',
  report_title: 'Delivery report',
  report_targeted: 'Recipients',
  report_alerts: 'In the inbox',
  report_read: 'Read',
  report_pushed: 'Pushes',
  report_delivered: 'Delivered to the device',
  report_pending: 'Waiting to be sent',
  report_failed: 'Failed',
  report_emailed: 'Fallback e-mails',
  mail_state_pending: 'waiting',
  mail_state_sent: 'sent',
  mail_state_failed: 'failed',
});

// The eight risk rules (server/alerts/alertfmt.c titles, without "Warning:").
const RULES = {
  signature_gap: ['Hai chữ ký gần như cùng lúc', 'Both signatures seconds apart'],
  same_certificate: ['Trùng chữ ký số', 'Same signer or certificate'],
  cash_withdrawal: ['Rút tiền mặt', 'Cash withdrawal'],
  large_amount: ['Giao dịch giá trị lớn', 'Large amount'],
  off_hours: ['Ngoài giờ làm việc', 'Outside working hours'],
  rejected: ['Chứng từ bị từ chối', 'Voucher rejected'],
  new_beneficiary: ['Người thụ hưởng mới', 'New beneficiary'],
  rapid_repeat: ['Chi lặp lại', 'Repeated payment'],
};

// The server's password-rule messages (server/staff/password.c), in Vietnamese.
const SERVER_MESSAGES = [
  [/^must be at least (\d+) characters long$/, 'phải có ít nhất $1 ký tự'],
  [/^must be at most (\d+) characters long$/, 'chỉ được tối đa $1 ký tự'],
  [/^must contain an upper-case letter$/, 'phải có chữ hoa'],
  [/^must contain a lower-case letter$/, 'phải có chữ thường'],
  [/^must contain a digit$/, 'phải có chữ số'],
  [/^must contain a special character/, 'phải có ký tự đặc biệt (không phải chữ, không phải số)'],
  [/^must not contain your login$/, 'không được chứa tên đăng nhập'],
  [/^is too easy to guess: (.*)$/, 'quá dễ đoán (cracklib: $1)'],
  [/^must differ from your last (\d+) passwords$/, 'phải khác $1 mật khẩu gần nhất'],
  [/^is not your current password$/, 'không phải mật khẩu hiện tại của bạn'],
  [/^must not contain control characters$/, 'không được chứa ký tự điều khiển'],
  [/^must not contain invisible/, 'không được chứa ký tự ẩn hoặc ký tự không xác định'],
  [/^must be well-formed UTF-8 text$/, 'chứa ký tự không hợp lệ'],
];

export const LANGS = ['vi', 'en'];
let lang = 'vi';
try {
  const saved = localStorage.getItem('alertd.lang');
  if (LANGS.includes(saved)) lang = saved;
} catch (_) { /* storage blocked: Vietnamese */ }

export function getLang() {
  return lang;
}

export function setLang(l) {
  if (!LANGS.includes(l)) return;
  lang = l;
  try {
    localStorage.setItem('alertd.lang', l);
  } catch (_) { /* not kept */ }
  document.documentElement.lang = l;
}

// The text of key with {name} placeholders filled from vars.
export function t(key, vars = {}) {
  const s = STRINGS[lang][key] ?? STRINGS.vi[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

export function ruleName(rule) {
  const r = RULES[rule];
  return r ? r[lang === 'en' ? 1 : 0] : rule;
}

export const RULE_IDS = Object.keys(RULES);

// A server validation message in the current language (the English original when unknown).
export function serverMessage(m) {
  if (lang === 'en' || typeof m !== 'string') return m;
  for (const [re, vi] of SERVER_MESSAGES) if (re.test(m)) return m.replace(re, vi);
  return m;
}

function group(digits, sep) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, sep);
}

// An integer count: 12.345 (vi) or 12,345 (en).
export function fmtInt(n) {
  if (n === null || n === undefined || n === '') return '–';
  const s = String(Math.trunc(Number(n)));
  const neg = s.startsWith('-');
  return (neg ? '-' : '') + group(neg ? s.slice(1) : s, lang === 'en' ? ',' : '.');
}

// VND from the API's decimal string (exact, any size): "1.234.567 VND" as the app writes it.
export function fmtVnd(v) {
  if (v === null || v === undefined || v === '') return '–';
  let s = String(v).trim();
  const neg = s.startsWith('-');
  if (neg || s.startsWith('+')) s = s.slice(1);
  s = s.split('.')[0].replace(/^0+(?=\d)/, '');
  if (!/^\d+$/.test(s)) return String(v);
  return `${neg ? '-' : ''}${group(s, lang === 'en' ? ',' : '.')} VND`;
}

// A percentage with at most one decimal: "87,5 %" (vi) or "87.5%" (en).
export function fmtPct(p) {
  if (p === null || p === undefined || Number.isNaN(Number(p))) return '–';
  const x = Math.round(Number(p) * 10) / 10;
  const text = (Number.isInteger(x) ? String(x) : x.toFixed(1));
  return lang === 'en' ? `${text}%` : `${text.replace('.', ',')} %`;
}

const VN_OFFSET_MS = 7 * 3600 * 1000;
const pad = (n) => String(n).padStart(2, '0');

function vnParts(value) {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (Number.isNaN(ms)) return null;
  const d = new Date(ms + VN_OFFSET_MS);
  return { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes() };
}

// A timestamp as the app writes it: "14:05 21/11/2026", Vietnam time.
export function fmtTime(value) {
  const p = value ? vnParts(value) : null;
  return p ? `${pad(p.h)}:${pad(p.mi)} ${pad(p.d)}/${pad(p.mo)}/${p.y}` : '–';
}

// A calendar day "2026-11-21" (already a Vietnam day) as "21/11/2026".
export function fmtDay(day) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(day || ''));
  return m ? `${m[3]}/${m[2]}/${m[1]}` : day ? fmtTime(day).slice(6) : '–';
}

// Today in Vietnam as "YYYY-MM-DD".
export function vnToday() {
  const p = vnParts(Date.now());
  return `${p.y}-${pad(p.mo)}-${pad(p.d)}`;
}
