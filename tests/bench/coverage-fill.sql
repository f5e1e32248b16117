-- coverage-fill.sql - the national-scale roster and phones for `make bench-coverage`
-- (tests/bench/bench-coverage.sh), set-based (generate_series), deterministic (no random()).
-- Needs only migrations 0001-0013. psql variables (the script sets them):
--   units (95000), users (300000), devices (400000), regions (20), offices (350)
--
-- Offices: central N000, regional treasuries R001..R0nn, transaction offices T001..Tnnn spread
-- evenly over the regions. Units 5000001.. : one in twenty is served by its regional treasury
-- itself, the rest by a transaction office. Users: unit u's account holder is user u, its chief
-- accountant user units + u, and the remaining users are accountants spread over the units.
-- Devices: about 8 % of users never installed the app; the others have one device each, and
-- the rest of :devices are second phones. Device k's state, from (k * 31) mod 100: 0-81 reachable
-- (seen in the last 10 days), 82-89 stale (active, not seen for 40-90 days), 90-94 token_invalid,
-- 95-99 revoked (logout). One unit in 211 has a shared phone as activation leaves it: the holder's
-- device revoked for push_token_reused and the chief's device holding the same token.
\set ON_ERROR_STOP on
BEGIN;
INSERT INTO offices (code, name, level) VALUES ('N000', 'Kho bạc Nhà nước (bench)', 1);
INSERT INTO offices (code, name, level, parent_code)
SELECT 'R' || lpad(r::text, 3, '0'), 'KBNN khu vực ' || r || ' (bench)', 2, 'N000' FROM generate_series(1, :regions) r;
INSERT INTO offices (code, name, level, parent_code)
SELECT 'T' || lpad(t::text, 3, '0'), 'Phòng giao dịch số ' || t || ' (bench)', 3,
       'R' || lpad((1 + (t - 1) % :regions)::text, 3, '0')
  FROM generate_series(1, :offices) t;

INSERT INTO budget_units (code, name, office_code, contact_email, contact_phone)
SELECT (5000000 + g)::text,
       (ARRAY['Trường Tiểu học', 'Trường THCS', 'Trường THPT', 'Trường Mầm non', 'Trạm Y tế', 'UBND phường', 'UBND xã',
              'Trung tâm Văn hóa', 'Ban Quản lý dự án', 'Bệnh viện Đa khoa', 'Chi cục Thuế', 'Thư viện'])[g % 12 + 1] || ' ' ||
       (ARRAY['Nguyễn Du', 'Lê Lợi', 'Trần Hưng Đạo', 'Quang Trung', 'Hai Bà Trưng', 'Lý Thường Kiệt', 'Phúc Xá', 'Kim Mã',
              'Ngọc Hà', 'Đống Đa', 'Yên Hòa', 'Dịch Vọng', 'Văn Quán', 'Phú Lãm', 'Trâu Quỳ', 'Đình Bảng', 'Tiên Lữ'])[(g / 12) % 17 + 1]
       || ' ' || g,
       CASE WHEN g % 20 = 0 THEN 'R' || lpad((1 + (g / 20) % :regions)::text, 3, '0')
            ELSE 'T' || lpad((1 + g % :offices)::text, 3, '0') END,
       'unit' || g || '@example.vn', '+8400' || (5000000 + g)
  FROM generate_series(1, :units) g;

INSERT INTO users (dvctt_login, unit_code, full_name, email, phone)
SELECT 'nat.' || g, (5000000 + 1 + (g - 1) % :units)::text,
       (ARRAY['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Vũ', 'Đặng', 'Bùi'])[g % 8 + 1] || ' ' ||
       (ARRAY['Văn', 'Thị', 'Minh', 'Thu', 'Quốc', 'Thanh'])[(g / 8) % 6 + 1] || ' ' ||
       (ARRAY['An', 'Bình', 'Cường', 'Dung', 'Giang', 'Hà', 'Hương', 'Lan', 'Long', 'Mai', 'Nam'])[(g / 48) % 11 + 1],
       'nat' || g || '@example.vn', '+8400' || lpad(g::text, 9, '0')
  FROM generate_series(1, :users) g;
INSERT INTO user_roles (user_id, role)
SELECT u.id, CASE WHEN g <= :units THEN 'account_holder' WHEN g <= 2 * :units THEN 'chief_accountant' ELSE 'accountant' END::user_role
  FROM generate_series(1, :users) g JOIN users u ON u.dvctt_login = 'nat.' || g;

-- device k belongs to installer (k - 1) mod (number of installers) + 1, installers being the users
-- with (g * 7) mod 100 >= 8 in login order
CREATE TEMP TABLE bench_installer ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY g) AS i, u.id AS user_id, g
  FROM generate_series(1, :users) g JOIN users u ON u.dvctt_login = 'nat.' || g
 WHERE (g * 7) % 100 >= 8;
CREATE UNIQUE INDEX ON bench_installer (i);
INSERT INTO devices (user_id, platform, push_token, app_version, os_version, model, locale, state, state_reason,
                     state_changed_at, first_seen_at, last_seen_at)
SELECT b.user_id, CASE WHEN k % 10 < 7 THEN 'android' ELSE 'ios' END::device_platform,
       CASE WHEN k % 10 < 7 THEN 'nat' || k || ':APA91b' || md5('a' || k) || md5('b' || k) ELSE md5('i' || k) || md5('j' || k) END,
       '2.3.1', CASE WHEN k % 10 < 7 THEN 'Android 14' ELSE 'iOS 17.5' END,
       CASE WHEN k % 10 < 7 THEN 'Samsung Galaxy A54' ELSE 'iPhone 14' END, 'vi-VN',
       CASE WHEN (k * 31) % 100 < 90 THEN 'active' WHEN (k * 31) % 100 < 95 THEN 'token_invalid' ELSE 'revoked' END::device_state,
       CASE WHEN (k * 31) % 100 >= 95 THEN 'logout' WHEN (k * 31) % 100 >= 90 THEN 'unregistered' END,
       now() - make_interval(days => (k % 20)), now() - make_interval(days => 100 + k % 200),
       CASE WHEN (k * 31) % 100 < 82 THEN now() - make_interval(mins => k % (10 * 24 * 60))
            WHEN (k * 31) % 100 < 90 THEN now() - make_interval(days => 40 + k % 50)
            ELSE now() - make_interval(days => 20 + k % 10) END
  FROM generate_series(1, :devices) k
  JOIN bench_installer b ON b.i = 1 + (k - 1) % (SELECT count(*) FROM bench_installer);

-- shared phones: the holder's device of one unit in 211 is taken over by the unit's chief accountant
CREATE TEMP TABLE bench_shared ON COMMIT DROP AS
SELECT DISTINCT ON (h.unit_code) h.unit_code, d.id AS device_id, c.id AS chief_id, d.platform, d.push_token
  FROM users h
  JOIN devices d ON d.user_id = h.id AND d.state = 'active'
  JOIN users c ON c.unit_code = h.unit_code AND c.dvctt_login = 'nat.' || (split_part(h.dvctt_login, '.', 2)::int + :units)
 WHERE split_part(h.dvctt_login, '.', 2)::int <= :units AND split_part(h.dvctt_login, '.', 2)::int % 211 = 0
 ORDER BY h.unit_code, d.id;
UPDATE devices d SET state = 'revoked', state_reason = 'push_token_reused'
  FROM bench_shared s WHERE d.id = s.device_id;
INSERT INTO devices (user_id, platform, push_token, app_version, os_version, model, locale)
SELECT chief_id, platform, push_token, '2.3.1', 'Android 14', 'Samsung Galaxy A54', 'vi-VN' FROM bench_shared;
COMMIT;
ANALYZE;
