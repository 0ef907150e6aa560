// The library against docs/openapi.yaml and the server's error catalog: every
// route (method + path) of the document has its entry in ROUTES and its
// method on Bankfeed, every query parameter and header its place, every field
// of a request or response schema its place in MODEL_FIELDS; and the error
// classes are those `bankfeed errors --json` lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { specSummary } from '../scripts/spec-summary.mjs';
import { catalogOf, className } from '../scripts/gen-errors.mjs';
import * as lib from '../dist/index.js';
import { BIN, REPO } from './helpers.mjs';

const spec = specSummary(process.env.BANKFEED_OPENAPI ?? join(REPO, 'docs/openapi.yaml'));
const key = (r) => `${r.method} ${r.path}`;
const GENERIC_HEADERS = new Set(['X-Request-Id']);

/** The schema names a schema's fields lead to (one level: $ref and array items are in the summary's schemas). */
function missingFields(specName, libName, where) {
  const s = spec.schemas[specName];
  if (!s) return [];
  const have = lib.MODEL_FIELDS[libName];
  if (!have) return [`${where}: no MODEL_FIELDS.${libName} for the schema ${specName}`];
  return s.fields.filter((f) => !have.includes(f)).map((f) => `${where}: ${specName}.${f} has no counterpart in MODEL_FIELDS.${libName}`);
}

test('every route of docs/openapi.yaml has its entry, method, parameters and fields', () => {
  const problems = [];
  const byKey = new Map(lib.ROUTES.map((r) => [key(r), r]));
  const proto = lib.Bankfeed.prototype;
  for (const r of spec.routes) {
    const mine = byKey.get(key(r));
    if (!mine) { problems.push(`${key(r)} (${r.operation_id}): no entry in ROUTES`); continue; }
    if (mine.op !== r.operation_id) problems.push(`${key(r)}: ROUTES calls it ${mine.op}, the spec ${r.operation_id}`);
    if (typeof proto[r.operation_id] !== 'function') problems.push(`${key(r)}: Bankfeed has no method ${r.operation_id}`);
    for (const q of r.query) if (!mine.query.includes(q)) problems.push(`${key(r)}: query parameter ${q} missing`);
    for (const h of r.headers) if (!GENERIC_HEADERS.has(h) && !mine.headers.includes(h)) problems.push(`${key(r)}: header ${h} missing`);
    if (r.request.schema) problems.push(...missingFields(r.request.schema, mine.request ?? '-', key(r) + ' request'));
    for (const f of r.request.fields) {
      if (!(lib.MODEL_FIELDS[mine.request] ?? []).includes(f)) problems.push(`${key(r)} request: field ${f} missing`);
    }
    for (const resp of r.responses) {
      if (resp.schema) problems.push(...missingFields(resp.schema, mine.response ?? '-', `${key(r)} ${resp.status}`));
    }
  }
  // Every schema with properties, also those only reached through others
  // (Session inside ConnectionCreated, Balance inside Account...).
  for (const name of Object.keys(spec.schemas)) {
    if (/Event$/.test(name) && name !== 'WebhookEvent') continue;   // allOf of WebhookEvent
    problems.push(...missingFields(name, name, 'schema'));
  }
  assert.deepEqual(problems, []);
});

test('ROUTES has nothing the spec lacks, except the routes marked pending', (t) => {
  const inSpec = new Set(spec.routes.map(key));
  const extra = lib.ROUTES.filter((r) => !inSpec.has(key(r)));
  assert.deepEqual(extra.filter((r) => !r.pending).map(key), []);
  for (const r of extra) t.diagnostic(`${key(r)} (${r.op}) is not in docs/openapi.yaml yet: pending`);
  // A pending route that reached the spec is checked like the others by the
  // test above; only its mark is left to drop.
  for (const r of lib.ROUTES.filter((x) => x.pending && inSpec.has(key(x)))) {
    t.diagnostic(`${key(r)} is in docs/openapi.yaml now: drop its pending mark`);
  }
});

test('the webhook event types of the spec are those the library names', () => {
  assert.deepEqual([...spec.webhooks].sort(), [...lib.WEBHOOK_EVENT_TYPES].sort());
});

const REGEN = 'regenerate them: node clients/node/scripts/gen-errors.mjs build/bankfeed';

test('the error classes are the catalog of the server (bankfeed errors --json)', () => {
  const entries = catalogOf(BIN);
  for (const e of entries) {
    const Cls = lib[className(e.name)];
    assert.ok(Cls, `no class for ${e.name}: ${REGEN}`);
    assert.equal(Cls.CODE, e.code);
    assert.equal(Cls.NAME, e.name);
    assert.equal(Cls.HTTP_STATUS, e.http_status);
    assert.equal(Cls.RETRYABLE, e.retryable);
    assert.deepEqual([...Cls.ALIASES], e.aliases);
    assert.ok(Cls.prototype instanceof lib[e.group[0].toUpperCase() + e.group.slice(1) + 'Error']);
    for (const a of e.aliases) assert.equal(lib.ERRORS_BY_NAME.get(a), Cls);
  }
  assert.equal(lib.ERRORS_BY_CODE.size, entries.length, REGEN);
  // Both generated files, byte for byte.
  execFileSync(process.execPath, [join(REPO, 'clients/node/scripts/gen-errors.mjs'), BIN, '--check'], { stdio: 'inherit' });
});
