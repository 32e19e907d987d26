// Building DOM without innerHTML: payloads shown on the page are data, never markup.

/// el('a', {href: '#/x', class: 'link'}, 'text', child, ...): attributes set as given, except
/// `on*` functions (listeners) and `dataset` (an object of data-* values); null children skipped.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

/// A status as a coloured badge (the colours are in style.css, by status name).
export function statusBadge(status) {
  return el('span', {class: `badge status-${String(status).toLowerCase()}`}, status);
}

/// The link to an instance's page.
export function instanceLink(id) {
  return el('a', {href: `#/instance/${encodeURIComponent(id)}`, class: 'instance-link'}, id);
}

/// A message in place of a view's content while it loads or when it failed.
export function notice(text, kind = 'info') {
  return el('p', {class: `notice notice-${kind}`}, text);
}
