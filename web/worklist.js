// worklist.js - the follow-up worklist (#/worklist, #/worklist/ID,
// #/worklist/print?office=X) and the "call this unit now" list of risk
// alerts that reached nobody (#/escalations), with the navigation badge of
// unacknowledged escalations (docs/staff.md "Worklist", "Escalations").
// app.js hands in its page helpers (ui: heading, show, message, explain,
// go, statusBadge, unitLink); every figure comes from /v1/staff/.

import { call, query, ApiError } from './api.js';
import { h, clear, table } from './dom.js';
import { t, fmtInt, fmtTime, fmtDay, ruleName, vnToday } from './i18n.js';

const BADGE_EVERY_MS = 30000;
const badge = { count: null, timer: null };

// ---------------------------------------------------------------- pieces

function reasonText(r) {
  const key = `wl_reason_${r.code}`;
  return t(key, { n: fmtInt(r.users ?? 0), d: fmtInt(r.days ?? 0) });
}

function reasonsList(reasons) {
  return h('ul', { class: 'reasons' }, (reasons || []).map((r) => h('li', { 'data-reason': r.code }, reasonText(r))));
}

// The Vietnam day an item is due by, YYYY-MM-DD: due_at is the first instant after it (the end of that day).
function dueDay(item) {
  return new Date(Date.parse(item.due_at) + 7 * 3600e3 - 1000).toISOString().slice(0, 10);
}

function dueCell(item) {
  return h('span', { class: item.overdue ? 'overdue' : null },
    fmtDay(dueDay(item)), ' ',
    item.overdue ? h('span', { class: 'badge badge-unprotected' }, t('wl_overdue')) : null,
    item.overdue && item.escalated_to ? h('span', { class: 'sub' }, t('wl_escalated_to', { o: item.escalated_to })) : null);
}

function phoneLink(phone) {
  return phone ? h('a', { href: `tel:${phone.replace(/[^+0-9]/g, '')}`, class: 'tel' }, phone) : t('none');
}

function canAct(ui) {
  const role = ui.state.me && ui.state.me.role;
  return role === 'operator' || role === 'admin';
}

function roleNames(roles) {
  return (roles || []).map((r) => t(`role_${r}`)).join(', ');
}

// A form that sends body() to method path, then runs done(answer); says why in out when refused.
function actionForm(ui, id, children, submitLabel, method, path, body, done) {
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'action-form', id, novalidate: true }, children, h('button', { type: 'submit', class: 'primary' }, submitLabel), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(out);
    const b = form.querySelector('button[type=submit]');
    b.disabled = true;
    try {
      const r = await call(method, path, body(form));
      await done(r);
    } catch (e) {
      const m = e instanceof ApiError && e.status === 422
        ? ui.message('error', (e.errors || []).map((x) => `${t(`wl_field_${x.field}`)}: ${x.message}`).join('; ') || e.message)
        : ui.explain(e);
      if (m) out.append(m);
    } finally {
      b.disabled = false;
    }
  });
  return form;
}

function select(id, label, options, value) {
  return h('div', { class: 'field' }, h('label', { for: id }, label),
    h('select', { id, name: id }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text))));
}

function input(id, label, attrs = {}) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), h('input', { id, name: id, ...attrs }));
}

function textarea(id, label, attrs = {}) {
  return h('div', { class: 'field field-wide' }, h('label', { for: id }, label), h('textarea', { id, name: id, rows: 2, maxlength: 1000, ...attrs }));
}

// ---------------------------------------------------------------- the list

function itemRows(items) {
  return items.map((i) => h('tr', { 'data-item': i.id, class: i.overdue ? 'row-overdue' : null },
    h('th', { scope: 'row' }, h('a', { href: `#/units/${encodeURIComponent(i.unit_code)}` }, i.unit_code), h('span', { class: 'sub' }, i.unit_name)),
    h('td', {}, i.office_code),
    h('td', {}, statusWord(i)),
    h('td', {}, reasonsList(i.reasons)),
    h('td', {}, i.assignee ? i.assignee.login : h('span', { class: 'muted' }, t('wl_unassigned'))),
    h('td', {}, i.state === 'open' ? dueCell(i) : t('wl_closed_at', { at: fmtTime(i.closed_at) })),
    h('td', { class: 'num' }, fmtInt(i.contacts)),
    h('td', {}, h('a', { href: `#/worklist/${i.id}`, class: 'button-link', id: `work-${i.id}` }, t('wl_work')))));
}

function statusWord(i) {
  return h('span', { class: ['badge', `badge-${i.status}`], 'data-status': i.status }, t(i.status));
}

export async function pageWorklist(ui, params) {
  const apiParams = { office: params.get('office'), state: params.get('state'), assignee: params.get('assignee'), overdue: params.get('overdue') };
  const form = h('form', { class: 'filters', id: 'worklist-filters' },
    input('office', t('wl_office'), { value: apiParams.office || '', inputmode: 'numeric', maxlength: 15 }),
    select('state', t('wl_state'), [['', t('wl_state_open')], ['closed', t('wl_state_closed')], ['all', t('all')]], apiParams.state || ''),
    select('assignee', t('wl_assignee'), [['', t('all')], ['me', t('wl_mine')], ['none', t('wl_unassigned')]], apiParams.assignee || ''),
    select('overdue', t('wl_overdue'), [['', t('all')], ['true', t('wl_overdue_only')]], apiParams.overdue || ''),
    h('div', { class: 'field buttons' }, h('button', { type: 'submit', class: 'primary' }, t('apply')), h('a', { href: '#/worklist', class: 'button-link' }, t('reset'))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    ui.go(`#/worklist${query({ office: form.office.value.trim(), state: form.state.value, assignee: form.assignee.value, overdue: form.overdue.value })}`);
  });
  const r = await call('GET', `/v1/staff/worklist${query({ ...apiParams, limit: 100 })}`);
  const tbody = itemRows(r.items);
  const head = [t('col_unit'), t('wl_office'), t('status'), t('wl_reasons'), t('wl_assignee'), t('wl_due'), { text: t('wl_contacts'), num: true }, ''];
  const tbl = table({ caption: t('wl_title'), captionHidden: true, className: 'worklist', head, rows: tbody });
  let cursor = r.next_cursor;
  const more = h('button', { type: 'button', class: 'secondary', id: 'worklist-more', hidden: !cursor }, t('more'));
  more.addEventListener('click', async () => {
    const n = await call('GET', `/v1/staff/worklist${query({ ...apiParams, limit: 100, cursor })}`);
    tbl.querySelector('tbody').append(...itemRows(n.items));
    cursor = n.next_cursor;
    more.hidden = !cursor;
  });
  const printOffice = apiParams.office || (ui.state.me && ui.state.me.office);
  ui.show(ui.heading(t('wl_title')),
    h('p', { class: 'lead' }, t('wl_intro')),
    form,
    h('p', {}, h('a', { href: `#/worklist/print${query({ office: printOffice })}`, id: 'worklist-print-link' }, t('wl_print_link'))),
    r.items.length ? tbl : ui.message('info', t('wl_empty')),
    more);
}

// ---------------------------------------------------------------- one item

export async function pageWorklistItem(ui, id) {
  const d = await call('GET', `/v1/staff/worklist/${encodeURIComponent(id)}`);
  const i = d.item;
  const reload = () => ui.go(`#/worklist/${i.id}`);
  const path = `/v1/staff/worklist/${i.id}`;
  const facts = h('dl', { class: 'facts' },
    h('dt', {}, t('status')), h('dd', {}, statusWord(i), ' ', t(i.state === 'open' ? 'wl_state_open' : 'wl_state_closed')),
    h('dt', {}, t('wl_reasons')), h('dd', {}, reasonsList(i.reasons)),
    h('dt', {}, t('wl_assignee')), h('dd', { id: 'item-assignee' }, i.assignee ? `${i.assignee.full_name} (${i.assignee.login})` : t('wl_unassigned')),
    h('dt', {}, t('wl_due')), h('dd', { id: 'item-due' }, dueCell(i)),
    h('dt', {}, t('wl_unit_phone')), h('dd', {}, phoneLink(i.unit_phone)),
    i.state === 'closed' ? [h('dt', {}, t('wl_closed')), h('dd', {}, t('wl_closed_detail', { at: fmtTime(i.closed_at), by: i.closed_by, why: t(`wl_close_${i.close_reason}`) }), i.close_note ? h('span', { class: 'sub' }, i.close_note) : null)] : null,
    i.reopen_count ? [h('dt', {}, t('wl_reopened')), h('dd', {}, t('wl_reopened_detail', { n: i.reopen_count, at: fmtTime(i.reopened_at) }))] : null);
  const people = table({
    caption: t('wl_people'),
    head: [t('wl_person'), t('wl_roles'), t('wl_phone'), t('wl_activation'), t('wl_covered')],
    rows: d.people.map((p) => h('tr', {}, h('th', { scope: 'row' }, p.full_name), h('td', {}, roleNames(p.roles)), h('td', {}, phoneLink(p.phone)),
      h('td', {}, t(`wl_activation_${p.activation}`)), h('td', {}, p.covered ? t('yes') : t('no')))),
  });
  const history = d.contact_attempts.length
    ? h('ol', { class: 'history', id: 'contact-history' }, d.contact_attempts.map((c) => h('li', {},
      h('strong', {}, `${t(`wl_channel_${c.channel}`)} · ${t(`wl_outcome_${c.outcome}`)}`), ' ', h('span', { class: 'sub' }, `${fmtTime(c.at)} · ${c.staff}`), c.note ? h('p', {}, c.note) : null)))
    : h('p', { id: 'contact-history', class: 'muted' }, t('wl_no_contacts'));
  const actions = [];
  if (canAct(ui) && i.current) {
    const me = ui.state.me.login;
    actions.push(h('section', { class: 'card' }, h('h2', {}, t('wl_assign')),
      actionForm(ui, 'assign-form', [input('assignee', t('wl_assignee_login'), { value: i.assignee ? i.assignee.login : me, maxlength: 64, autocomplete: 'off' })],
        t('wl_assign_button'), 'PUT', path, (f) => ({ assignee: f.assignee.value.trim() || null }), reload)));
    actions.push(h('section', { class: 'card' }, h('h2', {}, t('wl_contact')),
      actionForm(ui, 'contact-form', [
        select('channel', t('wl_channel'), ['phone', 'email', 'visit', 'counter'].map((c) => [c, t(`wl_channel_${c}`)]), 'phone'),
        select('outcome', t('wl_outcome'), ['reached', 'no_answer', 'wrong_number', 'promised', 'refused', 'other'].map((c) => [c, t(`wl_outcome_${c}`)]), 'reached'),
        textarea('note', t('wl_note'))],
      t('wl_contact_button'), 'POST', `${path}/contacts`, (f) => ({ channel: f.channel.value, outcome: f.outcome.value, ...(f.note.value.trim() ? { note: f.note.value.trim() } : {}) }), reload)));
    actions.push(h('section', { class: 'card' }, h('h2', {}, t('wl_due_title')),
      actionForm(ui, 'due-form', [input('due_date', t('wl_due'), { type: 'date', min: vnToday(), value: dueDay(i) })],
        t('save'), 'PUT', path, (f) => ({ due_date: f.due_date.value }), reload)));
    actions.push(h('section', { class: 'card' }, h('h2', {}, i.state === 'open' ? t('wl_close_title') : t('wl_reopen_title')),
      i.state === 'open'
        ? actionForm(ui, 'close-form', [h('p', { class: 'hint' }, t('wl_close_hint')), textarea('close_note', t('wl_note'), { required: true })], t('wl_close_button'), 'PUT', path,
          (f) => ({ state: 'closed', note: f.close_note.value.trim() }), reload)
        : actionForm(ui, 'reopen-form', [], t('wl_reopen_button'), 'PUT', path, () => ({ state: 'open' }), reload)));
  }
  ui.show(h('p', { class: 'crumbs' }, h('a', { href: `#/worklist${query({ office: i.office_code })}` }, t('wl_title')), ' › ', i.unit_code),
    ui.heading(`${i.unit_code} · ${i.unit_name}`),
    h('p', { class: 'sub' }, `${i.office_code} ${i.office_name}`),
    h('div', { class: 'grid-2' }, h('section', { class: 'card' }, facts), h('section', { class: 'card' }, h('h2', {}, t('wl_history')), history)),
    people,
    actions.length ? h('div', { class: 'grid-2 actions' }, actions) : (i.current ? ui.message('info', t('wl_viewer')) : ui.message('info', t('wl_history_only'))));
}

// ---------------------------------------------------------------- printable list

export async function pageWorklistPrint(ui, params) {
  const office = params.get('office');
  const form = h('form', { class: 'filters', id: 'print-form' }, input('office', t('wl_office'), { value: office || '', inputmode: 'numeric', maxlength: 15 }),
    h('div', { class: 'field buttons' }, h('button', { type: 'submit', class: 'primary' }, t('apply'))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    ui.go(`#/worklist/print${query({ office: form.office.value.trim() })}`);
  });
  if (!office) return ui.show(ui.heading(t('wl_print_title', { o: '' })), form);
  const r = await call('GET', `/v1/staff/worklist/print${query({ office })}`);
  const printBtn = h('button', { type: 'button', class: 'primary', id: 'print-button' }, t('wl_print_button'));
  printBtn.addEventListener('click', () => window.print());
  const units = r.units.map((u) => h('section', { class: 'print-unit', 'data-unit': u.unit_code },
    h('h2', {}, `${u.unit_code} · ${u.unit_name}`, u.unit_phone ? h('span', { class: 'sub' }, ` ☎ ${u.unit_phone}`) : null),
    reasonsList(u.reasons),
    table({
      caption: t('wl_people'), captionHidden: true, className: 'print-people',
      head: [t('wl_person'), t('wl_roles'), t('wl_phone'), t('wl_activation'), t('wl_covered'), t('wl_reminded')],
      rows: u.users.map((p) => h('tr', {}, h('th', { scope: 'row' }, p.full_name), h('td', {}, roleNames(p.roles)), h('td', {}, p.phone || ''),
        h('td', { 'data-activation': p.activation }, t(`wl_activation_${p.activation}`)), h('td', {}, p.covered ? t('yes') : t('no')), h('td', { class: 'tick' }, '☐'))),
    })));
  ui.show(ui.heading(t('wl_print_title', { o: office })),
    h('p', { class: 'lead' }, t('wl_print_intro', { n: fmtInt(r.units.length), day: fmtDay(vnToday()) })),
    h('div', { class: 'toolbar no-print' }, form, printBtn),
    r.truncated ? ui.message('warn', t('wl_print_truncated')) : null,
    r.units.length ? h('div', { class: 'print-list' }, units) : ui.message('info', t('wl_empty')));
}

// ---------------------------------------------------------------- escalations

function age(seconds) {
  const m = Math.floor(seconds / 60);
  return m < 60 ? t('esc_age_min', { m }) : t('esc_age_h', { h: Math.floor(m / 60), m: m % 60 });
}

export async function pageEscalations(ui, params) {
  const acked = params.get('state') === 'acknowledged';
  const r = await call('GET', `/v1/staff/escalations${query({ state: acked ? 'acknowledged' : '', office: params.get('office') })}`);
  const cards = r.escalations.map((e) => h('article', { class: ['card', 'escalation', acked ? null : 'escalation-open'], 'data-escalation': e.id },
    h('h2', {}, h('a', { href: `#/units/${encodeURIComponent(e.unit_code)}` }, e.unit_code), ` · ${e.unit_name}`),
    h('p', {}, h('span', { class: 'rule' }, ruleName(e.rule)), ' · ', t(`esc_reason_${e.reason}`), ' · ', h('span', { class: 'age' }, age(e.age_seconds))),
    h('p', { class: 'sub' }, t('esc_when', { at: fmtTime(e.alert_created_at), o: e.office_code, n: fmtInt(e.users_alerted) })),
    h('ul', { class: 'phones' },
      h('li', {}, h('strong', {}, t('wl_unit_phone')), ' ', phoneLink(e.unit_phone)),
      e.people.map((p) => h('li', {}, h('strong', {}, p.full_name), ` (${roleNames(p.roles)}) `, phoneLink(p.phone)))),
    acked
      ? h('p', {}, t('esc_acked', { by: e.acknowledged_by, at: fmtTime(e.acknowledged_at), m: Math.round((e.ack_seconds || 0) / 60) }), e.note ? h('span', { class: 'sub' }, e.note) : null)
      : canAct(ui)
        ? actionForm(ui, `ack-${e.id}`, [textarea(`note-${e.id}`, t('esc_note'), { required: true })], t('esc_ack'), 'POST', `/v1/staff/escalations/${e.id}/ack`,
          (f) => ({ note: f[`note-${e.id}`].value.trim() }), async () => {
            refreshBadge();
            ui.go('#/escalations');
          })
        : null));
  ui.show(ui.heading(t('esc_title')),
    h('p', { class: 'lead' }, t('esc_intro')),
    h('p', {}, acked ? h('a', { href: '#/escalations' }, t('esc_show_open')) : h('a', { href: '#/escalations?state=acknowledged', id: 'esc-acked-link' }, t('esc_show_acked'))),
    cards.length ? h('div', { class: 'escalations' }, cards) : ui.message('info', acked ? t('esc_none_acked') : t('esc_none')));
}

// ---------------------------------------------------------------- the badge

function paintBadge() {
  const a = document.querySelector('#nav a[data-page="escalations"]');
  if (!a) return;
  const old = a.querySelector('.nav-badge');
  if (old) old.remove();
  if (badge.count > 0) a.append(h('span', { class: 'nav-badge', id: 'escalation-badge', 'aria-label': t('esc_badge_label', { n: badge.count }) }, String(badge.count)));
}

// A poll is a request, and every request renews the session's idle clock (auth.session_idle_seconds,
// 900 s by default). So the badge polls only while someone uses the page: an unattended tab stops
// after BADGE_IDLE_MS and the server ends its session at the idle timeout, as without the badge.
const BADGE_IDLE_MS = 5 * 60 * 1000;
let lastActivity = Date.now();
for (const ev of ['keydown', 'pointerdown', 'wheel', 'touchstart']) {
  window.addEventListener(ev, () => { lastActivity = Date.now(); }, { passive: true, capture: true });
}

async function refreshBadge() {
  if (Date.now() - lastActivity > BADGE_IDLE_MS) return;
  try {
    badge.count = (await call('GET', '/v1/staff/escalations/count')).open;
  } catch (_) {
    badge.count = null; /* signed out, or no rights: no badge */
  }
  paintBadge();
}

// Called by app.js after it draws the navigation: keep the badge there, refreshed while signed in.
export function escalationBadge(signedIn) {
  if (!signedIn) {
    clearInterval(badge.timer);
    badge.timer = null;
    badge.count = null;
    return;
  }
  paintBadge();
  if (!badge.timer) {
    refreshBadge();
    badge.timer = setInterval(refreshBadge, BADGE_EVERY_MS);
  }
}
