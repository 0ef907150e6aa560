// Every route of the API once at least, through the library, against the
// real server on loopback: typed answers, typed errors, cursor pages and the
// incremental feed as async iterators, statements, webhooks delivered to a
// local receiver and verified, and Connect tokens when the server has them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as lib from '../dist/index.js';
import { startServer, startReceiver, linkedUser, REPO } from './helpers.mjs';

let srv;
let bf;
const METRICS_TOKEN = 'metrics-token-for-the-client-tests';

before(async () => {
  srv = await startServer({ BANKFEED_METRICS_TOKEN: METRICS_TOKEN });
  bf = srv.client({ metricsToken: METRICS_TOKEN });
});
after(async () => { await srv?.stop(); });

test('meta: health, metrics, the error catalog, a token of its own', async () => {
  const h = await bf.getHealth();
  assert.equal(h.status, 'ok');
  assert.equal(typeof h.version, 'string');
  assert.match(await bf.getMetrics(), /bankfeed_http_requests_total/);
  const cat = await bf.listErrors();
  assert.equal(cat.next_cursor, null);
  assert.ok(cat.data.some((e) => e.code === 1008 && e.name === 'RESOURCE_BUSY' && e.http_status === 423));
  const t = await bf.createToken();
  assert.equal(t.token_type, 'Bearer');
  assert.ok(t.expires_in > 0);
});

test('institutions: list, filter, get; unknown id is EntityNotFoundError', async () => {
  const all = await bf.listInstitutions();
  assert.ok(all.data.some((i) => i.id === 'sandbox'));
  const q = await bf.listInstitutions({ q: 'sandbox', country: 'de' });
  assert.ok(q.data.every((i) => i.country === 'DE'));
  const s = await bf.getInstitution('sandbox');
  assert.equal(s.id, 'sandbox');
  await assert.rejects(bf.getInstitution('no_such_bank'), (e) => {
    assert.ok(e instanceof lib.EntityNotFoundError);
    assert.ok(e instanceof lib.ClientError);
    assert.equal(e.code, 1002);
    assert.equal(e.errorName, 'ENTITY_NOT_FOUND');
    assert.equal(e.status, 404);
    assert.match(e.requestId, /\S/);
    return true;
  });
});

test('users: create, get, list page by page, delete; typed validation and conflict errors', async () => {
  const ref = `ref-${Date.now()}`;
  const made = [];
  for (let i = 0; i < 5; i++) made.push(await bf.createUser({ external_ref: `${ref}-${i}` }));
  assert.equal((await bf.getUser(made[0].id)).external_ref, `${ref}-0`);
  assert.deepEqual((await bf.listUsers({ external_ref: `${ref}-3` })).data.map((u) => u.id), [made[3].id]);

  const first = await bf.listUsers({ limit: 2 });
  assert.equal(first.data.length, 2);
  assert.notEqual(first.next_cursor, null);
  const seen = [];
  for await (const u of bf.iterateUsers({ limit: 2 })) seen.push(u.id);
  assert.equal(new Set(seen).size, seen.length, 'no user twice');
  for (const u of made) assert.ok(seen.includes(u.id));

  await assert.rejects(bf.createUser({ external_ref: `${ref}-0` }), lib.EntryAlreadyExistsError);
  await assert.rejects(bf.createUser({ external_ref: 5 }), (e) => {
    assert.ok(e instanceof lib.InvalidRequestError);
    assert.ok(Array.isArray(e.data.external_ref));
    return true;
  });
  await bf.deleteUser(made[4].id);
  await assert.rejects(bf.getUser(made[4].id), lib.EntityNotFoundError);
});

test('an explicit Idempotency-Key replays the first answer', async () => {
  const key = `idem-${Date.now()}`;
  const a = await bf.createUser({ external_ref: key }, { idempotencyKey: key });
  const b = await bf.createUser({ external_ref: key }, { idempotencyKey: key });
  assert.equal(b.id, a.id);
  await assert.rejects(bf.createUser({ external_ref: key + 'x' }, { idempotencyKey: key }), lib.IdempotencyKeyReusedError);
});

test('connections, sessions with challenges, sync, tasks, accounts, transactions', async () => {
  const user = await bf.createUser({});
  const created = await bf.createConnection({
    user_id: user.id, institution_id: 'sandbox',
    credentials: { username: 'user_mfa_question', password: 'pass_good' },
  });
  const { connection, session } = created;
  assert.equal(session.status, 'challenge_required');
  assert.equal(session.challenges[0].key, 'sq_car_colour');
  assert.equal((await bf.getSession(session.id)).id, session.id);
  await assert.rejects(bf.syncConnection(connection.id, { wait_seconds: 0 }), lib.ConnectionNotAuthorizedError);
  await assert.rejects(bf.answerSession(session.id, { nope: 'blue' }), lib.UnknownChallengeKeyError);
  const done = await bf.answerSession(session.id, { sq_car_colour: 'blue' });
  assert.equal(done.status, 'authorized');
  await assert.rejects(bf.answerSession(session.id, { sq_car_colour: 'blue' }), lib.AlreadyAuthorizedError);

  // A second authorization of the same connection.
  const again = await bf.createSession(connection.id, { credentials: { username: 'user_mfa_question', password: 'pass_good' } });
  assert.equal(again.status, 'challenge_required');
  assert.equal((await bf.answerSession(again.id, { sq_car_colour: 'blue' })).status, 'authorized');

  const task = await bf.syncConnection(connection.id, {}, { psuIpAddress: '203.0.113.7' });
  assert.equal(task.status, 'completed');
  assert.equal(task.kind, 'sync');
  assert.equal((await bf.getTask(task.id)).id, task.id);
  assert.equal((await bf.getConnection(connection.id)).status, 'authorized');
  assert.ok((await bf.listConnections({ user_id: user.id })).data.some((c) => c.id === connection.id));
  const conns = [];
  for await (const c of bf.iterateConnections({ user_id: user.id, limit: 1 })) conns.push(c.id);
  assert.deepEqual(conns, [connection.id]);

  const accounts = [];
  for await (const a of bf.iterateAccounts({ connection_id: connection.id, limit: 1 })) accounts.push(a);
  assert.equal(accounts.length, 2);
  assert.deepEqual((await bf.listAccounts({ user_id: user.id })).data.map((a) => a.id).sort(), accounts.map((a) => a.id).sort());
  const checking = accounts.find((a) => a.type === 'checking');
  assert.equal((await bf.getAccount(checking.id)).iban, checking.iban);

  // Every transaction once, 50 at a time, the same as the pages say.
  const pages = [];
  let cursor = null;
  do {
    const p = await bf.listTransactions(checking.id, { limit: 50, cursor });
    pages.push(...p.data.map((t) => t.id));
    cursor = p.next_cursor;
  } while (cursor);
  const iterated = [];
  for await (const t of bf.iterateTransactions(checking.id, { limit: 50 })) {
    assert.match(t.amount, /^-?\d+\.\d\d$/);
    iterated.push(t.id);
  }
  assert.ok(iterated.length > 50, `a real history: ${iterated.length}`);
  assert.deepEqual(iterated, pages);
  assert.equal(new Set(iterated).size, iterated.length);
  const booked = await bf.listTransactions(checking.id, { status: 'booked', limit: 5 });
  assert.ok(booked.data.every((t) => t.status === 'booked'));

  // The incremental feed: everything at first, then nothing new.
  const added = new Set();
  let last = null;
  let n = 0;
  for await (const page of bf.iterateTransactionsSync({ connection_id: connection.id, limit: 100 })) {
    page.added.forEach((t) => added.add(t.id));
    last = page;
    n++;
  }
  assert.ok(n > 1, 'more than one page of 100');
  assert.equal(last.has_more, false);
  const all = [];
  for (const a of accounts) for await (const t of bf.iterateTransactions(a.id)) all.push(t.id);
  assert.deepEqual([...added].sort(), all.sort());
  const none = [];
  for await (const page of bf.iterateTransactionsSync({ connection_id: connection.id, cursor: last.next_cursor })) none.push(...page.added);
  assert.deepEqual(none, []);

  await bf.deleteConnection(connection.id);
  await assert.rejects(bf.getConnection(connection.id), lib.EntityNotFoundError);
});

test('bank errors are typed, with the bank message', async () => {
  const user = await bf.createUser({});
  await assert.rejects(bf.createConnection({
    user_id: user.id, institution_id: 'sandbox',
    credentials: { username: 'user_online_access_blocked', password: 'pass_good' },
  }), (e) => {
    assert.ok(e instanceof lib.OnlineAccessBlockedError);
    assert.ok(e instanceof lib.UserError);
    assert.equal(e.code, 10002);
    assert.equal(e.group, 'user');
    assert.match(e.bankMessage, /blocked/);
    return true;
  });
  // A catalog name's alias leads to the same class.
  assert.equal(lib.ERRORS_BY_NAME.get('DISABLED_LOGIN'), lib.OnlineAccessBlockedError);
});

test('statements: an MT940 file imports; a broken file is StatementRejectedError', async () => {
  const user = await bf.createUser({});
  const file = readFileSync(join(REPO, 'tests/data/statements/mt940/german_sepa_latin1.sta'));
  const task = await bf.importStatement(user.id, file, { filename: 'german.sta', format: 'mt940', contentType: 'text/plain' });
  assert.equal(task.kind, 'import');
  assert.equal(task.status, 'completed');
  assert.ok(task.result.transactions_added > 0);
  const accounts = await bf.listAccounts({ user_id: user.id });
  assert.ok(accounts.data.length >= 1);
  await assert.rejects(bf.importStatement(user.id, 'this is no statement', { filename: 'x.txt' }), lib.StatementRejectedError);
});

test('xs2a callback: a state the server did not give is InvalidRequestError', async () => {
  await assert.rejects(bf.xs2aCallback({ state: 'not-a-state' }), (e) => {
    assert.ok(e instanceof lib.InvalidRequestError);
    assert.ok('state' in e.data);
    return true;
  });
});

test('webhooks: set, read, a real delivery verified, delete', async () => {
  const rx = await startReceiver();
  try {
    const hooked = srv.client();
    const secret = 'client-test-secret-0123456789';
    const w = await hooked.putWebhook({ url: rx.url, secret });
    assert.equal(w.url, rx.url);
    assert.equal((await hooked.getWebhook()).url, rx.url);
    const { connection } = await linkedUser(hooked);
    const task = await hooked.syncConnection(connection.id, {}, { psuIpAddress: '203.0.113.7' });
    const d = await rx.waitFor((x) => x.headers['bankfeed-event-type'] === 'task.completed');
    const sig = d.headers['bankfeed-signature'];
    assert.match(sig, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.equal(lib.verifyWebhookSignature(secret, sig, d.body), true);
    const ev = lib.parseWebhookEvent(secret, sig, d.body);
    assert.equal(ev.type, 'task.completed');
    assert.equal(ev.data.id, task.id);
    assert.equal(ev.id, d.headers['bankfeed-event-id']);
    // A changed body, another secret, an old or future timestamp: refused.
    const tampered = Buffer.from(d.body.toString().replace('completed', 'failed'));
    assert.equal(lib.verifyWebhookSignature(secret, sig, tampered), false);
    assert.equal(lib.verifyWebhookSignature('another-secret-0123456789', sig, d.body), false);
    const t = Number(/t=(\d+)/.exec(sig)[1]);
    assert.equal(lib.verifyWebhookSignature(secret, sig, d.body, { now: t + 301 }), false);
    assert.equal(lib.verifyWebhookSignature(secret, sig, d.body, { now: t - 301 }), false);
    assert.equal(lib.verifyWebhookSignature(secret, sig, d.body, { now: t + 299 }), true);
    assert.equal(lib.verifyWebhookSignature(secret, undefined, d.body), false);
    assert.throws(() => lib.parseWebhookEvent(secret, sig, tampered), lib.WebhookSignatureError);
    // The library's own signature is the server's.
    assert.equal(lib.signWebhook(secret, d.body, t), sig);
    await hooked.deleteWebhook();
    await assert.rejects(hooked.getWebhook(), lib.EntityNotFoundError);
  } finally {
    await rx.close();
  }
});

test('connect tokens (POST /v1/connect_tokens), when the server has the route', async (t) => {
  const user = await bf.createUser({});
  let tok;
  try {
    tok = await bf.createConnectToken({ user_id: user.id, redirect_uri: 'https://app.example.com/done', institutions: ['sandbox'], language: 'en' });
  } catch (e) {
    if (e instanceof lib.EntityNotFoundError && e.status === 404) {
      t.skip('this server has no POST /v1/connect_tokens yet (404 ENTITY_NOT_FOUND)');
      return;
    }
    throw e;
  }
  assert.equal(typeof tok.connect_token, 'string');
  assert.ok(tok.connect_token.length > 0);
  assert.ok(tok.url.includes(tok.connect_token));
  assert.equal(tok.user_id, user.id);
  assert.ok(Date.parse(tok.expires_at) > Date.now());
  // Typed errors as for any route: a user that is not the client's.
  await assert.rejects(bf.createConnectToken({ user_id: 'usr_doesnotexist' }), lib.EntityNotFoundError);
});
