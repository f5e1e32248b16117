INSERT INTO offices (code, name, level, parent_code) VALUES ('0001','Central',1,NULL),('0101','Region',2,'0001'),('0111','Office',3,'0101');
INSERT INTO budget_units (code, name, office_code) SELECT (1000000+g)::text, 'Unit '||g, '0111' FROM generate_series(1,1000) g;
INSERT INTO users (dvctt_login, unit_code, full_name) SELECT 'u'||g, (1000000+(g-1)/3+1)::text, 'Nguyễn Văn '||g FROM generate_series(1,3000) g;
INSERT INTO devices (user_id, platform, push_token) SELECT u.id, CASE WHEN g%2=0 THEN 'android' ELSE 'ios' END::device_platform, encode(gen_random_bytes(80),'hex')
  FROM users u CROSS JOIN generate_series(1,2) g WHERE g=1 OR u.id%3=0;
INSERT INTO ingest_sources (name) VALUES ('tabmis');
