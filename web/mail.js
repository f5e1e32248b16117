// mail.js - the dashboard's e-mail parts (docs/staff.md "E-mail: reminders,
// bulk instructions, outcomes"): on a unit's page the "send reminder" button
// and the unit's recent mails with their outcomes; on the units list the
// selection of units and the bulk "issue activation codes and e-mail the
// instructions" behind the re-authentication dialog. app.js passes in what
// it owns (withReauth, explain) so this module does not import it back.
import { call } from './api.js';
import { h, clear, table } from './dom.js';
import { t, fmtTime, fmtInt } from './i18n.js';

function mailRows(items) {
  return items.map((m) => h('tr', { 'data-mail': m.id, 'data-state': m.state },
    h('td', { class: 'nowrap' }, fmtTime(m.created_at)),
    h('td', {}, t(`mail_purpose_${m.purpose}`), m.manual ? h('span', { class: 'sub' }, m.created_by || '') : null),
    h('td', {}, m.to, h('span', { class: 'sub' }, t(`mail_to_${m.to_kind}`))),
    h('td', {}, h('span', { class: m.state === 'sent' ? 'ok' : m.state === 'failed' ? 'bad' : null }, t(`mail_state_${m.state}`)),
      m.sent_at ? h('span', { class: 'sub' }, fmtTime(m.sent_at)) : null),
    h('td', { class: 'num' }, fmtInt(m.attempts)),
    h('td', {}, m.last_error ? h('span', { class: 'sub inline' }, m.last_error) : null)));
}

// The unit page's section: its mails, and for an operator or admin the reminder button.
export function unitMailSection(code, { canSend, withReauth, explain }) {
  const out = h('div', { id: 'mail-msg', 'aria-live': 'polite', tabindex: '-1' });
  // aria-busy tells assistive technology (and the tests) when the list is being fetched
  const list = h('div', { id: 'mail-list', 'aria-busy': 'true' }, h('p', { class: 'muted' }, t('loading')));
  async function load() {
    list.setAttribute('aria-busy', 'true');
    try {
      const r = await call('GET', `/v1/staff/units/${encodeURIComponent(code)}/mail`);
      clear(list).append(r.items.length
        ? table({ caption: t('mail_title'), captionHidden: true, className: 'mail',
          head: [t('col_time'), t('mail_col_purpose'), t('mail_col_to'), t('status'), { text: t('mail_col_attempts'), num: true }, t('mail_col_error')],
          rows: mailRows(r.items) })
        : h('p', { class: 'muted' }, t('mail_none')));
    } catch (e) {
      const m = explain(e);
      clear(list).append(m || '');
    } finally {
      list.setAttribute('aria-busy', 'false');
    }
  }
  let button = null;
  if (canSend) {
    button = h('button', { type: 'button', class: 'secondary', id: 'send-reminder' }, t('mail_send_reminder'));
    button.addEventListener('click', async () => {
      if (!window.confirm(t('mail_send_reminder_confirm'))) return;
      button.disabled = true;
      try {
        const r = await withReauth(() => call('POST', `/v1/staff/units/${encodeURIComponent(code)}/reminders`));
        if (!r) return;
        clear(out).append(h('div', { class: 'msg msg-ok', role: 'status' },
          r.queued ? t('mail_reminder_queued', { n: fmtInt(r.queued) }) : t('mail_reminder_nobody'),
          r.skipped.no_address ? ` ${t('mail_reminder_no_address', { n: fmtInt(r.skipped.no_address) })}` : ''));
        await load();
      } catch (e) {
        if (e.code === 'reminder_limit_reached') {
          clear(out).append(h('div', { class: 'msg msg-warn', role: 'status' },
            t(e.problem.window === 'office_day' ? 'mail_limit_office' : 'mail_limit_unit', { n: fmtInt(e.problem.limit) })));
        } else {
          const m = explain(e);
          if (m) clear(out).append(m);
        }
      } finally {
        button.disabled = false;
        out.focus();
      }
    });
  }
  load();
  return h('section', { class: 'card', 'aria-labelledby': 'mail-h' }, h('h2', { id: 'mail-h' }, t('mail_title')),
    button ? h('p', {}, button, ' ', h('span', { class: 'hint' }, t('mail_reminder_hint'))) : null, out, list);
}

// A checkbox in the unit cell of every row of tbody (rows added later by "more" too).
function selectable(tbody) {
  const add = (tr) => {
    if (!tr.dataset || !tr.dataset.unit || tr.querySelector('input.pick')) return;
    const th = tr.querySelector('th');
    th.prepend(h('input', { type: 'checkbox', class: 'pick', value: tr.dataset.unit, 'aria-label': t('mail_pick', { code: tr.dataset.unit }) }), ' ');
  };
  tbody.querySelectorAll('tr').forEach(add);
  new MutationObserver((list) => list.forEach((m) => m.addedNodes.forEach((n) => n.nodeType === 1 && add(n)))).observe(tbody, { childList: true });
}

function reportList(units) {
  return h('ul', { class: 'plain', id: 'bulk-report' }, units.map((u) => h('li', { 'data-unit': u.unit },
    h('strong', {}, u.unit), ': ', t('mail_bulk_mailed', { n: fmtInt(u.mailed.length) }),
    u.mailed.length ? ` (${u.mailed.map((m) => m.login).join(', ')})` : '',
    u.skipped.length ? [h('br'), t('mail_bulk_skipped'), ' ', u.skipped.map((s) => `${s.login}: ${t(`mail_skip_${s.reason}`)}`).join('; ')] : null)));
}

// The units list's bulk action: select units, then issue codes and e-mail the instructions.
export function bulkInstructions(tbody, { withReauth, explain }) {
  selectable(tbody);
  const out = h('div', { id: 'bulk-msg', 'aria-live': 'polite', tabindex: '-1' });
  const button = h('button', { type: 'button', class: 'secondary', id: 'bulk-instructions' }, t('mail_bulk_button'));
  button.addEventListener('click', async () => {
    const units = [...tbody.querySelectorAll('input.pick:checked')].map((c) => c.value);
    if (!units.length) {
      clear(out).append(h('div', { class: 'msg msg-warn', role: 'status' }, t('mail_bulk_none')));
      return;
    }
    if (units.length > 100) {
      clear(out).append(h('div', { class: 'msg msg-warn', role: 'status' }, t('mail_bulk_too_many')));
      return;
    }
    if (!window.confirm(t('mail_bulk_confirm', { n: fmtInt(units.length) }))) return;
    button.disabled = true;
    try {
      const r = await withReauth(() => call('POST', '/v1/staff/instructions', { units }));
      if (!r) return;
      clear(out).append(h('div', { class: 'msg msg-ok', role: 'status' }, t('mail_bulk_done')), reportList(r.units));
    } catch (e) {
      const m = explain(e);
      if (m) clear(out).append(m);
    } finally {
      button.disabled = false;
      out.focus();
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'bulk-h' }, h('h2', { id: 'bulk-h' }, t('mail_bulk_title')),
    h('p', { class: 'hint' }, t('mail_bulk_hint')), h('p', {}, button), out);
}
