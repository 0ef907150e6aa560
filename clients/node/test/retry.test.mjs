// Token renewal and retries against the real server: tokens that expire in
// 2 s (BANKFEED_TOKEN_TTL_SECONDS), a rate limit of 2 requests a second
// (BANKFEED_RATE_LIMIT, real 429 TOO_MANY_REQUESTS), the PSD2 limit of 4
// unattended syncs (429 with a Retry-After of hours: not waited for), real 503
// SERVICE_UNAVAILABLE (token requests while the one secret check allowed
// runs: BANKFEED_OAUTH_MAX_HASHES=1), and real 423 RESOURCE_BUSY answers: a POST repeated with its Idempotency-Key while
// the first still runs, and deleting a connection while its sync runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from '../dist/index.js';
import { startServer, linkedUser } from './helpers.mjs';

let limited;   // tokens of 2 s, 2 requests a second
let slow;      // user_slow syncs take 1.5 s; one client secret checked at a time
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

before(async () => {
  [limited, slow] = await Promise.all([
    startServer({ BANKFEED_TOKEN_TTL_SECONDS: '2', BANKFEED_RATE_LIMIT: '2', BANKFEED_RATE_BURST: '3' }),
    startServer({ BANKFEED_SANDBOX_SLOW_MS: '1500', BANKFEED_OAUTH_MAX_HASHES: '1' }),
  ]);
});
after(async () => { await Promise.all([limited?.stop(), slow?.stop()]); });

/** A fetch that records every attempt: method, path, Idempotency-Key, status. */
function recording() {
  const log = [];
  const f = async (url, init) => {
    const res = await fetch(url, init);
    log.push({ method: init.method, path: new URL(url).pathname, key: new Headers(init.headers).get('idempotency-key'), status: res.status });
    return res;
  };
  return { log, fetch: f };
}

test('a token is renewed before it expires, without a 401', async () => {
  const tokens = [];
  const rec = recording();
  const bf = limited.client({ onToken: (t) => tokens.push(t), fetch: rec.fetch });
  await bf.getInstitution('sandbox');
  assert.deepEqual(tokens.map((t) => t.reason), ['initial']);
  assert.equal(tokens[0].expiresIn, 2);
  await sleep(1850);            // inside the last tenth of its 2 s: renewed first
  await bf.getInstitution('sandbox');
  assert.deepEqual(tokens.map((t) => t.reason), ['initial', 'expiring']);
  assert.equal(rec.log.filter((r) => r.status === 401).length, 0);
});

test('an expired token the client still trusted is renewed once on the 401', async () => {
  const tokens = [];
  const rec = recording();
  const bf = limited.client({ onToken: (t) => tokens.push(t), fetch: rec.fetch, renewMarginSeconds: 0 });
  const t = await bf.createToken();
  bf.setAccessToken(t.access_token, 3600);   // the client believes it lasts an hour
  await sleep(2200);                          // the server let it expire after 2 s
  const inst = await bf.getInstitution('sandbox');
  assert.equal(inst.id, 'sandbox');
  assert.deepEqual(tokens.map((x) => x.reason), ['rejected']);
  assert.deepEqual(rec.log.filter((r) => r.path === '/v1/institutions/sandbox').map((r) => r.status), [401, 200]);
});

test('wrong client credentials are InvalidClientAuthorizationError, asked once', async () => {
  const rec = recording();
  const bf = new lib.Bankfeed({ baseUrl: limited.url, clientId: limited.credentials().clientId, clientSecret: 'bfs_wrong', fetch: rec.fetch });
  await assert.rejects(bf.getInstitution('sandbox'), (e) => {
    assert.ok(e instanceof lib.InvalidClientAuthorizationError, String(e) + e.stack);
    assert.equal(e.status, 401);
    return true;
  });
  assert.deepEqual(rec.log.map((r) => r.path), ['/oauth/token']);
});

test('429 TOO_MANY_REQUESTS is retried after Retry-After, each POST with one key', async () => {
  const retries = [];
  const rec = recording();
  const bf = limited.client({ onRetry: (r) => retries.push(r), fetch: rec.fetch });
  const refs = Array.from({ length: 7 }, (_, i) => `rl-${Date.now()}-${i}`);
  const users = await Promise.all(refs.map((external_ref) => bf.createUser({ external_ref })));
  assert.deepEqual(users.map((u) => u.external_ref), refs);
  const r429 = retries.filter((r) => r.status === 429);
  assert.ok(r429.length > 0, 'the rate limit answered 429');
  for (const r of r429) {
    assert.equal(r.code, 1055);
    assert.ok(r.retryAfter >= 1);
    assert.ok(r.waitMs >= r.retryAfter * 1000, 'never sooner than Retry-After');
    assert.ok(r.idempotencyKey);
  }
  // Seven calls, seven keys; every attempt of a call sent its key, and a
  // call's only success is its last attempt.  (Tokens last 2 s here: an
  // attempt may meet 401 and be sent again with a new token.)
  const posts = rec.log.filter((r) => r.path === '/v1/users' && r.status !== 401);
  const byKey = new Map();
  for (const p of posts) byKey.set(p.key, [...(byKey.get(p.key) ?? []), p]);
  assert.equal(byKey.size, 7);
  for (const attempts of byKey.values()) {
    assert.deepEqual(attempts.map((a) => a.status), [...attempts.slice(1).map(() => 429), 201]);
  }
  // One user for each call, none twice.
  for (const ref of refs) assert.equal((await bf.listUsers({ external_ref: ref })).data.length, 1);
});

test('429 without retries left is TooManyRequestsError with its Retry-After', async () => {
  const bf = limited.client({ maxRetries: 0 });
  const results = await Promise.allSettled(Array.from({ length: 8 }, () => bf.getInstitution('sandbox')));
  const refused = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
  assert.ok(refused.length > 0);
  for (const e of refused) {
    assert.ok(e instanceof lib.TooManyRequestsError, String(e));
    assert.equal(e.status, 429);
    assert.ok(e.retryAfter >= 1);
  }
});

test('503 SERVICE_UNAVAILABLE: token requests while the secret check is busy are retried', async () => {
  const retries = [];
  const clients = Array.from({ length: 4 }, () => slow.client({ onRetry: (r) => retries.push(r) }));
  const answers = await Promise.all(clients.map((c) => c.getInstitution('sandbox')));
  assert.ok(answers.every((a) => a.id === 'sandbox'));
  const busy = retries.filter((r) => r.status === 503);
  assert.ok(busy.length > 0, 'the one check was busy');
  for (const r of busy) {
    assert.equal(r.op, 'createToken');
    assert.equal(r.code, 30006);
    assert.ok(r.waitMs >= r.retryAfter * 1000);
  }
});

test('429 API_USAGE_LIMIT_REACHED (PSD2, Retry-After in hours) is thrown at once', async () => {
  const retries = [];
  const bf = slow.client({ onRetry: (r) => retries.push(r) });
  const { connection } = await linkedUser(bf, 'user_good');
  for (let i = 0; i < 4; i++) assert.equal((await bf.syncConnection(connection.id)).status, 'completed');
  const t0 = Date.now();
  await assert.rejects(bf.syncConnection(connection.id), (e) => {
    assert.ok(e instanceof lib.ApiUsageLimitReachedError);
    assert.equal(e.status, 429);
    assert.ok(e.retryAfter > 3600, `Retry-After ${e.retryAfter}`);
    return true;
  });
  assert.ok(Date.now() - t0 < 2000, 'not waited for');
  assert.deepEqual(retries, []);
});

test('423 RESOURCE_BUSY: a POST repeated with its key while the first runs gets the first answer', async () => {
  const retries = [];
  const bf = slow.client({ onRetry: (r) => retries.push(r) });
  const { connection } = await linkedUser(bf, 'user_slow');
  const key = `sync-${Date.now()}`;
  const first = bf.syncConnection(connection.id, { wait_seconds: 30 }, { idempotencyKey: key, psuIpAddress: '203.0.113.7' });
  await sleep(200);
  const second = bf.syncConnection(connection.id, { wait_seconds: 30 }, { idempotencyKey: key, psuIpAddress: '203.0.113.7' });
  const [a, b] = await Promise.all([first, second]);
  assert.equal(a.status, 'completed');
  assert.equal(b.id, a.id);
  const busy = retries.filter((r) => r.status === 423);
  assert.ok(busy.length > 0, 'the repeat met 423');
  for (const r of busy) {
    assert.equal(r.code, 1008);
    assert.equal(r.idempotencyKey, key);
    assert.ok(r.waitMs >= 1000);
  }
});

test('423 RESOURCE_BUSY: deleting a connection while it syncs', async () => {
  const creds = { baseUrl: slow.url, ...slow.credentials() };
  const bf = new lib.Bankfeed(creds);
  const { connection } = await linkedUser(bf, 'user_slow');
  const task = await bf.syncConnection(connection.id, { wait_seconds: 0 }, { psuIpAddress: '203.0.113.7' });
  assert.equal(task.dispatched, true);
  const impatient = new lib.Bankfeed({ ...creds, maxRetries: 0 });
  await assert.rejects(impatient.deleteConnection(connection.id), (e) => {
    assert.ok(e instanceof lib.ResourceBusyError, String(e) + e.stack);
    assert.ok(e instanceof lib.ClientError);
    assert.equal(e.status, 423);
    assert.equal(e.code, 1008);
    assert.ok(e.retryAfter >= 1);
    assert.match(e.requestId, /\S/);
    return true;
  });
  // The patient client waits Retry-After and deletes it once the sync ended.
  const retries = [];
  const patient = new lib.Bankfeed({ ...creds, onRetry: (r) => retries.push(r) });
  const t0 = Date.now();
  await patient.deleteConnection(connection.id);
  const busy = retries.filter((r) => r.status === 423);
  assert.ok(busy.length > 0);
  assert.ok(Date.now() - t0 >= busy[0].retryAfter * 1000, 'waited Retry-After');
  await assert.rejects(bf.getConnection(connection.id), lib.EntityNotFoundError);
});

test('waitForTask follows a dispatched sync to its end', async () => {
  const bf = slow.client();
  const { connection } = await linkedUser(bf, 'user_slow');
  const task = await bf.syncConnection(connection.id, { wait_seconds: 0 }, { psuIpAddress: '203.0.113.7' });
  assert.equal(task.dispatched, true);
  const done = await bf.waitForTask(task.id, { intervalMs: 200 });
  assert.equal(done.status, 'completed');
  assert.ok(done.result.transactions_added > 0);
  await assert.rejects(bf.waitForTask((await bf.syncConnection(connection.id, { wait_seconds: 0 }, { psuIpAddress: '203.0.113.7' })).id, { intervalMs: 100, timeoutMs: 300 }),
    (e) => e.name === 'TimeoutError');
});

test('the backoff grows and keeps to its jitter band without Retry-After', async () => {
  // A server that is not there: connection refused, retried with backoff.
  const waits = [];
  const bf = new lib.Bankfeed({ baseUrl: 'http://127.0.0.1:9', accessToken: 'x', maxRetries: 3, retryBaseMs: 20, onRetry: (r) => waits.push(r.waitMs) });
  await assert.rejects(bf.getHealth(), lib.BankfeedConnectionError);
  assert.equal(waits.length, 3);
  waits.forEach((w, i) => assert.ok(w >= 10 * 2 ** i && w <= 20 * 2 ** i, `retry ${i + 1}: ${w} ms`));
});

test('Retry-After in seconds or as an HTTP date; an unknown code falls back to its group', () => {
  assert.equal(lib.parseRetryAfter('5'), 5);
  assert.equal(lib.parseRetryAfter(null), null);
  assert.equal(lib.parseRetryAfter('soon'), null);
  assert.equal(lib.parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 0), 10);
  assert.equal(lib.errorClassFor({ code: 1008 }), lib.ResourceBusyError);
  assert.equal(lib.errorClassFor({ code: 29999, name: 'SOMETHING_NEW', group: 'bank' }), lib.BankError);
  assert.equal(lib.errorClassFor({ code: 99999, name: 'X', group: 'x' }), lib.BankfeedError);
});
