// app.js - the treasury staff dashboard: a single page with hash routes
// (#/signin, #/password, #/totp, #/overview[/OFFICE], #/units[?filters],
// #/units/CODE, #/risk[?filters], #/account; #/worklist[/ID|/print], #/escalations
// in worklist.js). Every figure comes from the
// /v1/staff/ JSON API (api.js); what the server refuses decides the page:
// 401 goes to sign-in, 403 password_change_required and
// totp_enrolment_required to those steps, 403 reauth_required asks for the
// password and a code again, 404 says "not found or not in your offices".
import { call, download, query, setCsrf, hasSession, ApiError, StaleResponse } from './api.js';
import { h, clear, table } from './dom.js';
import { trendChart, statusBar } from './chart.js';
import { pageWorklist, pageWorklistItem, pageWorklistPrint, pageEscalations, escalationBadge } from './worklist.js';
import { pageNotices } from './notices.js';
import { t, getLang, setLang, fmtInt, fmtVnd, fmtPct, fmtTime, fmtDay, ruleName, RULE_IDS, serverMessage } from './i18n.js';
import { unitMailSection, bulkInstructions } from './mail.js';

const main = document.getElementById('main');
const state = { me: null, flash: null, activeDays: 30, childSort: { key: 'protected_pct', dir: 1 } };

// ---------------------------------------------------------------- routing

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/overview';
  const [path, qs] = raw.split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(qs || '') };
}

function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

function setTitle(text) {
  document.title = `${text} · ${t('app_name')}`;
}

// The page's h1, focused after navigation so keyboard and screen-reader users start there.
function heading(text) {
  setTitle(text);
  return h('h1', { tabindex: '-1', id: 'page-title' }, text);
}

function show(...nodes) {
  clear(main).append(...nodes.flat().filter(Boolean));
  const h1 = main.querySelector('h1');
  if (h1 && document.activeElement && document.activeElement !== document.body && !main.contains(document.activeElement)) h1.focus();
  else if (h1 && state.focusHeading) h1.focus();
  state.focusHeading = false;
}

function message(kind, text) {
  return h('p', { class: ['msg', `msg-${kind}`], role: kind === 'error' ? 'alert' : 'status' }, text);
}

function fieldErrors(e) {
  return (e.errors || []).map((x) => `${x.field}: ${serverMessage(x.message)}`).join('; ');
}

// What an API error means to the person: navigates for 401 and the required steps, else a message node.
function explain(e) {
  if (e instanceof StaleResponse) return null; // the page it was for is gone: nothing to say
  if (!(e instanceof ApiError)) return message('error', t('error', { s: e.message, id: '-' }));
  if (e.status === 401 || e.code === 'csrf_failed') {
    setCsrf(null);
    state.me = null;
    state.flash = ['info', t('session_ended')];
    go('#/signin');
    return null;
  }
  if (e.code === 'password_change_required') {
    go('#/password');
    return null;
  }
  if (e.code === 'totp_enrolment_required') {
    go('#/totp');
    return null;
  }
  if (e.status === 404) return message('warn', t('not_found'));
  if (e.status === 403) return message('warn', t('forbidden'));
  if (e.status === 429) return message('warn', t('quota', { s: e.retryAfter || 60 }));
  if (e.status === 503) return message('error', t('unavailable'));
  return message('error', t('error', { s: `${e.status} ${e.code}`, id: e.requestId || '-' }));
}

async function loadMe() {
  state.me = await call('GET', '/v1/staff/me');
  return state.me;
}

function renderChrome() {
  const signedIn = !!state.me && !state.me.next;
  document.getElementById('skip').textContent = t('skip');
  document.getElementById('brand-name').textContent = t('app_name');
  document.getElementById('brand-org').textContent = t('org');
  const nav = document.getElementById('nav');
  nav.setAttribute('aria-label', t('nav_label'));
  nav.hidden = !signedIn;
  const current = parseHash().parts[0] || 'overview';
  for (const a of nav.querySelectorAll('a[data-page]')) {
    a.textContent = t(`nav_${a.dataset.page}`);
    if (a.dataset.page === current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const lang = document.getElementById('lang');
  lang.textContent = t('lang_switch');
  lang.setAttribute('aria-label', t('lang_switch_label'));
  lang.setAttribute('lang', getLang() === 'vi' ? 'en' : 'vi');
  const who = document.getElementById('who');
  who.textContent = state.me ? `${state.me.login} · ${state.me.office}` : '';
  const out = document.getElementById('signout');
  out.textContent = t('sign_out');
  out.hidden = !state.me;
  escalationBadge(signedIn);
}

// main[data-ready] names the hash whose page is complete (figures in, or the reason why not); a test waits for it.
async function render() {
  const hash = location.hash;
  delete main.dataset.ready;
  await route();
  if (location.hash === hash) main.dataset.ready = hash || '#/overview';
}

async function route() {
  const { parts, params } = parseHash();
  const page = parts[0] || 'overview';
  document.documentElement.lang = getLang();
  state.focusHeading = true;
  if (page === 'signin') {
    renderChrome();
    return pageSignin();
  }
  if (!hasSession()) {
    // the page asked for (a shared link) opens after the sign-in
    if (page !== 'password' && page !== 'totp') state.after = location.hash;
    state.me = null;
    renderChrome();
    return pageSignin();
  }
  try {
    if (!state.me) await loadMe();
  } catch (e) {
    if (e instanceof ApiError && (e.code === 'password_change_required' || e.code === 'totp_enrolment_required')) {
      state.me = { login: '', office: '', next: e.code === 'password_change_required' ? 'change_password' : 'enrol_totp', password_temporary: /temporary/.test(e.problem.detail || '') };
    } else {
      renderChrome();
      const m = explain(e);
      if (m) show(m);
      return;
    }
  }
  if (state.me.next === 'change_password' && page !== 'password') return go('#/password');
  if (state.me.next === 'enrol_totp' && page !== 'totp') return go('#/totp');
  renderChrome();
  show(h('p', { class: 'loading', role: 'status' }, t('loading')));
  try {
    switch (page) {
      case 'password': return pagePassword(true);
      case 'totp': return await pageTotp();
      case 'overview': return await pageOverview(parts[1]);
      case 'units': return parts[1] ? await pageUnit(parts[1]) : await pageUnits(params);
      case 'risk': return await pageRisk(params);
      case 'worklist':
        if (parts[1] === 'print') return await pageWorklistPrint(worklistUi(), params);
        return parts[1] ? await pageWorklistItem(worklistUi(), parts[1]) : await pageWorklist(worklistUi(), params);
      case 'escalations': return await pageEscalations(worklistUi(), params);
      case 'account': return pageAccount();
      case 'notices': return await pageNotices({ state, show, heading, message, explain, withReauth, exportButton, go, field, formError, busy, fieldErrors }, parts);
      default: return show(heading(t('not_found')), message('warn', t('not_found')));
    }
  } catch (e) {
    const m = explain(e);
    if (m) show(m);
  }
}

// The page helpers web/worklist.js builds its pages with.
function worklistUi() {
  return { heading, show, message, explain, go, state };
}

// ---------------------------------------------------------------- forms

function field(id, label, attrs = {}, hint) {
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
    h('input', { id, name: id, 'aria-describedby': hint ? `${id}-hint` : null, ...attrs }));
}

function formError(form) {
  let out = form.querySelector('.form-error');
  if (!out) {
    out = h('div', { class: 'form-error', 'aria-live': 'assertive' });
    form.prepend(out);
  }
  return (node) => {
    clear(out);
    if (node) out.append(node);
  };
}

function busy(form, on) {
  for (const b of form.querySelectorAll('button')) b.disabled = on;
  form.setAttribute('aria-busy', on ? 'true' : 'false');
}

// A code the person typed: 6 digits are a TOTP code, anything else a recovery code.
function codeMember(value) {
  const v = value.trim();
  if (!v) return {};
  return /^\d{6}$/.test(v.replace(/\s/g, '')) ? { totp_code: v.replace(/\s/g, '') } : { recovery_code: v };
}

// ---------------------------------------------------------------- sign-in and the first steps

function pageSignin() {
  const flash = state.flash;
  state.flash = null;
  const form = h('form', { class: 'card narrow', id: 'signin-form', autocomplete: 'off', novalidate: true },
    field('login', t('login'), { type: 'text', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', required: true }),
    field('password', t('password'), { type: 'password', autocomplete: 'new-password', required: true }),
    field('code', t('code'), { type: 'text', autocomplete: 'one-time-code', inputmode: 'text', maxlength: '32', spellcheck: 'false' }, t('code_hint')),
    h('button', { type: 'submit', class: 'primary' }, t('signin_button')),
    h('p', { class: 'hint' }, t('signin_no_remember')));
  const err = formError(form);
  if (flash) err(message(flash[0], flash[1]));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err(null);
    const body = { login: form.login.value.trim(), password: form.password.value, ...codeMember(form.code.value) };
    busy(form, true);
    try {
      const r = await call('POST', '/v1/staff/session', body);
      form.password.value = '';
      setCsrf(r.csrf_token);
      state.me = r;
      const after = state.after || '#/overview';
      state.after = null;
      go(r.next === 'change_password' ? '#/password' : r.next === 'enrol_totp' ? '#/totp' : after);
    } catch (e) {
      form.password.value = '';
      if (e instanceof ApiError && e.status === 401) err(message('error', t('signin_denied')));
      else if (e instanceof ApiError && e.status === 429) err(message('error', t('signin_throttled', { s: e.retryAfter || 60 })));
      else if (e instanceof ApiError && e.status === 422) err(message('error', fieldErrors(e)));
      else err(explain(e));
      form.login.focus();
    } finally {
      busy(form, false);
    }
  });
  show(h('div', { class: 'signin' }, heading(t('signin_title')), h('p', { class: 'lead' }, t('signin_intro')), form));
  form.login.focus();
}

function rulesList() {
  return h('div', { class: 'rules', id: 'pw-rules' },
    h('p', {}, t('pw_rules_title')),
    h('ul', {}, ['pw_rule_len', 'pw_rule_classes', 'pw_rule_login', 'pw_rule_dict', 'pw_rule_history', 'pw_rule_expiry'].map((k) => h('li', {}, t(k)))));
}

function passwordForm(forced) {
  const form = h('form', { class: forced ? 'card narrow' : 'narrow', id: 'password-form', autocomplete: 'off', novalidate: true },
    field('current_password', t('pw_current'), { type: 'password', autocomplete: 'current-password', required: true }),
    rulesList(),
    field('new_password', t('pw_new'), { type: 'password', autocomplete: 'new-password', required: true, 'aria-describedby': 'pw-rules' }),
    field('confirm_password', t('pw_confirm'), { type: 'password', autocomplete: 'new-password', required: true }),
    h('button', { type: 'submit', class: 'primary' }, t('pw_button')));
  const err = formError(form);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err(null);
    if (form.new_password.value !== form.confirm_password.value) {
      err(message('error', t('pw_mismatch')));
      form.confirm_password.focus();
      return;
    }
    busy(form, true);
    try {
      const r = await call('POST', '/v1/staff/password', { current_password: form.current_password.value, new_password: form.new_password.value });
      form.reset();
      if (r && r.csrf_token) {
        setCsrf(r.csrf_token);
        state.me = r;
      }
      if (forced && state.me && state.me.next === 'enrol_totp') return go('#/totp');
      if (forced) {
        state.me = null;
        return go('#/overview');
      }
      err(message('ok', t('pw_done')));
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        const msgs = e.errors.map((x) => serverMessage(x.message)).join('; ');
        err(message('error', t('pw_refused', { m: msgs || e.message })));
        (e.errors.some((x) => x.field === 'current_password') ? form.current_password : form.new_password).focus();
      } else {
        const m = explain(e);
        if (m) err(m);
      }
    } finally {
      busy(form, false);
    }
  });
  return form;
}

function pagePassword() {
  const temp = state.me && state.me.password_temporary !== false;
  show(heading(t('pw_title')), message('info', temp ? t('pw_forced_temp') : t('pw_forced_expired')), passwordForm(true));
}

function svgDataUrl(svgText) {
  // the QR code as an <img>: a data: image cannot run script, and the CSP allows img-src data:
  return `data:image/svg+xml;base64,${btoa(unescape(encodeURIComponent(svgText)))}`;
}

async function pageTotp() {
  let e;
  try {
    e = await call('POST', '/v1/staff/totp/enrol');
  } catch (err) {
    if (err instanceof ApiError && err.code === 'totp_already_enrolled') {
      return show(heading(t('totp_title')), message('info', t('totp_already')), h('p', {}, h('a', { href: '#/overview' }, t('nav_overview'))));
    }
    throw err;
  }
  const secret = e.secret.replace(/(.{4})/g, '$1 ').trim();
  const form = h('form', { class: 'card narrow', id: 'totp-form', autocomplete: 'off', novalidate: true },
    field('totp_code', t('totp_code'), { type: 'text', inputmode: 'numeric', pattern: '[0-9]{6}', maxlength: '6', autocomplete: 'one-time-code', required: true }),
    h('button', { type: 'submit', class: 'primary' }, t('totp_confirm')));
  const err = formError(form);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err(null);
    busy(form, true);
    try {
      const r = await call('POST', '/v1/staff/totp/confirm', { code: form.totp_code.value.trim() });
      setCsrf(r.csrf_token);
      state.me = null;
      showRecovery(r.recovery_codes);
    } catch (x) {
      if (x instanceof ApiError && x.status === 422) {
        err(message('error', t('totp_bad_code')));
        form.totp_code.select();
      } else {
        const m = explain(x);
        if (m) err(m);
      }
    } finally {
      busy(form, false);
    }
  });
  show(heading(t('totp_title')), h('p', { class: 'lead' }, t('totp_intro')),
    h('div', { class: 'enrol' },
      h('img', { class: 'qr', src: svgDataUrl(e.qr_svg), alt: t('totp_qr_alt'), width: '220', height: '220' }),
      h('div', {},
        h('p', { class: 'label' }, t('totp_secret')),
        h('p', { class: 'secret', id: 'totp-secret', 'data-secret': e.secret }, secret),
        form)));
  form.totp_code.focus();
}

function showRecovery(codes) {
  const done = h('button', { type: 'button', class: 'primary', id: 'recovery-done' }, t('recovery_done'));
  done.addEventListener('click', () => go('#/overview'));
  show(heading(t('recovery_title')), message('warn', t('recovery_intro')),
    h('ol', { class: 'recovery', id: 'recovery-codes' }, codes.map((c) => h('li', {}, h('code', {}, c)))),
    h('p', { class: 'actions' }, done));
}

// ---------------------------------------------------------------- re-authentication

// Runs fn; when the server answers 403 reauth_required, asks for the password and a code, then runs fn once more.
async function withReauth(fn) {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof ApiError) || e.code !== 'reauth_required') throw e;
    if (!(await reauthDialog())) return undefined;
    return fn();
  }
}

function reauthDialog() {
  return new Promise((resolve) => {
    const form = h('form', { method: 'dialog', id: 'reauth-form', autocomplete: 'off', novalidate: true },
      h('h2', {}, t('reauth_title')),
      h('p', {}, t('reauth_intro')),
      field('reauth_password', t('password'), { type: 'password', autocomplete: 'new-password', required: true }),
      field('reauth_code', t('code'), { type: 'text', autocomplete: 'one-time-code', maxlength: '32', required: true }),
      h('p', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, t('reauth_button')),
        h('button', { type: 'button', class: 'secondary', value: 'cancel', id: 'reauth-cancel' }, t('cancel'))));
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': 'reauth-title' }, form);
    form.querySelector('h2').id = 'reauth-title';
    const err = formError(form);
    let settled = false;
    const finish = (ok) => {
      if (settled) return;
      settled = true;
      dlg.close();
      dlg.remove();
      resolve(ok);
    };
    form.querySelector('#reauth-cancel').addEventListener('click', () => finish(false));
    dlg.addEventListener('cancel', () => finish(false));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      err(null);
      busy(form, true);
      try {
        await call('POST', '/v1/staff/reauth', { password: form.reauth_password.value, ...codeMember(form.reauth_code.value) });
        finish(true);
      } catch (e) {
        form.reauth_password.value = '';
        // a wrong password or code is 403 forbidden (422 for a malformed one); a 401 means the session ended
        if (e instanceof ApiError && (e.status === 403 || e.status === 422)) err(message('error', t('reauth_denied')));
        else {
          const m = explain(e);
          if (m) err(m);
          else finish(false);
        }
      } finally {
        busy(form, false);
      }
    });
    document.body.append(dlg);
    dlg.showModal();
    form.reauth_password.focus();
  });
}

function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, class: 'visually-hidden' }, name);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// A download button for an export: asks for re-authentication when the server wants it, says why it failed in out.
function exportButton(id, label, url, fallbackName, out) {
  const b = h('button', { type: 'button', class: 'secondary', id }, label);
  b.addEventListener('click', async () => {
    clear(out).append(message('info', t('exporting')));
    b.disabled = true;
    try {
      const r = await withReauth(() => download(url, fallbackName));
      clear(out);
      if (r) saveBlob(r.blob, r.name);
    } catch (e) {
      const m = explain(e);
      clear(out);
      if (m) out.append(m);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

// "Show more" of a paged list: loadPage(cursor) appends the next page and returns the cursor after it (null: done).
function moreButton(id, firstCursor, loadPage) {
  let cursor = firstCursor;
  const more = h('button', { type: 'button', class: 'secondary', id, hidden: !cursor }, t('more'));
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      cursor = await loadPage(cursor);
      more.hidden = !cursor;
    } catch (e) {
      const m = explain(e);
      if (m) more.after(m);
    } finally {
      more.disabled = false;
    }
  });
  return more;
}

// ---------------------------------------------------------------- shared pieces

function statusBadge(status) {
  return h('span', { class: ['badge', `badge-${status}`], 'data-status': status }, t(status));
}

function roleNames(roles) {
  return (roles || []).map((r) => t(`role_${r}`)).join(', ');
}

function pctOf(n, total) {
  return total > 0 ? (Number(n) / Number(total)) * 100 : 0;
}

function officeLink(code, name) {
  return h('a', { href: `#/overview/${encodeURIComponent(code)}` }, name || code);
}

function unitLink(code, name) {
  return h('a', { href: `#/units/${encodeURIComponent(code)}` }, code, name ? h('span', { class: 'sub' }, name) : null);
}

function helpBlock() {
  return h('details', { class: 'help', id: 'definitions' },
    h('summary', {}, t('help_title')),
    h('dl', {},
      [['reachable_devices', t('help_reachable', { d: state.activeDays })], ['covered_users', t('help_covered')], ['protected', t('help_protected')],
        ['partial', t('help_partial')], ['unprotected', t('help_unprotected')], ['money_at_risk', t('help_money')], ['shared_phone_units', t('help_shared')]]
        .map(([k, v]) => [h('dt', {}, k === 'covered_users' ? (getLang() === 'en' ? 'Covered' : 'Được bảo vệ (người dùng)') : t(k)), h('dd', {}, v)])));
}

function stat(id, label, value, sub, kind) {
  return h('div', { class: ['stat', kind && `stat-${kind}`], id },
    h('p', { class: 'stat-label' }, label),
    h('p', { class: 'stat-value' }, value),
    sub ? h('p', { class: 'stat-sub' }, sub) : null);
}

function tryPart(promise) {
  return promise.then((v) => ({ ok: true, v }), (e) => ({ ok: false, e }));
}

// A section whose data could not be had: why, in words (a route not built yet answers 404 too).
function partError(e) {
  if (e instanceof ApiError && (e.status === 401 || e.code === 'password_change_required' || e.code === 'totp_enrolment_required')) {
    explain(e);
    return null;
  }
  return explain(e);
}

// ---------------------------------------------------------------- overview

async function pageOverview(office) {
  const q = query({ office });
  const [cov, trend, risk] = await Promise.all([
    tryPart(call('GET', `/v1/staff/coverage${q}`)),
    tryPart(call('GET', `/v1/staff/coverage/trend${query({ office, days: 90 })}`)),
    tryPart(call('GET', `/v1/staff/risk-alerts${query({ office, limit: 5 })}`)),
  ]);
  if (!cov.ok) throw cov.e;
  const c = cov.v;
  if (c.active_days) state.activeDays = c.active_days;
  const f = c.totals;
  const units = Number(f.units) || 0;
  const stats = h('section', { class: 'stats', 'aria-label': t('units_n', { n: fmtInt(units) }) },
    stat('stat-protected', t('protected'), fmtPct(f.protected_pct), [t('units_n', { n: fmtInt(f.protected) }), ' ', t('of_units', { n: fmtInt(units) })], 'protected'),
    stat('stat-partial', t('partial'), fmtPct(pctOf(f.partial, units)), t('units_n', { n: fmtInt(f.partial) }), 'partial'),
    stat('stat-unprotected', t('unprotected'), fmtPct(pctOf(f.unprotected, units)), [t('units_n', { n: fmtInt(f.unprotected) }),
      h('br'), `${t('never_installed')}: ${fmtInt(f.never_installed)}`, h('br'), `${t('installed_unreachable')}: ${fmtInt(f.installed_unreachable)}`], 'unprotected'),
    stat('stat-devices', t('reachable_devices'), fmtInt(f.reachable_devices), t('covered_users', { c: fmtInt(f.covered_users), n: fmtInt(f.users) })),
    stat('stat-money', t('money_at_risk'), fmtPct(f.money_at_risk_pct), t('money_at_risk_of', { p: fmtVnd(f.volume_at_risk), v: fmtVnd(f.volume_30d) }), 'money'));
  const target = c.target ? h('p', { class: 'target-line' }, t('target', { p: fmtPct(c.target.pct), d: fmtDay(c.target.date) })) : h('p', { class: 'target-line muted' }, t('no_target'));
  const shared = Number(f.shared_phone_units) > 0
    ? message('warn', [`${t('shared_phone_units')}: ${t('units_n', { n: fmtInt(f.shared_phone_units) })}. `, h('a', { href: `#/units${query({ office, status: 'not_protected' })}` }, t('nav_units'))])
    : null;

  let trendPart;
  if (trend.ok && trend.v.points && trend.v.points.length) trendPart = trendChart(trend.v.points, trend.v.target || c.target);
  else if (trend.ok) trendPart = message('info', t('trend_empty'));
  else trendPart = partError(trend.e);

  let riskPart;
  if (risk.ok) riskPart = risk.v.alerts.length ? riskTable(risk.v.alerts.slice(0, 5), t('risk_newest'), true) : h('p', { class: 'muted' }, t('risk_none'));
  else riskPart = partError(risk.e);

  show(
    h('div', { class: 'page-head' },
      heading(t('overview_title', { office: c.office.name })),
      h('p', { class: 'muted' }, `${c.office.code} · ${t('computed_at', { t: fmtTime(c.computed_at) })}`)),
    stats,
    target,
    shared,
    h('div', { class: 'grid-2' },
      h('section', { class: 'card', 'aria-labelledby': 'trend-h' }, h('h2', { id: 'trend-h' }, t('trend_title')), trendPart),
      h('section', { class: 'card', 'aria-labelledby': 'risk-h' }, h('h2', { id: 'risk-h' }, t('risk_newest')), riskPart,
        h('p', {}, h('a', { href: `#/risk${query({ office })}` }, t('risk_all'))))),
    h('section', { class: 'card', 'aria-labelledby': 'children-h' }, h('h2', { id: 'children-h' }, t('children_title')), childrenTable(c.children || [])),
    helpBlock());
}

function childrenTable(children) {
  if (!children.length) return h('p', { class: 'muted' }, t('children_none'));
  const cols = [
    { key: 'name', text: t('col_office') },
    { key: 'units', text: t('col_units'), num: true },
    { key: 'protected', text: t('col_protected'), num: true },
    { key: 'partial', text: t('col_partial'), num: true },
    { key: 'unprotected', text: t('col_unprotected'), num: true },
    { key: 'protected_pct', text: t('col_pct'), num: true },
    { key: 'money_at_risk_pct', text: t('col_money'), num: true },
  ];
  const wrap = h('div', { id: 'children' });
  const draw = () => {
    const { key, dir } = state.childSort;
    const rows = children.slice().sort((a, b) => {
      const x = a[key];
      const y = b[key];
      const cmp = key === 'name' ? String(x).localeCompare(String(y), getLang()) : Number(x) - Number(y);
      return cmp * dir || String(a.code).localeCompare(String(b.code));
    });
    const head = cols.map((col) => {
      const sorted = col.key === key;
      const btn = h('button', { type: 'button', class: 'sort', 'aria-label': t('sort_by', { c: col.text }) }, col.text, h('span', { class: 'arrow', 'aria-hidden': 'true' }, sorted ? (dir > 0 ? '▲' : '▼') : ''));
      btn.addEventListener('click', () => {
        state.childSort = { key: col.key, dir: sorted ? -dir : 1 };
        draw();
        wrap.querySelector(`th[data-key="${col.key}"] button`).focus();
      });
      return h('th', { scope: 'col', class: col.num ? 'num' : null, 'data-key': col.key, 'aria-sort': sorted ? (dir > 0 ? 'ascending' : 'descending') : 'none' }, btn);
    });
    const body = rows.map((r) => h('tr', { 'data-office': r.code },
      h('th', { scope: 'row' }, officeLink(r.code, r.name), h('span', { class: 'sub' }, r.code)),
      h('td', { class: 'num' }, fmtInt(r.units)),
      h('td', { class: 'num' }, fmtInt(r.protected)),
      h('td', { class: 'num' }, fmtInt(r.partial)),
      h('td', { class: 'num' }, fmtInt(r.unprotected)),
      h('td', { class: 'num pct-cell' }, h('span', { class: 'pct' }, fmtPct(r.protected_pct)),
        statusBar(r, `${t('protected')} ${fmtInt(r.protected)}, ${t('partial')} ${fmtInt(r.partial)}, ${t('unprotected')} ${fmtInt(r.unprotected)}`)),
      h('td', { class: 'num' }, fmtPct(r.money_at_risk_pct), h('span', { class: 'sub' }, fmtVnd(r.volume_at_risk)))));
    clear(wrap).append(table({ caption: t('children_title'), captionHidden: true, head, rows: body, className: 'children' }));
  };
  draw();
  return wrap;
}

function riskTable(alerts, caption, compact) {
  const head = compact ? [{ text: t('col_occurred') }, { text: `${t('col_rule')} · ${t('col_unit')}` }]
    : [{ text: t('col_occurred') }, { text: t('col_rule') }, { text: t('col_unit') }, { text: t('col_office') }];
  head.push({ text: t('col_alerted'), num: true });
  const alerted = (a) => (compact ? `${fmtInt(a.delivered_users)}/${fmtInt(a.users_alerted)}` : t('alerted_of', { d: fmtInt(a.delivered_users), n: fmtInt(a.users_alerted) }));
  const rows = alerts.map((a) => h('tr', { 'data-event': a.event_id, class: Number(a.delivered_users) < Number(a.users_alerted) ? 'short' : null },
    h('td', { class: 'nowrap' }, fmtTime(a.occurred_at).slice(0, 5), h('span', { class: 'sub' }, fmtTime(a.occurred_at).slice(6))),
    compact ? h('td', {}, h('span', { class: 'rule' }, ruleName(a.rule)), h('span', { class: 'sub' }, h('a', { href: `#/units/${encodeURIComponent(a.unit_code)}` }, a.unit_code), ` ${a.unit_name || ''}`))
      : [h('td', {}, h('span', { class: 'rule' }, ruleName(a.rule))), h('td', {}, unitLink(a.unit_code, a.unit_name)), h('td', {}, officeLink(a.office_code, a.office_code))],
    h('td', { class: 'num', title: t('alerted_of', { d: a.delivered_users, n: a.users_alerted }) }, alerted(a))));
  return table({ caption, captionHidden: true, head, rows, className: compact ? 'risk compact' : 'risk' });
}

// ---------------------------------------------------------------- units

const STATUSES = ['not_protected', 'unprotected', 'partial', 'protected'];

function contactsCell(u) {
  const people = (u.contacts || []).map((c) => h('li', {},
    h('span', { class: 'person' }, c.full_name || c.login), ' ',
    h('span', { class: 'sub inline' }, `(${roleNames(c.roles)})`),
    h('span', { class: 'reach' },
      c.phone ? h('a', { href: `tel:${c.phone.replace(/[^\d+]/g, '')}` }, c.phone) : null,
      c.phone && c.email ? ' · ' : null,
      c.email ? h('a', { href: `mailto:${c.email}` }, c.email) : null)));
  const unit = [];
  if (!people.length && (u.contact_phone || u.contact_email)) {
    if (u.contact_phone) unit.push(h('a', { href: `tel:${u.contact_phone.replace(/[^\d+]/g, '')}` }, u.contact_phone));
    if (u.contact_email) unit.push(' ', h('a', { href: `mailto:${u.contact_email}` }, u.contact_email));
  }
  return people.length ? h('ul', { class: 'contacts' }, people) : unit.length ? h('span', {}, unit) : h('span', { class: 'muted' }, '–');
}

function missingCell(u) {
  const roles = (u.missing_roles || []).map((r) => h('li', {}, t(`role_${r}`)));
  return h('div', {}, roles.length ? h('ul', { class: 'plain' }, roles) : '–',
    u.never_installed ? h('span', { class: 'note', 'data-flag': 'never_installed' }, t('never_installed')) : null,
    u.installed_unreachable ? h('span', { class: 'note', 'data-flag': 'installed_unreachable' }, t('installed_unreachable')) : null,
    u.shared_phone ? h('span', { class: 'flag' }, t('shared_phone_units')) : null);
}

// Each cell carries its column's name (data-label): on a tablet the rows become cards that show it.
function unitsRows(units) {
  return units.map((u) => h('tr', { 'data-unit': u.code, 'data-status': u.status },
    h('th', { scope: 'row' }, unitLink(u.code, u.name), h('span', { class: 'sub' }, u.office_name || u.office_code)),
    h('td', { 'data-label': t('col_status') }, statusBadge(u.status)),
    h('td', { 'data-label': t('col_missing') }, missingCell(u)),
    h('td', { class: 'num', 'data-label': t('col_users') }, `${fmtInt(u.covered_users)}/${fmtInt(u.users)}`),
    h('td', { class: 'num', 'data-label': t('col_devices') }, fmtInt(u.reachable_devices)),
    h('td', { class: 'num nowrap', 'data-label': t('col_volume') }, fmtVnd(u.volume_30d)),
    h('td', { 'data-label': t('col_contacts') }, contactsCell(u))));
}

async function pageUnits(params) {
  const filters = { office: params.get('office') || '', status: params.get('status') || '', q: params.get('q') || '', sort: params.get('sort') || 'worst' };
  const form = h('form', { class: 'filters', id: 'units-filter', role: 'search', autocomplete: 'off' },
    h('div', { class: 'field' }, h('label', { for: 'f-q' }, t('search')), h('input', { id: 'f-q', name: 'q', type: 'search', value: filters.q })),
    h('div', { class: 'field' }, h('label', { for: 'f-status' }, t('status')),
      h('select', { id: 'f-status', name: 'status' }, h('option', { value: '' }, t('all')), STATUSES.map((s) => h('option', { value: s, selected: s === filters.status }, t(s))))),
    h('div', { class: 'field' }, h('label', { for: 'f-sort' }, t('sort')),
      h('select', { id: 'f-sort', name: 'sort' }, ['worst', 'code', 'name'].map((s) => h('option', { value: s, selected: s === filters.sort }, t(`sort_${s}`))))),
    h('div', { class: 'field' }, h('label', { for: 'f-office' }, t('office')), h('input', { id: 'f-office', name: 'office', value: filters.office, size: '6', maxlength: '8' })),
    h('div', { class: 'field buttons' }, h('button', { type: 'submit', class: 'primary' }, t('apply'))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    state.focusHeading = false;
    go(`#/units${query({ q: form.q.value.trim(), status: form.status.value, sort: form.sort.value === 'worst' ? '' : form.sort.value, office: form.office.value.trim() })}`);
  });
  const apiQuery = { office: filters.office, status: filters.status, q: filters.q, sort: filters.sort };
  const first = await call('GET', `/v1/staff/coverage/units${query({ ...apiQuery, limit: 50 })}`);
  const exportMsg = h('div', { 'aria-live': 'polite', class: 'export-msg' });
  const exportBtn = (ext, label) => exportButton(`export-${ext}`, label, `/v1/staff/coverage/units.${ext}${query(apiQuery)}`, `units.${ext}`, exportMsg);
  const tbody = h('tbody', {}, unitsRows(first.units));
  const count = h('p', { class: 'muted', id: 'units-count', role: 'status' }, t('units_count', { n: fmtInt(first.units.length) }));
  let shown = first.units.length;
  const more = moreButton('units-more', first.next_cursor, async (cursor) => {
    const next = await call('GET', `/v1/staff/coverage/units${query({ ...apiQuery, limit: 50, cursor })}`);
    tbody.append(...unitsRows(next.units));
    shown += next.units.length;
    count.textContent = t('units_count', { n: fmtInt(shown) });
    return next.next_cursor;
  });
  const head = [t('col_unit'), t('col_status'), t('col_missing'), { text: t('col_users'), num: true }, { text: t('col_devices'), num: true },
    { text: t('col_volume'), num: true }, t('col_contacts')];
  show(heading(t('units_title')), form,
    h('div', { class: 'toolbar' }, count, h('div', { class: 'export' }, exportBtn('csv', t('export_csv')), exportBtn('xlsx', t('export_xlsx')), h('p', { class: 'hint' }, t('export_note')))),
    exportMsg,
    first.units.length
      ? h('div', { class: 'table-wrap' }, h('table', { class: 'units', id: 'units-table' },
        h('caption', { class: 'visually-hidden' }, t('units_title')),
        h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.text ?? c)))),
        tbody))
      : message('info', t('units_none')),
    h('p', {}, more),
    canIssueCodes() && first.units.length ? bulkInstructions(tbody, { withReauth, explain }) : null,
    helpBlock());
}

// ---------------------------------------------------------------- one unit

function deviceList(devices) {
  if (!devices || !devices.length) return h('span', { class: 'muted' }, t('devices_none'));
  return h('ul', { class: 'devices' }, devices.map((d) => h('li', { 'data-device': d.id },
    h('span', { class: ['dot', d.reachable ? 'dot-ok' : 'dot-bad'], 'aria-hidden': 'true' }),
    `${d.platform === 'ios' ? 'iOS' : d.platform === 'android' ? 'Android' : d.platform}${d.model ? ` ${d.model}` : ''}`,
    d.app_version ? h('span', { class: 'sub inline' }, ` v${d.app_version}`) : null, ': ',
    h('strong', {}, d.reachable ? t('reachable') : t('unreachable')),
    d.reachable ? null : h('span', { class: 'sub inline' }, ` (${d.state}${d.state_reason ? `, ${d.state_reason}` : ''})`),
    h('span', { class: 'sub' }, t('last_seen', { t: fmtTime(d.last_seen_at) })))));
}

function canIssueCodes() {
  return state.me && (state.me.role === 'operator' || state.me.role === 'admin');
}

function issueButton(user, out) {
  const b = h('button', { type: 'button', class: 'secondary small', 'data-login': user.login }, t('issue_code'));
  b.addEventListener('click', async () => {
    if (!window.confirm(t('issue_code_confirm', { name: user.full_name || user.login }))) return;
    b.disabled = true;
    try {
      // a code enrols a phone as this user: the server asks for the password and a code again first
      const r = await withReauth(() => call('POST', `/v1/staff/users/${encodeURIComponent(user.login)}/activation-code`));
      if (!r) return;
      clear(out).append(h('div', { class: 'msg msg-ok issued', role: 'status' },
        t('issued_lead', { login: r.login }), ' ', h('code', { class: 'code-big', 'data-code': r.code }, r.code), ' ',
        t('issued_note', { t: fmtTime(r.expires_at) })));
      out.focus();
    } catch (e) {
      const m = explain(e);
      if (m) clear(out).append(m);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

async function pageUnit(code) {
  const d = await call('GET', `/v1/staff/units/${encodeURIComponent(code)}`);
  const u = d.unit;
  const issued = h('div', { id: 'issued', 'aria-live': 'polite', tabindex: '-1' });
  const usersMsg = h('div', { 'aria-live': 'polite' });
  const users = (d.users || []).map((p) => h('tr', { 'data-login': p.login },
    h('th', { scope: 'row' }, p.full_name || p.login, h('span', { class: 'sub' }, p.login)),
    h('td', {}, roleNames(p.roles)),
    h('td', {}, h('span', { class: p.covered ? 'ok' : 'bad' }, p.covered ? t('covered_yes') : t('covered_no'))),
    h('td', {}, p.phone ? h('a', { href: `tel:${p.phone.replace(/[^\d+]/g, '')}` }, p.phone) : null, p.phone && p.email ? h('br') : null, p.email ? h('a', { href: `mailto:${p.email}` }, p.email) : null),
    h('td', {}, deviceList(p.devices)),
    h('td', {}, t(`activation_${p.activation || 'none'}`), canIssueCodes() && p.active !== false ? [h('br'), issueButton(p, issued)] : null)));
  const alerts = (d.recent_alerts || []).map((a) => h('tr', {},
    h('td', { class: 'nowrap' }, fmtTime(a.created_at)),
    h('td', {}, a.risk_rule ? h('span', { class: 'rule' }, ruleName(a.risk_rule)) : null, a.risk_rule ? ' ' : null, a.title),
    h('td', {}, a.user_login),
    h('td', {}, h('ul', { class: 'plain' }, (a.deliveries || []).map((x) => h('li', {}, `#${x.device_id}: ${x.state}${x.reason ? ` (${x.reason})` : ''}${x.sent_at ? `, ${fmtTime(x.sent_at)}` : ''}`))))));
  show(
    h('p', { class: 'crumbs' }, h('a', { href: `#/units${query({ office: u.office_code })}` }, t('nav_units')), ' › ', u.code),
    heading(`${u.name}`),
    h('p', { class: 'unit-meta' }, statusBadge(u.status), ' ', `${t('unit_title', { code: u.code })} · `, officeLink(u.office_code, u.office_name || u.office_code),
      u.shared_phone ? [' ', h('span', { class: 'flag' }, t('shared_phone_units'))] : null),
    (u.contact_phone || u.contact_email) ? h('p', {}, `${t('unit_contact')}: `, u.contact_phone ? h('a', { href: `tel:${u.contact_phone.replace(/[^\d+]/g, '')}` }, u.contact_phone) : null, ' ',
      u.contact_email ? h('a', { href: `mailto:${u.contact_email}` }, u.contact_email) : null) : null,
    h('section', { class: 'card', 'aria-labelledby': 'users-h' }, h('h2', { id: 'users-h' }, t('users_title')),
      h('div', { class: 'export' },
        exportButton('users-csv', t('export_csv'), `/v1/staff/units/${encodeURIComponent(u.code)}/users.csv`, `${u.code}-users.csv`, usersMsg),
        exportButton('users-xlsx', t('export_xlsx'), `/v1/staff/units/${encodeURIComponent(u.code)}/users.xlsx`, `${u.code}-users.xlsx`, usersMsg),
        h('p', { class: 'hint' }, t('export_note'))),
      usersMsg, issued,
      table({ caption: t('users_title'), captionHidden: true, head: [t('col_person'), t('col_roles'), t('status'), t('col_reach'), t('col_devices'), t('col_activation')], rows: users, className: 'people' })),
    h('section', { class: 'card', 'aria-labelledby': 'alerts-h' }, h('h2', { id: 'alerts-h' }, t('recent_alerts')),
      alerts.length ? table({ caption: t('recent_alerts'), captionHidden: true, head: [t('col_time'), t('col_alert'), t('col_person'), t('col_delivery')], rows: alerts }) : h('p', { class: 'muted' }, t('alerts_none'))),
    unitMailSection(u.code, { canSend: canIssueCodes(), withReauth, explain }),
    helpBlock());
}

// ---------------------------------------------------------------- risk alerts

async function pageRisk(params) {
  const filters = { rule: params.get('rule') || '', office: params.get('office') || '', from: params.get('from') || '', to: params.get('to') || '' };
  const form = h('form', { class: 'filters', id: 'risk-filter', autocomplete: 'off' },
    h('div', { class: 'field' }, h('label', { for: 'r-rule' }, t('rule')),
      h('select', { id: 'r-rule', name: 'rule' }, h('option', { value: '' }, t('all')), RULE_IDS.map((r) => h('option', { value: r, selected: r === filters.rule }, ruleName(r))))),
    h('div', { class: 'field' }, h('label', { for: 'r-office' }, t('office')), h('input', { id: 'r-office', name: 'office', value: filters.office, size: '6', maxlength: '8' })),
    h('div', { class: 'field' }, h('label', { for: 'r-from' }, t('from')), h('input', { id: 'r-from', name: 'from', type: 'date', value: filters.from })),
    h('div', { class: 'field' }, h('label', { for: 'r-to' }, t('to')), h('input', { id: 'r-to', name: 'to', type: 'date', value: filters.to })),
    h('div', { class: 'field buttons' }, h('button', { type: 'submit', class: 'primary' }, t('apply')), h('a', { href: '#/risk', class: 'button-link' }, t('reset'))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    state.focusHeading = false;
    go(`#/risk${query({ rule: form.rule.value, office: form.office.value.trim(), from: form.from.value, to: form.to.value })}`);
  });
  const r = await call('GET', `/v1/staff/risk-alerts${query({ ...filters, limit: 50 })}`);
  const wrap = h('section', { class: 'card', 'aria-label': t('risk_title') }, r.alerts.length ? riskTable(r.alerts, t('risk_title'), false) : message('info', t('risk_none')));
  const more = moreButton('risk-more', r.next_cursor, async (cursor) => {
    const next = await call('GET', `/v1/staff/risk-alerts${query({ ...filters, limit: 50, cursor })}`);
    wrap.querySelector('tbody').append(...riskTable(next.alerts, '', false).querySelectorAll('tbody tr'));
    return next.next_cursor;
  });
  show(heading(t('risk_title')), form, wrap, h('p', {}, more));
}

// ---------------------------------------------------------------- account

function pageAccount() {
  const me = state.me;
  show(heading(t('account_title')),
    h('p', { id: 'account-who' }, t('account_who', { login: me.login, office: me.office, role: t(`role_${me.role}`) })),
    h('section', { class: 'card', 'aria-labelledby': 'pw-h' }, h('h2', { id: 'pw-h' }, t('pw_title')), passwordForm(false)),
    h('section', { class: 'card', 'aria-labelledby': 'totp-h' }, h('h2', { id: 'totp-h' }, t('totp_heading')),
      h('p', {}, me.totp_enrolled ? t('totp_status_on') : [t('totp_status_off'), ' ', h('a', { href: '#/totp' }, t('totp_enrol_now'))]),
      h('h3', {}, t('recovery_title')), h('p', {}, t('recovery_note'))),
    h('p', {}, signOutButton('secondary')));
}

function signOutButton(cls) {
  const b = h('button', { type: 'button', class: cls }, t('sign_out'));
  b.addEventListener('click', signOut);
  return b;
}

async function signOut() {
  try {
    await call('DELETE', '/v1/staff/session');
  } catch (_) {
    /* ended or expired already: signed out all the same */
  }
  setCsrf(null);
  state.me = null;
  state.flash = ['ok', t('signed_out')];
  go('#/signin');
}

// ---------------------------------------------------------------- start

document.getElementById('signout').addEventListener('click', signOut);
document.getElementById('lang').addEventListener('click', () => {
  setLang(getLang() === 'vi' ? 'en' : 'vi');
  render();
});
document.getElementById('skip').addEventListener('click', (ev) => {
  ev.preventDefault();
  const h1 = main.querySelector('h1');
  (h1 || main).focus();
});
window.addEventListener('hashchange', render);
render();
