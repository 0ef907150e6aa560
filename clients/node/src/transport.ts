// How one call goes over the wire: the bearer token (fetched with the client
// credentials, renewed before it expires and once when the server answers 401
// INVALID_CLIENT_AUTHORIZATION), an Idempotency-Key on every POST that stays
// the same on each retry of the call, retries of 423, 429 and 503 with
// exponential backoff and jitter, never sooner than Retry-After, and every
// error answer turned into its catalog class.
import { randomUUID } from 'node:crypto';
import {
  BankfeedConnectionError, BankfeedError, GROUP_CLASSES, type BankfeedErrorClass, type ErrorObject,
} from './errors.js';
import { ERRORS_BY_CODE, ERRORS_BY_NAME } from './errors.generated.js';
import { ROUTE_BY_OP, type Route } from './routes.js';
import type { TokenResponse } from './models.js';

/** Statuses retried: the catalog's 423, 429 and 503 (seed 000's rule). */
export const RETRY_STATUSES: ReadonlySet<number> = new Set([423, 429, 503]);

export interface RetryInfo {
  op: string;
  /** 1 for the first retry. */
  attempt: number;
  /** The status that is retried, or 0 after a network failure. */
  status: number;
  /** The catalog code of the answer, when it had one. */
  code: number | null;
  /** Retry-After of the answer in seconds, when it had one. */
  retryAfter: number | null;
  /** How long the client waits before the retry. */
  waitMs: number;
  /** The Idempotency-Key every attempt of this call sends (POST), else null. */
  idempotencyKey: string | null;
}

export interface TokenInfo {
  /** initial: the first token; expiring: renewed before expiry; rejected: after a 401. */
  reason: 'initial' | 'expiring' | 'rejected';
  expiresIn: number;
}

export interface BankfeedOptions {
  /** e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  clientId?: string;
  clientSecret?: string;
  /** A token to start with (renewed with the client credentials when given). */
  accessToken?: string;
  /** The server's --metrics-token, for getMetrics(). */
  metricsToken?: string;
  /** Retries of one call after 423, 429, 503 or a network failure (default 4). */
  maxRetries?: number;
  /** First backoff step in ms (default 500); doubles with each retry. */
  retryBaseMs?: number;
  /** Longest backoff step in ms (default 30000). */
  retryMaxMs?: number;
  /** A Retry-After longer than this many seconds is not waited for: the error is thrown (default 60). */
  maxRetryAfterSeconds?: number;
  /** Renew the token this long before it expires (default 60 s, at most a tenth of its lifetime). */
  renewMarginSeconds?: number;
  /** Per attempt, in ms (default 240000: a sync may wait 210 s). */
  timeoutMs?: number;
  /** Called before each retry. */
  onRetry?: (info: RetryInfo) => void;
  /** Called after each new token. */
  onToken?: (info: TokenInfo) => void;
  /** Another fetch (tests, proxies). */
  fetch?: typeof fetch;
  /** In [0, 1); the jitter's source (default Math.random). */
  random?: () => number;
}

/** Per-call options. */
export interface CallOptions {
  /** Sent as Idempotency-Key (POST); one is made when left out. */
  idempotencyKey?: string;
  /** Sent as X-Request-Id. */
  requestId?: string;
  signal?: AbortSignal;
}

export interface CallSpec {
  path?: Record<string, string>;
  query?: Record<string, string | number | boolean | null | undefined>;
  json?: unknown;
  body?: string | Uint8Array;
  contentType?: string;
  headers?: Record<string, string | undefined>;
  opts?: CallOptions;
}

/** Seconds of a Retry-After header (delta-seconds or an HTTP date), or null. */
export function parseRetryAfter(v: string | null, now = Date.now()): number | null {
  if (v == null || v.trim() === '') return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, Math.ceil((t - now) / 1000));
}

/** The class an error object belongs to: its entry, its alias, its group, or the base. */
export function errorClassFor(e: Partial<ErrorObject>): BankfeedErrorClass {
  return (e.code != null ? ERRORS_BY_CODE.get(e.code) : undefined)
    ?? (e.name != null ? ERRORS_BY_NAME.get(e.name) : undefined)
    ?? (e.group != null ? GROUP_CLASSES[e.group] : undefined)
    ?? (BankfeedError as unknown as BankfeedErrorClass);
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  if (signal?.aborted) return reject(signal.reason);
  const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
  const onAbort = () => { clearTimeout(t); reject(signal!.reason); };
  signal?.addEventListener('abort', onAbort, { once: true });
});

export class Transport {
  readonly baseUrl: string;
  private readonly o: BankfeedOptions;
  private readonly fetchFn: typeof fetch;
  private token: string | null;
  private tokenExpiresAt = Infinity;
  private tokenMarginMs = 0;
  private tokenInFlight: Promise<string> | null = null;

  constructor(o: BankfeedOptions) {
    if (!o || !o.baseUrl) throw new TypeError('bankfeed: baseUrl is required');
    this.o = o;
    this.baseUrl = o.baseUrl.replace(/\/+$/, '');
    this.fetchFn = o.fetch ?? globalThis.fetch;
    this.token = o.accessToken ?? null;
  }

  /** Uses this token until expiresIn seconds from now (then renews it). */
  setAccessToken(token: string, expiresIn: number): void {
    this.token = token;
    this.tokenExpiresAt = Date.now() + expiresIn * 1000;
    this.tokenMarginMs = this.marginMs(expiresIn);
  }

  private marginMs(expiresIn: number): number {
    return Math.min((this.o.renewMarginSeconds ?? 60) * 1000, expiresIn * 100);
  }

  /** A token valid now: the current one, or a new one. */
  async accessToken(signal?: AbortSignal): Promise<string> {
    if (this.token != null && Date.now() < this.tokenExpiresAt - this.tokenMarginMs) return this.token;
    return this.renewToken(this.token == null ? 'initial' : 'expiring', signal);
  }

  /** A new token; when stale is given and another call already replaced it, that one. */
  private renewToken(reason: TokenInfo['reason'], signal?: AbortSignal, stale?: string | null): Promise<string> {
    if (this.o.clientId == null || this.o.clientSecret == null) {
      if (this.token != null && reason !== 'rejected') return Promise.resolve(this.token);
      return Promise.reject(new TypeError('bankfeed: clientId and clientSecret are needed to get a token'));
    }
    if (stale !== undefined && this.token != null && this.token !== stale && this.tokenInFlight == null) {
      return Promise.resolve(this.token);
    }
    // One request at a time renews; concurrent calls wait for it.
    this.tokenInFlight ??= (async () => {
      try {
        const t = await this.fetchToken(signal);
        this.setAccessToken(t.access_token, t.expires_in);
        this.o.onToken?.({ reason, expiresIn: t.expires_in });
        return t.access_token;
      } finally {
        this.tokenInFlight = null;
      }
    })();
    return this.tokenInFlight;
  }

  /** POST /oauth/token with the client credentials (HTTP Basic). */
  fetchToken(signal?: AbortSignal): Promise<TokenResponse> {
    return this.call<TokenResponse>('createToken', {
      body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
      contentType: 'application/x-www-form-urlencoded',
      opts: { signal },
    });
  }

  private backoffMs(attempt: number): number {
    const base = this.o.retryBaseMs ?? 500;
    const cap = Math.min(this.o.retryMaxMs ?? 30000, base * 2 ** (attempt - 1));
    const r = (this.o.random ?? Math.random)();
    return Math.round(cap / 2 + (r * cap) / 2);   // "equal jitter": between half and all of the step
  }

  /** The wait before retry number attempt, or null when Retry-After is too long to wait. */
  private waitMs(attempt: number, retryAfter: number | null): number | null {
    const expo = this.backoffMs(attempt);
    if (retryAfter == null) return expo;
    if (retryAfter > (this.o.maxRetryAfterSeconds ?? 60)) return null;
    const jitter = Math.round((this.o.random ?? Math.random)() * 250);
    return Math.max(retryAfter * 1000 + jitter, expo);
  }

  private url(route: Route, spec: CallSpec): string {
    let path = route.path.replace(/\{(\w+)\}/g, (_, k: string) => {
      const v = spec.path?.[k];
      if (v == null || v === '') throw new TypeError(`bankfeed: ${route.op} needs ${k}`);
      return encodeURIComponent(v);
    });
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(spec.query ?? {})) {
      if (v == null) continue;
      if (!route.query.includes(k)) throw new TypeError(`bankfeed: ${route.op} takes no query parameter ${k}`);
      q.append(k, String(v));
    }
    const qs = q.toString();
    if (qs) path += '?' + qs;
    return this.baseUrl + path;
  }

  private async headers(route: Route, spec: CallSpec, key: string | null): Promise<Headers> {
    const h = new Headers({ Accept: 'application/json' });
    if (spec.opts?.requestId) h.set('X-Request-Id', spec.opts.requestId);
    if (key != null) h.set('Idempotency-Key', key);
    for (const [k, v] of Object.entries(spec.headers ?? {})) if (v != null) h.set(k, v);
    if (spec.json !== undefined) h.set('Content-Type', 'application/json');
    else if (spec.contentType) h.set('Content-Type', spec.contentType);
    switch (route.auth) {
      case 'bearer':
        h.set('Authorization', 'Bearer ' + await this.accessToken(spec.opts?.signal));
        break;
      case 'basic':
        if (this.o.clientId == null || this.o.clientSecret == null) throw new TypeError('bankfeed: clientId and clientSecret are needed');
        h.set('Authorization', 'Basic ' + Buffer.from(`${encodeURIComponent(this.o.clientId)}:${encodeURIComponent(this.o.clientSecret)}`).toString('base64'));
        break;
      case 'metrics':
        if (this.o.metricsToken) h.set('Authorization', 'Bearer ' + this.o.metricsToken);
        break;
      default:
        break;
    }
    return h;
  }

  /**
   * Calls the route of op and returns its JSON body (text for text answers,
   * undefined for 204).  Throws the catalog class of an error answer once the
   * retries are spent, or BankfeedConnectionError when the server is not
   * reached.
   */
  async call<T>(op: string, spec: CallSpec = {}): Promise<T> {
    const route = ROUTE_BY_OP.get(op);
    if (!route) throw new TypeError(`bankfeed: no route ${op}`);
    // The same key on every attempt: a retry of a POST that did reach the
    // server gets the first answer again instead of acting twice.
    const key = route.method === 'POST' && route.auth !== 'basic'
      ? spec.opts?.idempotencyKey ?? randomUUID() : null;
    const url = this.url(route, spec);
    const body = spec.json !== undefined ? JSON.stringify(spec.json) : spec.body;
    const max = this.o.maxRetries ?? 4;
    let renewed = false;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      // Outside the try: a failed token request is its own error, not a network failure.
      const headers = await this.headers(route, spec, key);
      try {
        const signals = [AbortSignal.timeout(this.o.timeoutMs ?? 240000)];
        if (spec.opts?.signal) signals.push(spec.opts.signal);
        res = await this.fetchFn(url, {
          method: route.method,
          headers,
          body: body as BodyInit | undefined,
          signal: AbortSignal.any(signals),
        });
      } catch (e) {
        if (spec.opts?.signal?.aborted) throw e;
        if (attempt < max) {
          const waitMs = this.backoffMs(attempt + 1);
          this.o.onRetry?.({ op, attempt: attempt + 1, status: 0, code: null, retryAfter: null, waitMs, idempotencyKey: key });
          await sleep(waitMs, spec.opts?.signal);
          continue;
        }
        throw new BankfeedConnectionError(`bankfeed: ${route.method} ${url}: ${(e as Error).message}`, e);
      }
      if (res.status < 400) return this.decode<T>(res);
      const err = await this.error(res);
      if (res.status === 401 && route.auth === 'bearer' && err.code === 1004 && !renewed && this.o.clientId != null) {
        // The token expired or was refused: one new token, one more try.
        renewed = true;
        const used = headers.get('authorization')?.slice('Bearer '.length) ?? null;
        await this.renewToken('rejected', spec.opts?.signal, used);
        attempt--;
        continue;
      }
      if (RETRY_STATUSES.has(res.status) && attempt < max) {
        const waitMs = this.waitMs(attempt + 1, err.retryAfter);
        if (waitMs != null) {
          this.o.onRetry?.({ op, attempt: attempt + 1, status: res.status, code: err.code, retryAfter: err.retryAfter, waitMs, idempotencyKey: key });
          await sleep(waitMs, spec.opts?.signal);
          continue;
        }
      }
      throw err;
    }
  }

  private async decode<T>(res: Response): Promise<T> {
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    const ct = res.headers.get('content-type') ?? '';
    if (!/json/.test(ct)) return text as T;
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new BankfeedConnectionError(`bankfeed: the answer is not JSON (${res.status})`, e);
    }
  }

  private async error(res: Response): Promise<BankfeedError> {
    const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
    const requestId = res.headers.get('x-request-id');
    let obj: Partial<ErrorObject> | undefined;
    try {
      obj = (JSON.parse(await res.text()) as { error?: Partial<ErrorObject> }).error;
    } catch { /* not the JSON error body: described below */ }
    const e: ErrorObject = {
      code: obj?.code ?? 0,
      name: obj?.name ?? `HTTP_${res.status}`,
      group: obj?.group ?? '',
      description: obj?.description ?? `HTTP ${res.status} without an error object`,
      data: obj?.data ?? {},
      message: obj?.message ?? null,
      request_id: obj?.request_id ?? requestId ?? undefined,
    };
    const Cls = errorClassFor(e);
    return new Cls({ error: e, status: res.status, requestId, retryAfter });
  }
}
