-- roster.sql - the demo data set's roster as a roster CSV (docs/roster.md), written to stdout by
-- `psql -f`, so that deploy/demo/load.sh loads it through the real path, `alertd roster import`.
-- Deterministic (no random()): run it twice, get the same file.
--
-- Every name is prefixed "[DEMO]"; codes are in ranges real data does not use: offices D000 (central),
-- D100 and D200 (two regional treasuries), D101-D105 and D201-D205 (ten transaction offices); units
-- 9900001-9900302; logins demo.<unit>.<n>; e-mail addresses at example.vn and phone numbers +8400...
-- (no Vietnamese number starts with 0 after +84).
-- Units: 2 served by the central office, 10 by each regional treasury, 28 by each transaction office.
-- Users per unit: 1 account holder, 1 chief accountant, 0-2 accountants (user n = 1 holder, 2 chief,
-- 3.. accountants).
COPY (
WITH office AS (
    SELECT * FROM (VALUES
        ('D000', '[DEMO] Kho bạc Nhà nước (dữ liệu mẫu)', NULL),
        ('D100', '[DEMO] KBNN khu vực I', 'D000'),
        ('D200', '[DEMO] KBNN khu vực II', 'D000'),
        ('D101', '[DEMO] Phòng giao dịch Ba Đình', 'D100'),
        ('D102', '[DEMO] Phòng giao dịch Hoàn Kiếm', 'D100'),
        ('D103', '[DEMO] Phòng giao dịch Cầu Giấy', 'D100'),
        ('D104', '[DEMO] Phòng giao dịch Hà Đông', 'D100'),
        ('D105', '[DEMO] Phòng giao dịch Gia Lâm', 'D100'),
        ('D201', '[DEMO] Phòng giao dịch Bắc Ninh', 'D200'),
        ('D202', '[DEMO] Phòng giao dịch Hưng Yên', 'D200'),
        ('D203', '[DEMO] Phòng giao dịch Hải Dương', 'D200'),
        ('D204', '[DEMO] Phòng giao dịch Thái Bình', 'D200'),
        ('D205', '[DEMO] Phòng giao dịch Nam Định', 'D200')) AS o(code, name, parent)
), unit AS (
    SELECT g, (9900000 + g)::text AS code,
           CASE WHEN g <= 2 THEN 'D000'
                WHEN g <= 12 THEN 'D100'
                WHEN g <= 22 THEN 'D200'
                ELSE (ARRAY['D101', 'D102', 'D103', 'D104', 'D105', 'D201', 'D202', 'D203', 'D204', 'D205'])[(g - 23) / 28 + 1]
           END AS office,
           '[DEMO] ' ||
           (ARRAY['Trường Tiểu học', 'Trường THCS', 'Trường THPT', 'Trường Mầm non', 'Trạm Y tế', 'UBND phường',
                  'UBND xã', 'Trung tâm Văn hóa', 'Ban Quản lý dự án', 'Bệnh viện Đa khoa', 'Chi cục Thuế',
                  'Phòng Tài chính - Kế hoạch', 'Thư viện', 'Trung tâm Y tế'])[g % 14 + 1] || ' ' ||
           (ARRAY['Nguyễn Du', 'Lê Lợi', 'Trần Hưng Đạo', 'Quang Trung', 'Hai Bà Trưng', 'Lý Thường Kiệt',
                  'Phúc Xá', 'Kim Mã', 'Ngọc Hà', 'Đống Đa', 'Yên Hòa', 'Dịch Vọng', 'Văn Quán', 'Phú Lãm',
                  'Trâu Quỳ', 'Đình Bảng', 'Tiên Lữ', 'Cẩm Giàng', 'Vũ Thư', 'Mỹ Lộc', 'Hồng Bàng',
                  'Chu Văn An', 'Tô Hiệu', 'Bạch Đằng', 'Hàng Bài'])[(g * 7) % 25 + 1]  AS name
      FROM generate_series(1, 302) g
), person AS (
    SELECT u.*, n,
           CASE n WHEN 1 THEN 'account_holder' WHEN 2 THEN 'chief_accountant' ELSE 'accountant' END AS roles,
           (ARRAY['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Vũ', 'Đặng', 'Bùi', 'Đỗ', 'Hồ', 'Ngô', 'Dương'])
               [(u.g * 5 + n * 3) % 12 + 1] || ' ' ||
           (ARRAY['Văn', 'Thị', 'Minh', 'Thu', 'Quốc', 'Thanh', 'Hồng', 'Đức', 'Ngọc', 'Hải'])[(u.g + n * 7) % 10 + 1] || ' ' ||
           (ARRAY['An', 'Bình', 'Cường', 'Dung', 'Giang', 'Hà', 'Hương', 'Khánh', 'Lan', 'Long', 'Mai', 'Nam',
                  'Oanh', 'Phúc', 'Quân', 'Sơn', 'Tâm', 'Thảo', 'Trung', 'Vân', 'Yến', 'Tuấn', 'Hạnh'])
               [(u.g * 11 + n * 13) % 23 + 1] AS full_name
      FROM unit u
     CROSS JOIN LATERAL generate_series(1, 2 + CASE WHEN u.g % 17 = 0 THEN 0 WHEN u.g % 3 = 0 THEN 2 ELSE 1 END) n
)
SELECT p.office AS office_code, o.name AS office_name, coalesce(o.parent, '') AS parent_office_code,
       p.code AS unit_code, p.name AS unit_name, 'donvi' || p.code || '@example.vn' AS unit_email,
       '+8400' || p.code AS unit_phone, '9523.1.' || p.code AS accounts,
       'demo.' || p.code || '.' || p.n AS user_login, '[DEMO] ' || p.full_name AS user_name,
       'demo' || p.code || '.' || p.n || '@example.vn' AS user_email,
       '+8400' || p.code || p.n AS user_phone, p.roles
  FROM person p JOIN office o ON o.code = p.office
 ORDER BY p.code, p.n
) TO STDOUT WITH (FORMAT csv, HEADER);
