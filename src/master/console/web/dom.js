// Building page elements: every string from the cluster goes in through textContent, never as markup.
const SVG = 'http://www.w3.org/2000/svg';

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, String(v));
  }
  for (const c of children) node.append(c);
  return node;
}

export function say(text, ok = false) {
  const m = $('message');
  m.textContent = text;
  m.className = ok ? 'ok' : '';
  m.hidden = false;
}

/** Fetch that turns an HTTP error into the API's own words. */
export async function api(method, url, body) {
  // The proof that a change comes from this page (docs/security.md, "The HTTP side").
  const res = await fetch(url, { method, body, headers: { 'x-gfs-console': '1' } });
  const data = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  if (!res.ok) throw new Error(data?.message ?? `${method} ${url}: HTTP ${res.status}`);
  return data;
}

export const fileUrl = (route, path) => `${route}?path=${encodeURIComponent(path)}`;
