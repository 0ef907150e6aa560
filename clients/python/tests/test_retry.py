"""Token renewal and retries against the real server: tokens that expire in
2 s (BANKFEED_TOKEN_TTL_SECONDS), a rate limit of 2 requests a second
(BANKFEED_RATE_LIMIT: real 429 TOO_MANY_REQUESTS), the PSD2 limit of 4
unattended syncs (429 with a Retry-After of hours: not waited for), real 503
SERVICE_UNAVAILABLE (token requests while the one secret check allowed runs:
BANKFEED_OAUTH_MAX_HASHES=1), and real 423 RESOURCE_BUSY answers: a POST repeated with its Idempotency-Key while
the first still runs, and deleting a connection while its sync runs."""

import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

import bankfeed

from .helpers import Server, linked_user


class RetryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.limited = Server(BANKFEED_TOKEN_TTL_SECONDS="2", BANKFEED_RATE_LIMIT="2", BANKFEED_RATE_BURST="3")
        cls.slow = Server(BANKFEED_SANDBOX_SLOW_MS="1500", BANKFEED_OAUTH_MAX_HASHES="1")

    @classmethod
    def tearDownClass(cls):
        cls.limited.stop()
        cls.slow.stop()

    def test_token_renewed_before_expiry(self):
        tokens, attempts = [], []
        bf = self.limited.client(on_token=tokens.append, on_attempt=attempts.append)
        bf.get_institution("sandbox")
        self.assertEqual([(t.reason, t.expires_in) for t in tokens], [("initial", 2)])
        time.sleep(1.85)            # inside the last tenth of its 2 s: renewed first
        bf.get_institution("sandbox")
        self.assertEqual([t.reason for t in tokens], ["initial", "expiring"])
        self.assertNotIn(401, [a["status"] for a in attempts])

    def test_expired_token_renewed_once_on_401(self):
        tokens, attempts = [], []
        bf = self.limited.client(on_token=tokens.append, on_attempt=attempts.append, renew_margin=0)
        t = bf.create_token()
        bf.set_access_token(t.access_token, 3600)    # the client believes it lasts an hour
        time.sleep(2.2)                               # the server let it expire after 2 s
        self.assertEqual(bf.get_institution("sandbox").id, "sandbox")
        self.assertEqual([x.reason for x in tokens], ["rejected"])
        self.assertEqual([a["status"] for a in attempts if a["op"] == "get_institution"], [401, 200])

    def test_wrong_credentials(self):
        attempts = []
        bf = bankfeed.Client(self.limited.url, self.limited.credentials()["client_id"], "bfs_wrong",
                             on_attempt=attempts.append)
        with self.assertRaises(bankfeed.InvalidClientAuthorizationError) as cm:
            bf.get_institution("sandbox")
        self.assertEqual(cm.exception.status, 401)
        self.assertEqual([a["op"] for a in attempts], ["create_token"])

    def test_429_retried_after_retry_after_one_key_per_call(self):
        retries, attempts = [], []
        lock = threading.Lock()

        def on_attempt(a):
            with lock:
                attempts.append(a)
        bf = self.limited.client(on_retry=retries.append, on_attempt=on_attempt)
        refs = [f"rl-{time.time_ns()}-{i}" for i in range(7)]
        with ThreadPoolExecutor(7) as ex:
            users = list(ex.map(bf.create_user, refs))
        self.assertEqual([u.external_ref for u in users], refs)
        r429 = [r for r in retries if r.status == 429]
        self.assertTrue(r429, "the rate limit answered 429")
        for r in r429:
            self.assertEqual(r.code, 1055)
            self.assertGreaterEqual(r.retry_after, 1)
            self.assertGreaterEqual(r.wait, r.retry_after, "never sooner than Retry-After")
            self.assertTrue(r.idempotency_key)
        by_key = {}
        for a in attempts:
            # Tokens last 2 s here: an attempt may meet 401 and go again with a new one.
            if a["op"] == "create_user" and a["status"] != 401:
                by_key.setdefault(a["idempotency_key"], []).append(a["status"])
        self.assertEqual(len(by_key), 7)
        for statuses in by_key.values():
            self.assertEqual(statuses, [429] * (len(statuses) - 1) + [201])
        for ref in refs:
            self.assertEqual(len(bf.list_users(external_ref=ref).data), 1)

    def test_429_without_retries_left(self):
        bf = self.limited.client(max_retries=0)
        bf.get_health()

        def one(_):
            try:
                bf.get_institution("sandbox")
                return None
            except bankfeed.BankfeedError as e:
                return e
        with ThreadPoolExecutor(8) as ex:
            refused = [e for e in ex.map(one, range(8)) if e is not None]
        self.assertTrue(refused)
        for e in refused:
            self.assertIsInstance(e, bankfeed.TooManyRequestsError)
            self.assertEqual(e.status, 429)
            self.assertGreaterEqual(e.retry_after, 1)

    def test_503_token_requests_while_the_check_is_busy(self):
        retries = []
        clients = [self.slow.client(on_retry=retries.append) for _ in range(4)]
        with ThreadPoolExecutor(4) as ex:
            answers = list(ex.map(lambda c: c.get_institution("sandbox"), clients))
        self.assertTrue(all(a.id == "sandbox" for a in answers))
        busy = [r for r in retries if r.status == 503]
        self.assertTrue(busy, "the one check was busy")
        for r in busy:
            self.assertEqual((r.op, r.code), ("create_token", 30006))
            self.assertGreaterEqual(r.wait, r.retry_after)

    def test_psd2_limit_raised_at_once(self):
        retries = []
        bf = self.slow.client(on_retry=retries.append)
        _, con = linked_user(bf, "user_good")
        for _ in range(4):
            self.assertEqual(bf.sync_connection(con.id).status, "completed")
        t0 = time.monotonic()
        with self.assertRaises(bankfeed.ApiUsageLimitReachedError) as cm:
            bf.sync_connection(con.id)
        self.assertLess(time.monotonic() - t0, 2, "not waited for")
        self.assertEqual(cm.exception.status, 429)
        self.assertGreater(cm.exception.retry_after, 3600)
        self.assertEqual(retries, [])

    def test_423_repeat_with_key_while_first_runs(self):
        retries = []
        bf = self.slow.client(on_retry=retries.append)
        _, con = linked_user(bf, "user_slow")
        key = f"sync-{time.time_ns()}"
        with ThreadPoolExecutor(2) as ex:
            first = ex.submit(bf.sync_connection, con.id, 30, None, "203.0.113.7", idempotency_key=key)
            time.sleep(0.2)
            second = ex.submit(bf.sync_connection, con.id, 30, None, "203.0.113.7", idempotency_key=key)
            a, b = first.result(), second.result()
        self.assertEqual(a.status, "completed")
        self.assertEqual(b.id, a.id)
        busy = [r for r in retries if r.status == 423]
        self.assertTrue(busy, "the repeat met 423")
        for r in busy:
            self.assertEqual((r.code, r.idempotency_key), (1008, key))
            self.assertGreaterEqual(r.wait, 1)

    def test_423_delete_while_syncing(self):
        c = self.slow.credentials()
        bf = bankfeed.Client(self.slow.url, c["client_id"], c["client_secret"])
        _, con = linked_user(bf, "user_slow")
        task = bf.sync_connection(con.id, wait_seconds=0, psu_ip_address="203.0.113.7")
        self.assertTrue(task.dispatched)
        impatient = bankfeed.Client(self.slow.url, c["client_id"], c["client_secret"], max_retries=0)
        with self.assertRaises(bankfeed.ResourceBusyError) as cm:
            impatient.delete_connection(con.id)
        e = cm.exception
        self.assertIsInstance(e, bankfeed.ClientError)
        self.assertEqual((e.status, e.code), (423, 1008))
        self.assertGreaterEqual(e.retry_after, 1)
        self.assertTrue(e.request_id)
        retries = []
        patient = bankfeed.Client(self.slow.url, c["client_id"], c["client_secret"], on_retry=retries.append)
        t0 = time.monotonic()
        patient.delete_connection(con.id)
        busy = [r for r in retries if r.status == 423]
        self.assertTrue(busy)
        self.assertGreaterEqual(time.monotonic() - t0, busy[0].retry_after, "waited Retry-After")
        with self.assertRaises(bankfeed.EntityNotFoundError):
            bf.get_connection(con.id)

    def test_wait_for_task_follows_a_dispatched_sync(self):
        bf = self.slow.client()
        _, con = linked_user(bf, "user_slow")
        task = bf.sync_connection(con.id, wait_seconds=0, psu_ip_address="203.0.113.7")
        self.assertTrue(task.dispatched)
        done = bf.wait_for_task(task.id, interval=0.2)
        self.assertEqual(done.status, "completed")
        self.assertGreater(done.result.transactions_added, 0)
        again = bf.sync_connection(con.id, wait_seconds=0, psu_ip_address="203.0.113.7")
        with self.assertRaises(TimeoutError):
            bf.wait_for_task(again.id, interval=0.1, timeout=0.3)

    def test_backoff_without_retry_after(self):
        waits = []
        bf = bankfeed.Client("http://127.0.0.1:9", access_token="x", max_retries=3, retry_base=0.02,
                             on_retry=lambda r: waits.append(r.wait))
        with self.assertRaises(bankfeed.BankfeedConnectionError):
            bf.get_health()
        self.assertEqual(len(waits), 3)
        for i, w in enumerate(waits):
            self.assertTrue(0.01 * 2 ** i <= w <= 0.02 * 2 ** i, f"retry {i + 1}: {w}")

    def test_parse_retry_after(self):
        self.assertEqual(bankfeed.parse_retry_after("5"), 5)
        self.assertIsNone(bankfeed.parse_retry_after(None))
        self.assertIsNone(bankfeed.parse_retry_after("soon"))
        self.assertEqual(bankfeed.parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", now=0), 10)

    def test_unknown_codes_fall_back_to_their_group(self):
        self.assertIs(bankfeed.error_class_for({"code": 1008}), bankfeed.ResourceBusyError)
        self.assertIs(bankfeed.error_class_for({"code": 29999, "name": "SOMETHING_NEW", "group": "bank"}),
                      bankfeed.BankError)
        self.assertIs(bankfeed.error_class_for({"code": 99999, "name": "X", "group": "x"}), bankfeed.BankfeedError)


if __name__ == "__main__":
    unittest.main()
