'use strict';
// pgnode.js - PostgreSQL servers of a drill's own, for the operational drills
// of tests/deploy/ (failover.test.js, restore.test.js): each one a data
// directory DIR/data with its socket in DIR/run (0700) and a loopback TCP
// port, started and stopped with pg_ctl. As root (CI) PostgreSQL runs as
// the `postgres` user, as deploy/pgcluster.sh does. Trust authentication is
// limited to loopback and the 0700 socket directory of a throwaway server.

const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const ROOT_USER = process.getuid() === 0;

// The directory of initdb and pg_ctl: pg_config's, else the newest
// /usr/lib/postgresql/N/bin (Debian installs no pg_config without -dev).
const BINDIR = (() => {
  try {
    const d = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (fs.existsSync(path.join(d, 'initdb'))) return d;
  } catch (_) { /* fall through */ }
  const base = '/usr/lib/postgresql';
  const v = fs.readdirSync(base).sort((a, b) => Number(b) - Number(a))[0];
  return path.join(base, v, 'bin');
})();

// Run a PostgreSQL program as the cluster's OS user; throws on a non-zero exit.
function pgAs(prog, args) {
  const bin = path.join(BINDIR, prog);
  const [cmd, argv] = ROOT_USER ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// A server's directory: DIR/run for the socket, owned by the cluster's user.
function prepareDir(dir) {
  fs.mkdirSync(path.join(dir, 'run'), { recursive: true });
  if (ROOT_USER) execFileSync('chown', ['-R', 'postgres:', dir]);
  fs.chmodSync(dir, 0o700);
}

// initdb DIR/data with superuser alertd and append `conf` (postgresql.conf lines)
// after the loopback port and the socket directory.
function initdb(dir, port, conf = '') {
  prepareDir(dir);
  pgAs('initdb', ['-D', `${dir}/data`, '-U', 'alertd', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
  fs.appendFileSync(`${dir}/data/postgresql.conf`, `
listen_addresses = '127.0.0.1'
port = ${port}
unix_socket_directories = '${dir}/run'
max_connections = 100
fsync = on
${conf}
`);
}

function pgStart(dir) {
  pgAs('pg_ctl', ['-D', `${dir}/data`, '-l', `${dir}/postgres.log`, '-w', '-t', '60', 'start']);
}

// Stop; mode is pg_ctl's (fast, immediate). Quiet when it is not running.
function pgStop(dir, mode = 'fast') {
  try { pgAs('pg_ctl', ['-D', `${dir}/data`, '-m', mode, '-w', 'stop']); } catch (_) { /* not running */ }
}

function postmasterPid(dir) {
  return Number(fs.readFileSync(`${dir}/data/postmaster.pid`, 'utf8').split('\n')[0]);
}

function childPids(pid) {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map(Number).filter(Boolean);
  } catch (_) {
    return [];
  }
}

// One statement through the server's socket; the trimmed unaligned result.
function psqlAt(dir, port, db, sql) {
  return execFileSync('psql', ['-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-h', `${dir}/run`, '-p', String(port), '-U', 'alertd', '-d', db, '-c', sql],
    { encoding: 'utf8' }).trim();
}

// Bytes under a directory (regular files), for the drills' figures.
function duBytes(dir) {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n += duBytes(p);
    else if (e.isFile()) n += fs.statSync(p).size;
  }
  return n;
}

module.exports = { ROOT_USER, BINDIR, pgAs, prepareDir, initdb, pgStart, pgStop, postmasterPid, childPids, psqlAt, duBytes };
