// The dashboard in Chromium: a client's data after a few things happened
// (a linked account, a failed login, a sync with a warning, an API error,
// webhooks that failed), its login by client secret and by a dashboard
// user, the re-send of a webhook, and another client that sees none of it.
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';

export async function dashboard({ browser, s, flow, api, link, signIn, look, check, BIN, expectConnected }) {
  // A webhook receiver that refuses everything: deliveries fail.
  let hooks = 0;
  const receiver = createServer((req, res) => { hooks++; res.statusCode = 500; res.end('no'); });
  await new Promise((ok) => receiver.listen(0, '127.0.0.1', ok));
  const put = await api(s, 'PUT', '/v1/webhook', { url: `http://127.0.0.1:${receiver.address().port}/hook`, secret: 'whsec_browser_test_0123456789abcdef' });
  check(put.status === 200, `webhook: ${JSON.stringify(put.json)}`);

  // What the dashboard will show: made through the Connect page and the API.
  let connectionId;
  let userId;
  await flow(browser, 'dashboard-setup', s.base, async (t) => {
    const l = await link(s);
    userId = l.userId;
    await signIn(t, l.url, 'Sandbox Bank', 'user_warn_balance_mismatch');
    connectionId = await expectConnected(t, s);
  });
  const sync = await api(s, 'POST', `/v1/connections/${connectionId}/sync`, { wait_seconds: 60 });
  check(sync.status === 200, `sync: ${sync.status}`);
  const failed = await api(s, 'POST', '/v1/connections', { user_id: userId, institution_id: 'sandbox', credentials: { username: 'user_good', password: 'wrong' } });
  check(failed.status === 422, `failed login: ${failed.status}`);
  const missing = await api(s, 'GET', '/v1/users/usr_doesnotexist');
  const requestId = missing.json.error.request_id;

  const loginAs = async (t, login, secret) => {
    const { page } = t;
    await page.goto(`${s.base}/dashboard`);
    await page.getByLabel('Client ID, or your email').fill(login);
    await page.getByLabel('Client secret, or your password').fill(secret);
    await page.getByRole('button', { name: 'Log in' }).click();
  };

  await flow(browser, 'dashboard', s.base, async (t) => {
    const { page } = t;
    await page.goto(`${s.base}/dashboard`);
    await look(t, 'login');
    await loginAs(t, s.clientId, 'bfs_not_the_secret');
    await page.getByRole('alert').waitFor();
    check(await page.getByRole('alert').getAttribute('data-error-name') === 'INVALID_CLIENT_AUTHORIZATION', 'wrong secret accepted?');
    await look(t, 'wrong-secret');
    await loginAs(t, s.clientId, s.clientSecret);
    await page.getByRole('heading', { name: 'Users and connections' }).waitFor();
    const body = await page.locator('main').innerText();
    for (const want of ['Completed', 'Invalid Password', connectionId, userId, requestId, 'ENTITY_NOT_FOUND', 'BalanceMismatch', 'connection.authorized']) {
      check(body.includes(want), `the dashboard does not show ${want}`);
    }
    check(await page.locator('svg rect').count() >= 1, 'no bar in the chart');
    check((await page.locator('figcaption').innerText()).includes('syncs in 30 days'), 'no chart caption');
    await look(t, 'overview');
    // Deliveries fail (the receiver answers 500) until they are given up;
    // then one is sent again.
    for (let i = 0; i < 40 && !(await page.locator('main').innerText()).includes('gave up'); i++) {
      await page.waitForTimeout(250);
      await page.reload();
    }
    check((await page.locator('main').innerText()).includes('gave up after'), 'no failed delivery shown');
    const before = hooks;
    await page.getByRole('button', { name: /^Send again/ }).first().click();
    await page.getByRole('status').waitFor();
    check((await page.getByRole('status').innerText()).startsWith('Sent again as evt_'), 'no confirmation');
    for (let i = 0; i < 50 && hooks === before; i++) await page.waitForTimeout(100);
    check(hooks > before, 'the event was not sent again');
    await look(t, 'resent');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Client ID, or your email').waitFor();
  }, { width: 1280 });
  receiver.close();

  // A dashboard user of the same client (made with the CLI), and another client.
  const dataDir = s.dataDir;
  const out = execFileSync(BIN, ['dashboard-user', 'add', '--client', s.clientId, '--email', 'ops@example.com', '--data-dir', dataDir]).toString();
  const password = out.match(/password: +(\S+)/)[1];
  const other = execFileSync(BIN, ['clients', 'create', '--name', 'Other app', '--data-dir', dataDir]).toString();
  const otherId = other.match(/client_id: +(\S+)/)[1];
  const otherSecret = other.match(/client_secret: +(\S+)/)[1];

  await flow(browser, 'dashboard-user', s.base, async (t) => {
    const { page } = t;
    await loginAs(t, 'ops@example.com', password);
    await page.locator('#who').waitFor();
    check((await page.locator('#who').innerText()).includes('ops@example.com'), 'not logged in as the user');
    check((await page.locator('main').innerText()).includes(connectionId), 'the user does not see its client');
    await look(t, 'overview');
  }, { width: 1280 });

  await flow(browser, 'dashboard-isolation', s.base, async (t) => {
    const { page } = t;
    await loginAs(t, otherId, otherSecret);
    await page.getByRole('heading', { name: 'Other app' }).waitFor();
    const body = await page.locator('main').innerText();
    for (const theirs of [connectionId, userId, requestId, 'BalanceMismatch', 'connection.authorized']) {
      check(!body.includes(theirs), `another client sees ${theirs}`);
    }
    await look(t, 'other-client');
  }, { width: 1280 });
}
