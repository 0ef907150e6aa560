// Verifying the deliveries of bankfeed's webhooks (README "Webhooks",
// src/jobs/webhooks.c): the header `Bankfeed-Signature: t=<unix seconds>,v1=<hex>`
// where hex is the lowercase HMAC-SHA256, keyed with the webhook's secret, of
// `<t>.<raw body>`.  A t further than the tolerance (5 minutes) from the
// receiver's clock is refused: an old delivery replayed.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookEvent } from './models.js';

export const SIGNATURE_HEADER = 'Bankfeed-Signature';
/** The event types bankfeed sends (docs/openapi.yaml, webhooks). */
export const WEBHOOK_EVENT_TYPES = ['session.challenge_required', 'connection.authorized', 'task.completed', 'task.failed'] as const;
export const DEFAULT_TOLERANCE_SECONDS = 300;

export interface VerifyOptions {
  /** Largest distance between t and now, in seconds (default 300). */
  toleranceSeconds?: number;
  /** Now, in unix seconds (default the clock). */
  now?: number;
}

export class WebhookSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookSignatureError';
  }
}

/** The signature header for body at time t (what bankfeed sends; for tests of receivers). */
export function signWebhook(secret: string, body: string | Uint8Array, t: number): string {
  const mac = createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
  return `t=${t},v1=${mac}`;
}

/**
 * Throws WebhookSignatureError unless header signs body (the raw bytes as
 * received, before any JSON parsing) with secret, at a t within tolerance.
 */
export function assertWebhookSignature(secret: string, header: string | null | undefined, body: string | Uint8Array, o: VerifyOptions = {}): void {
  if (!header) throw new WebhookSignatureError('no Bankfeed-Signature header');
  let t: number | null = null;
  const sigs: string[] = [];
  for (const part of header.split(',')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (k === 't' && /^\d+$/.test(v)) t = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v)) sigs.push(v);
  }
  if (t == null || sigs.length === 0) throw new WebhookSignatureError('malformed Bankfeed-Signature header');
  const now = o.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (o.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) {
    throw new WebhookSignatureError(`timestamp ${t} is outside the tolerance`);
  }
  const want = Buffer.from(createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex'));
  if (!sigs.some((s) => timingSafeEqual(Buffer.from(s), want))) {
    throw new WebhookSignatureError('signature does not match');
  }
}

/** True when header signs body with secret within the tolerance. */
export function verifyWebhookSignature(secret: string, header: string | null | undefined, body: string | Uint8Array, o: VerifyOptions = {}): boolean {
  try {
    assertWebhookSignature(secret, header, body, o);
    return true;
  } catch (e) {
    if (e instanceof WebhookSignatureError) return false;
    throw e;
  }
}

/** Verifies a delivery and parses its event; throws WebhookSignatureError when it is not bankfeed's. */
export function parseWebhookEvent<T = Record<string, unknown>>(secret: string, header: string | null | undefined, body: string | Uint8Array, o: VerifyOptions = {}): WebhookEvent<T> {
  assertWebhookSignature(secret, header, body, o);
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  return JSON.parse(text) as WebhookEvent<T>;
}
