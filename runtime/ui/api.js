// The management API as the page calls it: same origin, JSON, errors as exceptions that carry the
// API's error code and message.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// A node started with --api-token-file answers 401 without a bearer token: the page asks for one
// and keeps it in the tab's sessionStorage (gone with the tab, never sent anywhere but this node).
const tokenKey = 'perdure.apiToken';
let tokenDeclined = false;  // asked once per page load: a refresh every 5 s must not keep asking

async function call(method, path, body, retried = false) {
  const init = {method, headers: {Accept: 'application/json'}};
  const token = sessionStorage.getItem(tokenKey);
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.body = body;
    init.headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(path, init);
  if (response.status === 401 && !retried) {
    const current = sessionStorage.getItem(tokenKey);
    if (current && current !== token) return call(method, path, body, true);  // given meanwhile
    if (!tokenDeclined) {
      const entered = (window.prompt(token ? 'The node refused this API token; another one:'
                                           : 'This node needs an API token (read or admin):') || '').trim();
      if (entered) {
        sessionStorage.setItem(tokenKey, entered);
        return call(method, path, body, true);
      }
      tokenDeclined = true;
    }
  }
  const text = await response.text();
  if (!response.ok) {
    let error = {error: `HTTP ${response.status}`, message: text};
    try { error = JSON.parse(text); } catch { /* not JSON: keep the text */ }
    throw new ApiError(response.status, error.error, error.message || text);
  }
  const type = response.headers.get('Content-Type') || '';
  if (!text) return null;
  return type.startsWith('application/json') ? JSON.parse(text) : text;
}

/// A path with its query: parameters that are empty, null or undefined are left out.
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== '' && value !== null && value !== undefined) query.set(name, value);
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export const instancePath = (id) => `/api/instances/${encodeURIComponent(id)}`;

export const api = {
  listInstances: (filters) => call('GET', withQuery('/api/instances', filters)),
  countInstances: (filters) => call('GET', withQuery('/api/instance-counts', filters)),
  instance: (id) => call('GET', instancePath(id)),
  history: (id) => call('GET', `${instancePath(id)}/history`),
  raiseEvent: (id, name, data) =>
    call('POST', `${instancePath(id)}/raiseEvent/${encodeURIComponent(name)}`, data),
  command: (id, verb, reason) => call('POST', withQuery(`${instancePath(id)}/${verb}`, {reason})),
  restart: (id, fromEvent, version) => call('POST', withQuery(`${instancePath(id)}/restart`, {fromEvent, version})),
  purge: (id) => call('DELETE', instancePath(id)),
  cluster: () => call('GET', '/api/cluster'),
  metrics: () => call('GET', '/metrics'),
};
