'use strict';
// smtp.js - a real SMTP server for the mail tests: smtp-server (npm) on a
// free port with STARTTLS on the push mock's test CA (tests/mock), AUTH
// PLAIN/LOGIN only after TLS (smtp-server refuses AUTH in clear text), and
// mailparser to read what arrived. Each message keeps its envelope (MAIL
// FROM, RCPT TO), whether the session was TLS and who authenticated, the
// raw bytes and the parsed message. refuse(addr, code) makes RCPT TO of
// addr answer that reply code (550: permanent, 450: temporary); allow(addr)
// lifts it. hideSTARTTLS: a server that offers no STARTTLS (alertd must refuse it).

const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { SMTPServer } = require('smtp-server');
const { simpleParser } = require('mailparser');
const h = require('./harness');

// The push mock's PKI (ca.pem, server.pem for 127.0.0.1), created by its --pki mode.
function createPki() {
  const pki = fs.mkdtempSync(path.join(h.TMP, 'smtp-pki-'));
  execFileSync(process.execPath, [path.join(h.ROOT, 'tests', 'mock', 'push-mock.js'), '--pki', pki], { stdio: 'ignore' });
  return pki;
}

async function startSmtp({ pki, user = 'alertd', pass, port = 0, hideSTARTTLS = false } = {}) {
  const messages = [];
  const refusals = new Map();
  const sessions = [];
  const server = new SMTPServer({
    secure: false,
    hideSTARTTLS,
    key: fs.readFileSync(path.join(pki, 'server.key')),
    cert: fs.readFileSync(path.join(pki, 'server.pem')),
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: false,
    size: 1024 * 1024,
    logger: false,
    onConnect(session, cb) { sessions.push(session); cb(); },
    onAuth(auth, session, cb) {
      if (!session.secure) return cb(new Error('TLS first'));
      if (auth.username === user && auth.password === pass) return cb(null, { user });
      const e = new Error('Authentication failed');
      e.responseCode = 535;
      return cb(e);
    },
    onMailFrom(address, session, cb) { cb(); },
    onRcptTo(address, session, cb) {
      const r = refusals.get(address.address);
      if (r) {
        const e = new Error(r.message);
        e.responseCode = r.code;
        return cb(e);
      }
      return cb();
    },
    onData(stream, session, cb) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', async () => {
        const raw = Buffer.concat(chunks);
        try {
          const parsed = await simpleParser(raw);
          messages.push({
            mailFrom: session.envelope.mailFrom.address,
            rcptTo: session.envelope.rcptTo.map((r) => r.address),
            secure: session.secure,
            user: session.user,
            raw: raw.toString('utf8'),
            parsed,
          });
          cb();
        } catch (e) {
          cb(e);
        }
      });
    },
  });
  server.on('error', () => { /* a client that drops the connection */ });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port: server.server.address().port,
    messages,
    sessions,
    refuse(addr, code, message = 'refused') { refusals.set(addr, { code, message }); },
    allow(addr) { refusals.delete(addr); },
    to(addr) { return messages.filter((m) => m.rcptTo.includes(addr)); },
    stop() { return new Promise((resolve) => server.close(resolve)); },
  };
}

// alertd's [smtp] and [mail] sections for server s (password in a 0600 file).
function smtpConfig(s, pki, pass, mail = {}) {
  const file = path.join(h.TMP, `smtp-pass-${process.pid}-${Math.random().toString(16).slice(2)}`);
  fs.writeFileSync(file, `${pass}\n`, { mode: 0o600 });
  return {
    smtp: { url: `smtp://127.0.0.1:${s.port}`, from: 'canhbao@kbnn.gov.vn', username: 'alertd', password_file: file,
      ca_file: path.join(pki, 'ca.pem'), timeout_seconds: 5 },
    mail: { poll_interval_ms: 200, retry_base_seconds: 1, retry_max_seconds: 2, lease_seconds: 30, ...mail },
  };
}

module.exports = { createPki, startSmtp, smtpConfig };
