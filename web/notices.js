// notices.js - the security notices pages of the dashboard (issue 14):
// #/notices (the list of the offices' notices and their state),
// #/notices/new (compose from a template, in Vietnamese and optionally
// English, choose whom it reaches and when, preview the reach, submit for
// approval) and #/notices/ID (the text exactly as stored with its SHA-256,
// approve with a re-authentication or withdraw, and the delivery report
// with its CSV and XLSX download). app.js routes here and lends its page
// helpers (ctx); every figure comes from /v1/staff/notices.

import { call } from './api.js';
import { h, clear, table } from './dom.js';
import { t, fmtInt, fmtTime } from './i18n.js';

const ROLES = ['account_holder', 'chief_accountant', 'accountant'];

function stateBadge(state) {
  return h('span', { class: ['badge', `notice-${state}`], 'data-state': state }, t(`notice_state_${state}`));
}

export async function pageNotices(ctx, parts) {
  if (parts[1] === 'new') return pageCompose(ctx);
  if (parts[1]) return pageNotice(ctx, parts[1]);
  return pageList(ctx);
}

async function pageList(ctx) {
  const r = await call('GET', '/v1/staff/notices?limit=100');
  const author = ['operator', 'admin'].includes(ctx.state.me.role);
  const rows = r.notices.map((n) => h('tr', {},
    h('td', {}, h('a', { href: `#/notices/${n.id}` }, `#${n.id}`)),
    h('td', {}, n.title_vi),
    h('td', {}, stateBadge(n.state)),
    h('td', {}, n.office),
    h('td', {}, n.author),
    h('td', {}, fmtTime(n.created_at)),
    h('td', {}, n.send_at ? fmtTime(n.send_at) : '–')));
  return ctx.show(ctx.heading(t('notices_title')),
    h('p', {}, t('notices_intro')),
    author ? h('p', {}, h('a', { href: '#/notices/new', class: 'button-link primary', id: 'notice-new' }, t('notice_new'))) : null,
    rows.length
      ? table({ caption: t('notices_title'), captionHidden: true, className: 'notices',
        head: ['#', t('notice_title_vi'), t('notice_state'), t('notice_office'), t('notice_author'), t('notice_created'), t('notice_send_at')], rows })
      : ctx.message('info', t('notices_none')));
}

function textArea(id, label, attrs = {}) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), h('textarea', { id, name: id, rows: '5', ...attrs }));
}

function reachTable(r) {
  const line = (k, v) => h('tr', {}, h('th', { scope: 'row' }, t(k)), h('td', { class: 'num' }, fmtInt(v)));
  return h('div', { class: 'notice-reach', id: 'notice-reach' },
    h('h2', {}, t('notice_reach')),
    table({ caption: t('notice_reach'), captionHidden: true, head: [t('notice_measure'), { text: t('notice_count'), num: true }],
      rows: [line('reach_units', r.units), line('reach_users', r.users), line('reach_devices', r.devices),
        line('reach_reachable_devices', r.reachable_devices), line('reach_users_reachable', r.users_reachable),
        line('reach_users_without', r.users_without_reachable_device), line('reach_fallback_addresses', r.fallback_addresses),
        line('reach_users_without_address', r.users_without_address)] }),
    h('p', { class: 'hint' }, t('reach_note')));
}

async function pageCompose(ctx) {
  const { templates } = await call('GET', '/v1/staff/notice-templates');
  const tpl = h('select', { id: 'template', name: 'template' }, h('option', { value: '' }, t('notice_no_template')),
    templates.map((x) => h('option', { value: x.id }, x.title_vi)));
  const roleBoxes = ROLES.map((r) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'roles', value: r }), ` ${t(`role_${r}`)}`));
  const modes = ['office_hours', 'immediate', 'at'].map((m) => h('label', { class: 'check' },
    h('input', { type: 'radio', name: 'mode', value: m, checked: m === 'office_hours' }), ` ${t(`notice_mode_${m}`)}`));
  const form = h('form', { id: 'notice-form', novalidate: true, autocomplete: 'off' },
    h('fieldset', {}, h('legend', {}, t('notice_text')),
      h('div', { class: 'field' }, h('label', { for: 'template' }, t('notice_template')), tpl),
      ctx.field('title_vi', t('notice_title_vi'), { maxlength: '200', required: true }),
      textArea('body_vi', t('notice_body_vi'), { maxlength: '4000', required: true }),
      ctx.field('title_en', t('notice_title_en'), { maxlength: '200' }),
      textArea('body_en', t('notice_body_en'), { maxlength: '4000' }),
      h('p', { class: 'hint' }, t('notice_links_hint'))),
    h('fieldset', {}, h('legend', {}, t('notice_target')),
      ctx.field('office', t('notice_office'), { value: ctx.state.me.office, maxlength: '4' }, t('notice_office_hint')),
      textArea('units', t('notice_units'), { rows: '2' }),
      h('p', { class: 'hint' }, t('notice_units_hint')),
      h('div', { class: 'field' }, h('span', { class: 'label' }, t('notice_roles')), roleBoxes, h('p', { class: 'hint' }, t('notice_roles_hint'))),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'only_unprotected', id: 'only_unprotected' }), ` ${t('notice_only_unprotected')}`)),
    h('fieldset', {}, h('legend', {}, t('notice_send')), modes,
      ctx.field('send_at', t('notice_send_at_field'), { type: 'datetime-local' }, t('notice_send_hint'))),
    h('div', { id: 'reach-out', 'aria-live': 'polite' }),
    h('p', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', id: 'notice-preview' }, t('notice_preview')),
      h('button', { type: 'submit', class: 'primary', id: 'notice-submit' }, t('notice_submit'))));
  const err = ctx.formError(form);
  tpl.addEventListener('change', () => {
    const x = templates.find((y) => y.id === tpl.value);
    if (!x) return;
    form.title_vi.value = x.title_vi;
    form.body_vi.value = x.body_vi;
    form.title_en.value = x.title_en;
    form.body_en.value = x.body_en;
  });
  const target = () => {
    const units = form.units.value.split(/[\s,;]+/).filter(Boolean);
    const roles = [...form.querySelectorAll('input[name=roles]:checked')].map((c) => c.value);
    return { office: form.office.value.trim() || ctx.state.me.office, units, roles, only_unprotected: form.only_unprotected.checked };
  };
  const reachOut = form.querySelector('#reach-out');
  form.querySelector('#notice-preview').addEventListener('click', async () => {
    err(null);
    ctx.busy(form, true);
    try {
      clear(reachOut).append(reachTable(await call('POST', '/v1/staff/notices/preview', { target: target() })));
    } catch (e) {
      const m = e.errors && e.errors.length ? ctx.message('error', ctx.fieldErrors(e)) : ctx.explain(e);
      if (m) err(m);
    } finally {
      ctx.busy(form, false);
    }
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err(null);
    const mode = form.querySelector('input[name=mode]:checked').value;
    const body = { title_vi: form.title_vi.value, body_vi: form.body_vi.value, target: target(), send: { mode } };
    if (tpl.value) body.template = tpl.value;
    if (form.title_en.value || form.body_en.value) Object.assign(body, { title_en: form.title_en.value, body_en: form.body_en.value });
    if (mode === 'at') body.send.at = form.send_at.value ? `${form.send_at.value}:00+07:00` : '';
    ctx.busy(form, true);
    try {
      const n = await call('POST', '/v1/staff/notices', body);
      ctx.state.flash = ['info', t('notice_submitted')];
      ctx.go(`#/notices/${n.id}`);
    } catch (e) {
      const m = e.errors && e.errors.length ? ctx.message('error', ctx.fieldErrors(e)) : ctx.explain(e);
      if (m) err(m);
    } finally {
      ctx.busy(form, false);
    }
  });
  return ctx.show(ctx.heading(t('notice_new')), h('p', { class: 'crumbs' }, h('a', { href: '#/notices' }, t('nav_notices')), ' › ', t('notice_new')),
    h('p', {}, t('notice_compose_intro')), form);
}

function reportTable(r) {
  const line = (k, v) => h('tr', {}, h('th', { scope: 'row' }, t(k)), h('td', { class: 'num' }, fmtInt(v)));
  const rows = [line('report_targeted', r.targeted), line('report_alerts', r.alerts), line('report_read', r.read),
    line('report_pushed', r.pushed), line('report_delivered', r.delivered), line('report_pending', r.pending),
    line('report_failed', r.failed)];
  for (const [reason, n] of Object.entries(r.failed_by_reason || {})) rows.push(h('tr', {}, h('th', { scope: 'row', class: 'sub' }, `— ${reason}`), h('td', { class: 'num' }, fmtInt(n))));
  rows.push(line('report_emailed', r.emailed));
  for (const [st, n] of Object.entries(r.emailed_by_state || {})) rows.push(h('tr', {}, h('th', { scope: 'row', class: 'sub' }, `— ${t(`notice_mail_state_${st}`)}`), h('td', { class: 'num' }, fmtInt(n))));
  return table({ caption: t('report_title'), captionHidden: true, className: 'notice-report', head: [t('notice_measure'), { text: t('notice_count'), num: true }], rows });
}

async function pageNotice(ctx, id) {
  const n = await call('GET', `/v1/staff/notices/${encodeURIComponent(id)}`);
  const out = h('div', { 'aria-live': 'polite', id: 'notice-msg' });
  const flash = ctx.state.flash;
  ctx.state.flash = null;
  const act = (label, cls, idAttr, fn) => {
    const b = h('button', { type: 'button', class: cls, id: idAttr }, label);
    b.addEventListener('click', async () => {
      b.disabled = true;
      clear(out);
      try {
        const r = await fn();
        if (r) {
          ctx.state.flash = ['info', t(idAttr === 'notice-approve' ? 'notice_approved' : 'notice_withdrawn')];
          ctx.go(`#/notices/${n.id}`);
        }
      } catch (e) {
        const m = ctx.explain(e);
        if (m) out.append(m);
      } finally {
        b.disabled = false;
      }
    });
    return b;
  };
  const actions = [];
  if (n.can_approve) actions.push(act(t('notice_approve'), 'primary', 'notice-approve', () => ctx.withReauth(() => call('POST', `/v1/staff/notices/${n.id}/approve`, { text_sha256: n.text_sha256 }))));
  if (n.can_withdraw) actions.push(act(t('notice_withdraw'), 'secondary', 'notice-withdraw', () => call('POST', `/v1/staff/notices/${n.id}/withdraw`)));
  const tgt = n.target;
  const facts = [
    [t('notice_state'), stateBadge(n.state)],
    [t('notice_author'), n.author],
    [t('notice_office'), `${n.office} ${n.office_name || ''}`],
    [t('notice_units'), tgt.units.length ? tgt.units.join(', ') : t('all')],
    [t('notice_roles'), tgt.roles.length ? tgt.roles.map((r) => t(`role_${r}`)).join(', ') : t('all')],
    [t('notice_only_unprotected'), tgt.only_unprotected ? t('yes') : t('no')],
    [t('notice_send'), t(`notice_mode_${n.send.mode}`) + (n.send.at ? ` ${fmtTime(n.send.at)}` : '')],
    [t('notice_approved_by'), n.approved_by ? `${n.approved_by}, ${fmtTime(n.approved_at)}` : '–'],
    [t('notice_send_at'), n.send_at ? fmtTime(n.send_at) : '–'],
    [t('notice_hash'), h('code', { class: 'hash' }, n.text_sha256)],
  ];
  let report = null;
  if (['approved', 'sending', 'sent'].includes(n.state)) {
    const r = await call('GET', `/v1/staff/notices/${n.id}/report`);
    const exportMsg = h('div', { 'aria-live': 'polite', class: 'export-msg' });
    report = h('section', { id: 'notice-report' }, h('h2', {}, t('report_title')), reportTable(r),
      h('div', { class: 'export' },
        ctx.exportButton('report-csv', t('export_csv'), `/v1/staff/notices/${n.id}/report.csv`, `notice-${n.id}-report.csv`, exportMsg),
        ctx.exportButton('report-xlsx', t('export_xlsx'), `/v1/staff/notices/${n.id}/report.xlsx`, `notice-${n.id}-report.xlsx`, exportMsg)),
      exportMsg);
  }
  return ctx.show(ctx.heading(`${t('notice')} #${n.id}`),
    h('p', { class: 'crumbs' }, h('a', { href: '#/notices' }, t('nav_notices')), ' › ', `#${n.id}`),
    flash ? ctx.message(flash[0], flash[1]) : null,
    h('article', { class: 'notice-text', lang: 'vi' }, h('h2', {}, n.title_vi), h('p', { class: 'notice-body' }, n.body_vi)),
    n.title_en ? h('article', { class: 'notice-text', lang: 'en' }, h('h2', {}, n.title_en), h('p', { class: 'notice-body' }, n.body_en)) : null,
    h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    n.can_approve ? h('p', { class: 'hint' }, t('notice_approve_hint')) : null,
    actions.length ? h('p', { class: 'actions' }, actions) : null,
    out,
    report);
}
