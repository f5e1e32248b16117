// dom.js - building the page from data without HTML strings: every text
// goes in as a text node (nothing the server sends is parsed as markup),
// events are bound with addEventListener (the CSP allows no inline
// handler), and SVG is built with createElementNS.

const SVG_NS = 'http://www.w3.org/2000/svg';

function fill(node, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'value' && 'value' in node) node.value = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// An HTML element: h('a', { href: '#/units', class: 'x' }, 'text', child...)
export function h(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

export function svg(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

// A table: caption, header cells [{ text, sort, num }], rows of cells (text or nodes, or { node, num }).
export function table({ caption, head, rows, className, captionHidden }) {
  return h('div', { class: 'table-wrap' },
    h('table', { class: className },
      caption ? h('caption', { class: captionHidden ? 'visually-hidden' : null }, caption) : null,
      h('thead', {}, h('tr', {}, head.map((c) => (c instanceof Node ? c : h('th', { scope: 'col', class: c.num ? 'num' : null }, c.text ?? c))))),
      h('tbody', {}, rows)));
}
