// api.js - every call the dashboard makes goes to alertd's JSON API under
// /v1/staff/ on the same origin. The session is the HttpOnly cookie the
// browser sends by itself; the CSRF token from the sign-in answer lives in
// memory and sessionStorage only (this tab, gone with it) and is sent as
// X-CSRF-Token on every state-changing call. No password is ever stored.

const CSRF_KEY = 'alertd.csrf';
let csrf = null;
try {
  csrf = sessionStorage.getItem(CSRF_KEY);
} catch (_) { /* storage blocked: memory only */ }

export function hasSession() {
  return !!csrf;
}

export function setCsrf(token) {
  csrf = token || null;
  try {
    if (csrf) sessionStorage.setItem(CSRF_KEY, csrf);
    else sessionStorage.removeItem(CSRF_KEY);
  } catch (_) { /* memory only */ }
}

// An answer other than 2xx: status, the problem's code, detail and field errors.
export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.code = (problem && problem.code) || '';
    this.problem = problem || {};
    this.errors = (problem && problem.errors) || [];
    this.retryAfter = retryAfter;
    this.requestId = (problem && problem.request_id) || '';
  }
}

async function send(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
    redirect: 'error',
  });
  return res;
}

async function problemOf(res) {
  try {
    return await res.json();
  } catch (_) {
    return null;
  }
}

// A GET answered after the page moved on: the address (hash) changed while it was in flight.
// Pages render when their data arrives, so a slow answer for the page left behind would
// otherwise be drawn over the page now asked for: one unit's data under another's address.
export class StaleResponse extends Error {
  constructor() {
    super('the page changed while this answer was on its way');
    this.name = 'StaleResponse';
  }
}

// JSON of a call; throws ApiError on anything but 2xx (204 gives null), and StaleResponse for a
// GET whose page is no longer the one shown.
export async function call(method, path, body) {
  const hash = location.hash;
  const res = await send(method, path, body);
  const json = res.ok && res.status !== 204 ? await res.json() : null;
  if (method === 'GET' && location.hash !== hash) throw new StaleResponse();
  if (res.ok) return json;
  throw new ApiError(res.status, await problemOf(res), Number(res.headers.get('Retry-After')) || 0);
}

// A file download (exports): { blob, name }; throws ApiError like call().
export async function download(path, fallbackName) {
  const res = await send('GET', path);
  if (!res.ok) throw new ApiError(res.status, await problemOf(res), Number(res.headers.get('Retry-After')) || 0);
  const cd = res.headers.get('Content-Disposition') || '';
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
  const name = m ? decodeURIComponent(m[1]) : fallbackName;
  return { blob: await res.blob(), name };
}

// "?a=1&b=2" of the non-empty entries.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
