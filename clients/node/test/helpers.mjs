// Starts the real bankfeed server for the tests, the way tests/harness.c
// does: `bankfeed serve --listen 127.0.0.1:0` in a fresh temporary data dir,
// the port read from its "listening on" line, clients made with the
// `bankfeed clients create` CLI.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:http';
import { Bankfeed } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '../../..');
export const BIN = process.env.BANKFEED_BIN ?? join(REPO, 'build/bankfeed');

/** A running server: url, newClient(), stop(). */
export async function startServer(env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'bankfeed-client-test-'));
  const data = join(dir, 'data');
  const log = openSync(join(dir, 'server.log'), 'a');
  const proc = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', data], {
    env: { ...process.env, BANKFEED_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', log],
  });
  const port = await new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`server did not start; log ${dir}/server.log`)), 10000);
    proc.stdout.on('data', (b) => {
      out += b;
      const m = /listening on http:\/\/[^\s]*:(\d+)/.exec(out);
      if (m) { clearTimeout(timer); ok(Number(m[1])); }
    });
    proc.on('exit', (c) => { clearTimeout(timer); fail(new Error(`server exited ${c}; log ${dir}/server.log`)); });
  });
  proc.stdout.resume();
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    dir,
    /** A new API client of this server (CLI), as { clientId, clientSecret }. */
    credentials() {
      const out = execFileSync(BIN, ['clients', 'create', '--name', 'client-test', '--data-dir', data], { encoding: 'utf8' });
      return {
        clientId: /client_id:\s*(\S+)/.exec(out)[1],
        clientSecret: /client_secret:\s*(\S+)/.exec(out)[1],
      };
    },
    /** A Bankfeed of a new API client; options add to or replace the defaults. */
    client(options = {}) {
      return new Bankfeed({ baseUrl: url, ...this.credentials(), ...options });
    },
    async stop() {
      if (proc.exitCode == null) {
        proc.kill('SIGTERM');
        await new Promise((ok) => proc.once('exit', ok));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A local HTTP receiver of webhook deliveries: url, deliveries[], waitFor(pred), close(). */
export async function startReceiver() {
  const deliveries = [];
  const waiters = [];
  const srv = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const d = { headers: req.headers, body: Buffer.concat(chunks), path: req.url };
      deliveries.push(d);
      res.writeHead(204).end();
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise((ok) => srv.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${srv.address().port}/hooks/bankfeed`,
    deliveries,
    async waitFor(pred, ms = 20000) {
      const end = Date.now() + ms;
      for (;;) {
        const d = deliveries.find(pred);
        if (d) return d;
        if (Date.now() > end) throw new Error(`no such delivery within ${ms} ms; got ${deliveries.length}`);
        await new Promise((ok) => { waiters.push(ok); setTimeout(ok, 200); });
      }
    },
    close: () => new Promise((ok) => { srv.closeAllConnections?.(); srv.close(ok); }),
  };
}

/** A user with an authorized sandbox connection (username given); { user, connection }. */
export async function linkedUser(bf, username = 'user_good') {
  const user = await bf.createUser({});
  const { connection, session } = await bf.createConnection({
    user_id: user.id, institution_id: 'sandbox',
    credentials: { username, password: 'pass_good' },
  });
  if (session.status !== 'authorized') throw new Error(`${username}: session ${session.status}`);
  return { user, connection };
}
