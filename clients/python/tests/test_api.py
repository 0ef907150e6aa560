"""Every route of the API once at least, through the library, against the
real server on loopback: typed answers and errors, cursor pages and the
incremental feed as iterators (sync and async), statements, webhooks
delivered to a local receiver and verified, and Connect tokens when the
server has them."""

import asyncio
import os
import re
import time
import unittest

import bankfeed
from bankfeed import models as m

from .helpers import REPO, Receiver, Server, linked_user

METRICS_TOKEN = "metrics-token-for-the-client-tests"


class ApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(BANKFEED_METRICS_TOKEN=METRICS_TOKEN)
        cls.bf = cls.srv.client(metrics_token=METRICS_TOKEN)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_meta(self):
        h = self.bf.get_health()
        self.assertIsInstance(h, m.Health)
        self.assertEqual(h.status, "ok")
        self.assertIn("bankfeed_http_requests_total", self.bf.get_metrics())
        cat = self.bf.list_errors()
        self.assertIsNone(cat.next_cursor)
        busy = [e for e in cat.data if e.code == 1008][0]
        self.assertEqual((busy.name, busy.http_status, busy.retryable), ("RESOURCE_BUSY", 423, True))
        t = self.bf.create_token()
        self.assertEqual(t.token_type, "Bearer")
        self.assertGreater(t.expires_in, 0)

    def test_institutions(self):
        self.assertIn("sandbox", [i.id for i in self.bf.list_institutions().data])
        self.assertTrue(all(i.country == "DE" for i in self.bf.list_institutions(country="de", q="sandbox").data))
        self.assertEqual(self.bf.get_institution("sandbox").id, "sandbox")
        with self.assertRaises(bankfeed.EntityNotFoundError) as cm:
            self.bf.get_institution("no_such_bank")
        e = cm.exception
        self.assertIsInstance(e, bankfeed.ClientError)
        self.assertEqual((e.code, e.name, e.status, e.group), (1002, "ENTITY_NOT_FOUND", 404, "client"))
        self.assertTrue(e.request_id)

    def test_users_pages_and_errors(self):
        ref = f"ref-{time.time_ns()}"
        made = [self.bf.create_user(f"{ref}-{i}") for i in range(5)]
        self.assertEqual(self.bf.get_user(made[0].id).external_ref, f"{ref}-0")
        self.assertEqual([u.id for u in self.bf.list_users(external_ref=f"{ref}-3").data], [made[3].id])
        first = self.bf.list_users(limit=2)
        self.assertEqual(len(first.data), 2)
        self.assertIsNotNone(first.next_cursor)
        seen = [u.id for u in self.bf.iter_users(limit=2)]
        self.assertEqual(len(set(seen)), len(seen))
        for u in made:
            self.assertIn(u.id, seen)
        with self.assertRaises(bankfeed.EntryAlreadyExistsError):
            self.bf.create_user(f"{ref}-0")
        with self.assertRaises(bankfeed.InvalidRequestError) as cm:
            self.bf.transport.call("create_user", json_body={"external_ref": 5})
        self.assertIn("external_ref", cm.exception.data)
        self.bf.delete_user(made[4].id)
        with self.assertRaises(bankfeed.EntityNotFoundError):
            self.bf.get_user(made[4].id)

    def test_explicit_idempotency_key_replays(self):
        key = f"idem-{time.time_ns()}"
        a = self.bf.create_user(key, idempotency_key=key)
        b = self.bf.create_user(key, idempotency_key=key)
        self.assertEqual(a.id, b.id)
        with self.assertRaises(bankfeed.IdempotencyKeyReusedError):
            self.bf.create_user(key + "x", idempotency_key=key)

    def test_connection_session_sync_accounts_transactions(self):
        bf = self.bf
        user = bf.create_user()
        made = bf.create_connection(user.id, "sandbox", "user_mfa_question", "pass_good")
        self.assertIsInstance(made, m.ConnectionCreated)
        con, ses = made.connection, made.session
        self.assertEqual(ses.status, "challenge_required")
        self.assertIsInstance(ses.challenges[0], m.Challenge)
        self.assertEqual(ses.challenges[0].key, "sq_car_colour")
        self.assertEqual(bf.get_session(ses.id).id, ses.id)
        with self.assertRaises(bankfeed.ConnectionNotAuthorizedError):
            bf.sync_connection(con.id, wait_seconds=0)
        with self.assertRaises(bankfeed.UnknownChallengeKeyError):
            bf.answer_session(ses.id, {"nope": "blue"})
        self.assertEqual(bf.answer_session(ses.id, {"sq_car_colour": "blue"}).status, "authorized")
        with self.assertRaises(bankfeed.AlreadyAuthorizedError):
            bf.answer_session(ses.id, {"sq_car_colour": "blue"})
        again = bf.create_session(con.id, "user_mfa_question", "pass_good")
        self.assertEqual(again.status, "challenge_required")
        self.assertEqual(bf.answer_session(again.id, {"sq_car_colour": "blue"}).status, "authorized")

        task = bf.sync_connection(con.id, psu_ip_address="203.0.113.7")
        self.assertIsInstance(task, m.Task)
        self.assertEqual((task.kind, task.status), ("sync", "completed"))
        self.assertIsInstance(task.result, m.TaskResult)
        self.assertEqual(bf.get_task(task.id).id, task.id)
        self.assertEqual(bf.get_connection(con.id).status, "authorized")
        self.assertIn(con.id, [c.id for c in bf.list_connections(user_id=user.id).data])
        self.assertEqual([c.id for c in bf.iter_connections(user_id=user.id, limit=1)], [con.id])

        accounts = list(bf.iter_accounts(connection_id=con.id, limit=1))
        self.assertEqual(len(accounts), 2)
        self.assertEqual(sorted(a.id for a in bf.list_accounts(user_id=user.id).data),
                         sorted(a.id for a in accounts))
        checking = [a for a in accounts if a.type == "checking"][0]
        self.assertIsInstance(checking.holder, m.AccountHolder)
        self.assertIsInstance(checking.balances[0], m.Balance)
        self.assertEqual(bf.get_account(checking.id).iban, checking.iban)

        pages, cursor = [], None
        while True:
            p = bf.list_transactions(checking.id, limit=50, cursor=cursor)
            pages += [t.id for t in p.data]
            cursor = p.next_cursor
            if cursor is None:
                break
        iterated = []
        for t in bf.iter_transactions(checking.id, limit=50):
            self.assertRegex(t.amount, r"^-?\d+\.\d\d$")
            self.assertIsInstance(t.counterparty, m.Counterparty)
            iterated.append(t.id)
        self.assertGreater(len(iterated), 50)
        self.assertEqual(iterated, pages)
        self.assertEqual(len(set(iterated)), len(iterated))
        self.assertTrue(all(t.status == "booked" for t in bf.list_transactions(checking.id, status="booked", limit=5).data))

        added, last, n = set(), None, 0
        for page in bf.iter_transactions_sync(con.id, limit=100):
            added.update(t.id for t in page.added)
            last, n = page, n + 1
        self.assertGreater(n, 1)
        self.assertFalse(last.has_more)
        everything = {t.id for a in accounts for t in bf.iter_transactions(a.id)}
        self.assertEqual(added, everything)
        self.assertEqual([t for p in bf.iter_transactions_sync(con.id, cursor=last.next_cursor) for t in p.added], [])

        bf.delete_connection(con.id)
        with self.assertRaises(bankfeed.EntityNotFoundError):
            bf.get_connection(con.id)

    def test_async_client_and_async_iterators(self):
        c = self.srv.credentials()

        async def go():
            abf = bankfeed.AsyncClient(self.srv.url, c["client_id"], c["client_secret"])
            user = await abf.create_user()
            made = await abf.create_connection(user.id, "sandbox", "user_good", "pass_good")
            await abf.sync_connection(made.connection.id, psu_ip_address="203.0.113.7")
            accounts = [a async for a in abf.iter_accounts(connection_id=made.connection.id, limit=1)]
            txns = [t async for t in abf.iter_transactions(accounts[0].id, limit=40)]
            feed = [p async for p in abf.iter_transactions_sync(made.connection.id, limit=100)]
            users = [u async for u in abf.iter_users(limit=1)]
            return accounts, txns, feed, users, user

        accounts, txns, feed, users, user = asyncio.run(go())
        self.assertEqual(len(accounts), 2)
        self.assertGreater(len(txns), 40)
        self.assertFalse(feed[-1].has_more)
        self.assertIn(user.id, [u.id for u in users])

    def test_bank_errors_are_typed(self):
        user = self.bf.create_user()
        with self.assertRaises(bankfeed.OnlineAccessBlockedError) as cm:
            self.bf.create_connection(user.id, "sandbox", "user_online_access_blocked", "pass_good")
        e = cm.exception
        self.assertIsInstance(e, bankfeed.UserError)
        self.assertEqual((e.code, e.group), (10002, "user"))
        self.assertIn("blocked", e.message)
        self.assertIs(bankfeed.ERRORS_BY_NAME["DISABLED_LOGIN"], bankfeed.OnlineAccessBlockedError)

    def test_statements(self):
        user = self.bf.create_user()
        with open(os.path.join(REPO, "tests/data/statements/mt940/german_sepa_latin1.sta"), "rb") as f:
            data = f.read()
        task = self.bf.import_statement(user.id, data, filename="german.sta", format="mt940",
                                        content_type="text/plain")
        self.assertEqual((task.kind, task.status), ("import", "completed"))
        self.assertGreater(task.result.transactions_added, 0)
        self.assertGreaterEqual(len(self.bf.list_accounts(user_id=user.id).data), 1)
        with self.assertRaises(bankfeed.StatementRejectedError):
            self.bf.import_statement(user.id, "this is no statement", filename="x.txt")

    def test_xs2a_callback_with_a_made_up_state(self):
        with self.assertRaises(bankfeed.InvalidRequestError) as cm:
            self.bf.xs2a_callback("not-a-state")
        self.assertIn("state", cm.exception.data)

    def test_webhook_delivery_verified(self):
        rx = Receiver()
        try:
            hooked = self.srv.client()
            secret = "client-test-secret-0123456789"
            self.assertEqual(hooked.put_webhook(rx.url, secret).url, rx.url)
            self.assertEqual(hooked.get_webhook().url, rx.url)
            _, con = linked_user(hooked)
            task = hooked.sync_connection(con.id, psu_ip_address="203.0.113.7")
            d = rx.wait_for(lambda x: x["headers"].get("bankfeed-event-type") == "task.completed")
            sig, body = d["headers"]["bankfeed-signature"], d["body"]
            self.assertRegex(sig, r"^t=\d+,v1=[0-9a-f]{64}$")
            self.assertTrue(bankfeed.verify_webhook_signature(secret, sig, body))
            ev = bankfeed.parse_webhook_event(secret, sig, body)
            self.assertIsInstance(ev, m.WebhookEvent)
            self.assertEqual((ev.type, ev.data["id"], ev.id), ("task.completed", task.id, d["headers"]["bankfeed-event-id"]))
            tampered = body.replace(b"completed", b"failed")
            self.assertFalse(bankfeed.verify_webhook_signature(secret, sig, tampered))
            self.assertFalse(bankfeed.verify_webhook_signature("another-secret-0123456789", sig, body))
            t = int(re.search(r"t=(\d+)", sig).group(1))
            self.assertFalse(bankfeed.verify_webhook_signature(secret, sig, body, now=t + 301))
            self.assertFalse(bankfeed.verify_webhook_signature(secret, sig, body, now=t - 301))
            self.assertTrue(bankfeed.verify_webhook_signature(secret, sig, body, now=t + 299))
            self.assertFalse(bankfeed.verify_webhook_signature(secret, None, body))
            with self.assertRaises(bankfeed.WebhookSignatureError):
                bankfeed.parse_webhook_event(secret, sig, tampered)
            self.assertEqual(bankfeed.sign_webhook(secret, body, t), sig)
            hooked.delete_webhook()
            with self.assertRaises(bankfeed.EntityNotFoundError):
                hooked.get_webhook()
        finally:
            rx.close()

    def test_connect_token(self):
        user = self.bf.create_user()
        try:
            tok = self.bf.create_connect_token(user.id, redirect_uri="https://app.example.com/done",
                                               institutions=["sandbox"], language="en")
        except bankfeed.EntityNotFoundError as e:
            if e.status == 404:
                self.skipTest("this server has no POST /v1/connect_tokens yet (404 ENTITY_NOT_FOUND)")
            raise
        self.assertTrue(tok.connect_token)
        self.assertIn(tok.connect_token, tok.url)
        self.assertEqual(tok.user_id, user.id)
        with self.assertRaises(bankfeed.EntityNotFoundError):
            self.bf.create_connect_token("usr_doesnotexist")


if __name__ == "__main__":
    unittest.main()
