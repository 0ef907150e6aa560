// Drives the Connect page and the dashboard in Chromium (Playwright), against
// the real bankfeed server started here on loopback (and `bankfeed
// sandbox-bank` for the banks that confirm on their own page or app).
//
//   node tests/browser/run.mjs [path/to/bankfeed] [screenshot dir]
//
// Every step is checked with axe-core (no serious or critical violation),
// watched for CSP violations and for requests that leave the server, and
// saved as a screenshot (default build/screenshots/).  Exit 0 when every
// flow passed.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const BIN = resolve(process.argv[2] || process.env.BANKFEED_BIN || join(root, 'build/bankfeed'));
const SHOTS = resolve(process.argv[3] || process.env.BANKFEED_SCREENSHOTS || join(root, 'build/screenshots'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const axeSource = readFileSync(join(here, 'node_modules/axe-core/axe.min.js'), 'utf8');

const procs = [];
const dirs = [];
let failures = 0;
let passed = 0;

// Starts `bankfeed ARGS`; resolves with its base URL and its stdout so far.
function start(args, env = {}) {
  return new Promise((ok, fail) => {
    const p = spawn(BIN, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(p);
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error(`${args[0]} did not start: ${err}`)), 15000);
    p.stderr.on('data', (d) => { err += d; });
    p.stderrText = () => err;
    p.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[0-9.]+:\d+)/);
      const ready = args.includes('--demo') ? /client_secret: +\S+/.test(out) : true;
      if (m && ready) {
        clearTimeout(timer);
        ok({ base: m[1], out: () => out, proc: p });
      }
    });
    p.on('exit', (code) => fail(new Error(`${args[0]} exited ${code}: ${err}`)));
  });
}

async function server(env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'bf-browser-'));
  dirs.push(dir);
  const s = await start(['serve', '--demo', '--listen', '127.0.0.1:0', '--data-dir', dir], env);
  const out = s.out();
  s.dataDir = dir;
  s.clientId = out.match(/client_id: +(\S+)/)[1];
  s.clientSecret = out.match(/client_secret: +(\S+)/)[1];
  const t = await fetch(`${s.base}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: s.clientId, client_secret: s.clientSecret }),
  });
  s.token = (await t.json()).access_token;
  return s;
}

async function api(s, method, path, body) {
  const r = await fetch(`${s.base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

// A Connect link for a new user of s's client.
async function link(s, extra = {}) {
  const u = await api(s, 'POST', '/v1/users', {});
  const t = await api(s, 'POST', '/v1/connect_tokens', { user_id: u.json.id, ...extra });
  if (t.status !== 201) throw new Error(`connect token: ${JSON.stringify(t.json)}`);
  return { url: `${s.base}${t.json.url}`, userId: u.json.id };
}

function check(cond, what) {
  if (!cond) throw new Error(what);
}

// A page of a flow: watches CSP reports and requests to other origins.
async function newPage(browser, base, options = {}) {
  const context = await browser.newContext({
    locale: options.locale || 'en-US',
    viewport: { width: options.width || 800, height: 900 },
    javaScriptEnabled: options.javaScript !== false,
  });
  const page = await context.newPage();
  const problems = [];
  const allowed = [new URL(base).origin, ...(options.origins || [])];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith('data:') && !allowed.some((o) => u.startsWith(o))) problems.push(`request to ${u}`);
  });
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  return { context, page, problems };
}

// Screenshot and accessibility check of the page as it is now.
async function look(t, name) {
  const { page, problems, flow } = t;
  t.n = (t.n || 0) + 1;
  const file = join(SHOTS, `${flow}-${String(t.n).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  // Without scripts axe cannot run (and Chromium does not survive trying);
  // the same pages are checked by the flows with scripts.
  if (t.noScript) return;
  await page.evaluate(axeSource);
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  for (const v of res.violations) {
    if (v.impact === 'serious' || v.impact === 'critical') {
      problems.push(`axe ${v.impact} ${v.id} at ${name}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    }
  }
}

async function flow(browser, name, base, fn, options = {}) {
  const t = await newPage(browser, base, options);
  t.flow = name;
  t.noScript = options.javaScript === false;
  try {
    await fn(t);
    check(t.problems.length === 0, t.problems.join('\n  '));
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}\n  ${e.message.split('\n').join('\n  ')}`);
    await t.page.screenshot({ path: join(SHOTS, `${name}-FAILED.png`), fullPage: true }).catch(() => {});
  } finally {
    await t.context.close();
  }
}

// Bank, consent and credentials of the Connect page, by mouse.
async function signIn(t, url, bankName, username, password = 'pass_good') {
  const { page } = t;
  await page.goto(url);
  await page.waitForURL(/\/connect$/);
  await look(t, 'banks');
  await page.getByRole('button', { name: bankName, exact: true }).click();
  await page.getByRole('heading', { name: 'Allow access to your account data' }).waitFor();
  await look(t, 'consent');
  await page.getByRole('button', { name: 'Agree and continue' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await look(t, 'credentials');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('load');
}

async function expectConnected(t, s) {
  const { page } = t;
  await page.getByRole('heading', { name: 'Your account is connected' }).waitFor();
  await look(t, 'connected');
  const id = await page.locator('#done').getAttribute('data-connection-id');
  const c = await api(s, 'GET', `/v1/connections/${id}`);
  check(c.status === 200 && c.json.status === 'authorized', `connection ${id}: ${JSON.stringify(c.json)}`);
  return id;
}

async function expectError(t, name, words) {
  const { page } = t;
  const box = page.getByRole('alert');
  await box.waitFor();
  check((await box.getAttribute('data-error-name')) === name, `error ${await box.getAttribute('data-error-name')}, want ${name}`);
  check((await box.innerText()).includes(words), `no "${words}" in: ${await box.innerText()}`);
  await look(t, name.toLowerCase());
}

// Presses Tab until the element is focused (at most 40 times): keyboard use.
async function tabTo(page, locator) {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    if (await locator.evaluate((el) => el === document.activeElement)) return;
  }
  throw new Error(`cannot reach ${locator} with the keyboard`);
}

async function main() {
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  const bank = await start(['sandbox-bank', '--listen', '127.0.0.1:0']);
  // Webhook events are given up after 4 s (the dashboard's re-send of a
  // failed one goes out once those before it are done with).
  const s = await server({ BANKFEED_SANDBOX_XS2A_URL: bank.base, BANKFEED_WEBHOOK_MAX_AGE_SECONDS: '4', BANKFEED_WEBHOOK_RETRY_BASE_MS: '200' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const app = 'http://localhost:9/done';

  await flow(browser, 'no-challenge', s.base, async (t) => {
    const { url } = await link(s, { redirect_uri: app });
    await signIn(t, url, 'Sandbox Bank', 'user_good');
    const id = await expectConnected(t, s);
    const back = await t.page.locator('#back').getAttribute('href');
    check(back === `${app}?connection_id=${id}`, `back link ${back}`);
  });

  await flow(browser, 'question-keyboard-only', s.base, async (t) => {
    const { page } = t;
    const { url } = await link(s);
    await page.goto(url);
    await tabTo(page, page.getByLabel('Search for your bank by name'));
    await page.keyboard.type('sandbox bank');
    await page.keyboard.press('Enter');
    await page.waitForURL(/q=sandbox/);
    await look(t, 'search');
    await tabTo(page, page.getByRole('button', { name: 'Sandbox Bank', exact: true }));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Allow access to your account data' }).waitFor();
    await tabTo(page, page.getByRole('button', { name: 'Agree and continue' }));
    await page.keyboard.press('Enter');
    await page.getByLabel('Username').waitFor();
    await tabTo(page, page.getByLabel('Username'));
    await page.keyboard.type('user_mfa_question');
    await page.keyboard.press('Tab');
    await page.keyboard.type('pass_good');
    await page.keyboard.press('Enter');
    const q = page.getByLabel(/colour/i);
    await q.waitFor();
    await look(t, 'question');
    await tabTo(page, q);
    await page.keyboard.type('blue');
    await page.keyboard.press('Enter');
    await expectConnected(t, s);
  });

  await flow(browser, 'three-questions', s.base, async (t) => {
    const { page } = t;
    const { url } = await link(s);
    await signIn(t, url, 'Sandbox Bank', 'user_mfa_questions');
    const fields = page.locator('#challenge input[type=text]');
    check(await fields.count() === 3, `${await fields.count()} questions`);
    await look(t, 'questions');
    for (let i = 0; i < 3; i++) await fields.nth(i).fill('blue');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expectConnected(t, s);
  });

  await flow(browser, 'tan', s.base, async (t) => {
    const { page } = t;
    const { url } = await link(s, { redirect_uri: app });
    await signIn(t, url, 'Sandbox Bank', 'user_mfa_tan');
    await page.getByText('Enter the one-time code').waitFor();
    await look(t, 'tan');
    await page.locator('input[autocomplete=one-time-code]').fill('123456');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expectConnected(t, s);
  });

  await flow(browser, 'choice-then-tan', s.base, async (t) => {
    const { page } = t;
    const { url } = await link(s);
    await signIn(t, url, 'Sandbox Bank', 'user_mfa_choice');
    await page.getByRole('radio', { name: 'push' }).waitFor();
    await look(t, 'choice');
    await page.getByRole('radio', { name: 'push' }).check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('input[autocomplete=one-time-code]').fill('123456');
    await look(t, 'tan');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expectConnected(t, s);
  });

  await flow(browser, 'redirect', s.base, async (t) => {
    const { page, context } = t;
    const { url } = await link(s);
    await signIn(t, url, 'Sandbox Bank (XS2A)', 'user_sca_redirect');
    const open = page.getByRole('link', { name: "Open your bank's website" });
    await open.waitFor();
    await look(t, 'redirect');
    const [tab] = await Promise.all([context.waitForEvent('page'), open.click()]);
    await tab.waitForLoadState();
    await tab.locator('input[name=username]').fill('user_sca_redirect');
    await tab.locator('input[name=password]').fill('pass_good');
    await tab.locator('button[value=approve], input[value=approve]').first().click();
    await tab.locator('input[name=tan]').fill('123456');
    await tab.locator('button[value=approve], input[value=approve]').first().click();
    await tab.getByText('Access granted').waitFor();
    await tab.close();
    // The page saw it by itself (its script asks every few seconds).
    await expectConnected(t, s);
  }, { origins: [new URL(bank.base).origin] });

  // The same without scripts: forms alone, the button asks the bank.
  await flow(browser, 'redirect-without-script', s.base, async (t) => {
    const { page, context } = t;
    const { url } = await link(s);
    await signIn(t, url, 'Sandbox Bank (XS2A)', 'user_sca_redirect');
    const open = page.getByRole('link', { name: "Open your bank's website" });
    const [tab] = await Promise.all([context.waitForEvent('page'), open.click()]);
    await tab.waitForLoadState();
    await tab.locator('input[name=username]').fill('user_sca_redirect');
    await tab.locator('input[name=password]').fill('pass_good');
    await tab.locator('button[value=approve], input[value=approve]').first().click();
    await tab.locator('input[name=tan]').fill('123456');
    await tab.locator('button[value=approve], input[value=approve]').first().click();
    await tab.getByText('Access granted').waitFor();
    await tab.close();
    await page.getByRole('button', { name: 'I have confirmed at my bank' }).click();
    await expectConnected(t, s);
  }, { origins: [new URL(bank.base).origin], javaScript: false });

  await flow(browser, 'decoupled', s.base, async (t) => {
    const { page } = t;
    const { url } = await link(s);
    await signIn(t, url, 'Sandbox Bank (XS2A)', 'user_sca_decoupled');
    await page.getByText("Open your bank's app").waitFor();
    await look(t, 'waiting');
    // The page checks by itself (it reloads every few seconds).
    await page.getByRole('heading', { name: 'Your account is connected' }).waitFor({ timeout: 20000 });
    await expectConnected(t, s);
  });

  await flow(browser, 'wrong-password', s.base, async (t) => {
    const { page } = t;
    const { url } = await link(s);
    await signIn(t, url, 'Sandbox Bank', 'user_good', 'not_the_password');
    await expectError(t, 'INVALID_PASSWORD', 'The username or password is not right');
    // The form is there again, and the right password works.
    await page.getByLabel('Username').fill('user_good');
    await page.getByLabel('Password').fill('pass_good');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectConnected(t, s);
  });

  await flow(browser, 'bank-down', s.base, async (t) => {
    const { url } = await link(s);
    await signIn(t, url, 'Sandbox Bank', 'user_bank_maintenance');
    await expectError(t, 'BANK_MAINTENANCE', 'This is not your fault');
  });

  await flow(browser, 'bank-in-maintenance', s.base, async (t) => {
    const { url } = await link(s);
    await signIn(t, url, /Sandbox Bank \(maintenance\)/, 'user_good');
    await expectError(t, 'BANK_NOT_SUPPORTED', 'cannot be reached right now');
  });

  await flow(browser, 'german', s.base, async (t) => {
    const { page } = t;
    const { url } = await link(s);
    await page.goto(url);
    await page.getByRole('heading', { name: 'Wählen Sie Ihre Bank' }).waitFor();
    await look(t, 'banks');
    await page.getByLabel('Sprache').selectOption('fr');
    await page.getByRole('button', { name: 'Ändern' }).click();
    await page.getByRole('heading', { name: 'Choisissez votre banque' }).waitFor();
    await look(t, 'french');
    await page.getByLabel('Langue').selectOption('nl');
    await page.getByRole('button', { name: 'Changer' }).click();
    await page.getByRole('heading', { name: 'Kies uw bank' }).waitFor();
    await look(t, 'dutch');
  }, { locale: 'de-DE' });

  await flow(browser, 'used-link', s.base, async (t) => {
    const { page } = t;
    const { url } = await link(s);
    await fetch(url, { redirect: 'manual' });
    await page.goto(url);
    await expectError(t, 'CONNECT_TOKEN_USED', 'each link works once');
  });

  // An app that frames the page: it gets a message when the account is linked.
  const appServer = createServer((req, res) => {
    res.setHeader('Content-Type', 'text/html');
    res.end(`<!doctype html><html lang="en"><head><title>App</title></head><body>
<h1>App</h1><iframe title="Connect" width="760" height="800" src="${decodeURIComponent(req.url.slice(7))}"></iframe>
<script>window.addEventListener('message', (e) => { document.title = 'got ' + e.data.connection_id; });</script></body></html>`);
  });
  await new Promise((ok) => appServer.listen(0, '127.0.0.1', ok));
  const appBase = `http://127.0.0.1:${appServer.address().port}`;
  await flow(browser, 'iframe', s.base, async (t) => {
    const { page } = t;
    const { url } = await link(s, { redirect_uri: `${appBase}/done` });
    await page.goto(`${appBase}/frame?${encodeURIComponent(url)}`);
    const f = page.frameLocator('iframe');
    await f.getByRole('button', { name: 'Sandbox Bank', exact: true }).click();
    await f.getByRole('button', { name: 'Agree and continue' }).click();
    await f.getByLabel('Username').fill('user_good');
    await f.getByLabel('Password').fill('pass_good');
    await f.getByRole('button', { name: 'Sign in' }).click();
    await f.getByRole('heading', { name: 'Your account is connected' }).waitFor();
    await page.waitForFunction(() => document.title.startsWith('got con_'));
    await page.screenshot({ path: join(SHOTS, 'iframe-01-connected.png') });
  }, { origins: [appBase] });
  appServer.close();

  // The bank's session ends when the user waits too long.
  const slow = await server({ BANKFEED_SESSION_IDLE_SECONDS: '2' });
  await flow(browser, 'expired-session', slow.base, async (t) => {
    const { page } = t;
    const { url } = await link(slow);
    await signIn(t, url, 'Sandbox Bank', 'user_mfa_tan');
    await page.locator('input[autocomplete=one-time-code]').fill('123456');
    await page.waitForTimeout(3500);
    await page.getByRole('button', { name: 'Continue' }).click();
    await expectError(t, 'SESSION_EXPIRED', 'You took a little too long');
  });

  await dashboardFlows(browser, s);

  await browser.close();
}

// The dashboard (dashboard.mjs), when this build has it.
async function dashboardFlows(browser, s) {
  const { dashboard } = await import('./dashboard.mjs').catch(() => ({}));
  if (dashboard) await dashboard({ browser, s, flow, api, link, signIn, look, check, start, BIN, expectConnected });
}

try {
  await main();
} catch (e) {
  failures++;
  console.log(`FAIL setup: ${e.stack}`);
} finally {
  // Every server stops; one built with sanitizers must have said nothing.
  await Promise.all(procs.map((p) => new Promise((ok) => {
    if (p.exitCode !== null) return ok();
    p.removeAllListeners('exit');
    p.on('exit', ok);
    p.kill('SIGTERM');
  })));
  for (const p of procs) {
    const m = p.stderrText().match(/(ERROR|WARNING): (Address|Leak|UndefinedBehavior)Sanitizer[^\n]*|runtime error:[^\n]*/);
    if (m) {
      failures++;
      console.log(`FAIL ${p.spawnargs.slice(1, 2)}: ${m[0]}`);
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
console.log(`browser: ${passed} passed, ${failures} failed; screenshots in ${SHOTS}`);
process.exit(failures ? 1 : 0);
