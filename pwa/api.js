// Calls to the server's JSON API (SPEC §6): bearer token, a timeout, and errors as ApiError.

export class ApiError extends Error {
  /** status 0 = no answer (offline, timeout); code from the server's error body or our own. */
  constructor(status, code, message, { details = [], retryAfter = null } = {}) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }

  get isAuth() { return this.status === 401; }
  /** Worth trying again later without changing anything. */
  get isTransient() { return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500; }
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), or null. */
export function retryAfterSeconds(value, now = Date.now()) {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.round((at - now) / 1000));
}

/**
 * `fetchFn` is injectable for tests; `getToken()` returns the bearer token or null.
 * Resolves with the parsed JSON body; rejects with ApiError.
 */
export function createApi({ fetchFn = (...a) => globalThis.fetch(...a), base = '/api', getToken = () => null, timeoutMs = 30000 } = {}) {
  async function request(method, path, body = undefined, { timeout = timeoutMs } = {}) {
    const headers = { Accept: 'application/json' };
    const token = getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const controller = typeof AbortController === 'function' ? new AbortController() : null;
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; controller?.abort(); }, timeout);
    let res;
    try {
      res = await fetchFn(base + path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller?.signal, credentials: 'omit', cache: 'no-store',
      });
    } catch (error) {
      throw new ApiError(0, timedOut ? 'timeout' : 'network', String(error?.message || error));
    } finally {
      clearTimeout(timer);
    }
    let json = null;
    try { json = await res.json(); } catch { json = null; }
    if (res.ok) return json;
    const err = json?.error || {};
    throw new ApiError(res.status, err.code || `http_${res.status}`, err.message || res.statusText, {
      details: err.details || [],
      retryAfter: retryAfterSeconds(res.headers?.get?.('Retry-After')),
    });
  }
  return {
    request,
    get: (path, opts) => request('GET', path, undefined, opts),
    post: (path, body, opts) => request('POST', path, body ?? {}, opts),
  };
}
