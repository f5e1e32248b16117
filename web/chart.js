// chart.js - the coverage trend as SVG built here: the share of protected
// units per day (a line), the office's target (a dashed line), axes in
// percent and days. The figures are also given as text (the SVG's title and
// description, and a table under it) so a screen reader or a printout has
// them too.
import { svg, h } from './dom.js';
import { t, fmtPct, fmtDay } from './i18n.js';

const W = 720;
const H = 260;
const PAD = { left: 52, right: 20, top: 16, bottom: 36 };

export function trendChart(points, target) {
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const y = (pct) => PAD.top + innerH - (Math.max(0, Math.min(100, pct)) / 100) * innerH;
  const n = points.length;
  const x = (i) => PAD.left + (n <= 1 ? innerW / 2 : (i / (n - 1)) * innerW);
  const first = points[0];
  const last = points[n - 1];
  const desc = t('trend_desc', { a: fmtPct(first.protected_pct), d1: fmtDay(first.day), b: fmtPct(last.protected_pct), d2: fmtDay(last.day) }) +
    (target ? ` ${t('target', { p: fmtPct(target.pct), d: fmtDay(target.date) })}` : '');
  const grid = [0, 25, 50, 75, 100].map((p) => svg('g', { class: 'grid' },
    svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(p), y2: y(p) }),
    svg('text', { x: PAD.left - 8, y: y(p) + 4, 'text-anchor': 'end' }, fmtPct(p))));
  const ticks = [...new Set([0, Math.floor((n - 1) / 2), n - 1])].filter((i) => i >= 0).map((i) =>
    svg('text', { class: 'tick', x: x(i), y: H - 10, 'text-anchor': n === 1 ? 'middle' : i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle' }, fmtDay(points[i].day)));
  const line = points.map((p, i) => `${x(i).toFixed(1)},${y(Number(p.protected_pct)).toFixed(1)}`).join(' ');
  const chart = svg('svg', { class: 'trend', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'trend-title trend-desc', 'data-points': n, 'data-last-pct': last.protected_pct },
    svg('title', { id: 'trend-title' }, t('trend_title')),
    svg('desc', { id: 'trend-desc' }, desc),
    grid,
    target ? svg('g', { class: 'target' },
      svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(Number(target.pct)), y2: y(Number(target.pct)), 'data-pct': target.pct }),
      svg('text', { x: W - PAD.right, y: y(Number(target.pct)) - 6, 'text-anchor': 'end' }, t('trend_target', { p: fmtPct(target.pct) }))) : null,
    n > 1 ? svg('polyline', { class: 'line', points: line }) : null,
    svg('circle', { class: 'dot', cx: x(n - 1), cy: y(Number(last.protected_pct)), r: 4 }),
    svg('text', { class: 'last', x: Math.min(x(n - 1), W - PAD.right - 4), y: y(Number(last.protected_pct)) + (Number(last.protected_pct) > 90 ? 18 : -10), 'text-anchor': 'end' }, fmtPct(last.protected_pct)),
    ticks);
  const rows = points.slice().reverse().map((p) => h('tr', {},
    h('th', { scope: 'row' }, fmtDay(p.day)),
    h('td', { class: 'num' }, fmtPct(p.protected_pct)),
    h('td', { class: 'num' }, String(p.protected)),
    h('td', { class: 'num' }, String(p.units))));
  return h('figure', { class: 'trend-figure' },
    chart,
    h('figcaption', {}, desc),
    h('details', { class: 'trend-data' },
      h('summary', {}, t('trend_data')),
      h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, t('col_day')),
          h('th', { scope: 'col', class: 'num' }, t('col_pct')),
          h('th', { scope: 'col', class: 'num' }, t('col_protected')),
          h('th', { scope: 'col', class: 'num' }, t('col_units')))),
        h('tbody', {}, rows)))));
}

// A stacked bar of protected / partial / unprotected units; the numbers are in the table beside it.
export function statusBar(f, label) {
  const total = Math.max(1, Number(f.units) || 0);
  const parts = [['protected', f.protected], ['partial', f.partial], ['unprotected', f.unprotected]];
  let at = 0;
  const rects = parts.map(([k, v]) => {
    const w = (Number(v) / total) * 100;
    const r = svg('rect', { class: `bar-${k}`, x: at, y: 0, width: w, height: 10 });
    at += w;
    return r;
  });
  return svg('svg', { class: 'bar', viewBox: '0 0 100 10', preserveAspectRatio: 'none', role: 'img', 'aria-label': label }, rects);
}
