"""Starts the real bankfeed server for the tests, the way tests/harness.c
does: ``bankfeed serve --listen 127.0.0.1:0`` in a fresh temporary data dir,
the port read from its "listening on" line, clients made with the
``bankfeed clients create`` CLI."""

from __future__ import annotations

import http.server
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from typing import Any, Callable, Dict, List

import bankfeed

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
BIN = os.environ.get("BANKFEED_BIN", os.path.join(REPO, "build", "bankfeed"))


class Server:
    def __init__(self, **env: str) -> None:
        self.dir = tempfile.mkdtemp(prefix="bankfeed-pyclient-test-")
        self.data = os.path.join(self.dir, "data")
        self.log = open(os.path.join(self.dir, "server.log"), "ab")
        e = dict(os.environ, BANKFEED_LOG_LEVEL="warn", **env)
        self.proc = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data],
                                     stdout=subprocess.PIPE, stderr=self.log, env=e)
        line = self.proc.stdout.readline().decode()
        m = re.search(r"listening on http://\S*:(\d+)", line)
        if not m:
            self.stop()
            raise RuntimeError(f"server did not start: {line!r}; log {self.dir}/server.log")
        self.url = f"http://127.0.0.1:{m.group(1)}"

    def credentials(self) -> Dict[str, str]:
        out = subprocess.run([BIN, "clients", "create", "--name", "pyclient-test", "--data-dir", self.data],
                             check=True, capture_output=True, text=True).stdout
        return {"client_id": re.search(r"client_id:\s*(\S+)", out).group(1),
                "client_secret": re.search(r"client_secret:\s*(\S+)", out).group(1)}

    def client(self, **options: Any) -> bankfeed.Client:
        """A Client of a new API client of this server."""
        c = self.credentials()
        return bankfeed.Client(self.url, c["client_id"], c["client_secret"], **options)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.proc.stdout.close()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Receiver:
    """A local HTTP receiver of webhook deliveries."""

    def __init__(self) -> None:
        self.deliveries: List[Dict[str, Any]] = []
        self.cond = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.cond:
                    outer.deliveries.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                                             "body": body, "path": self.path})
                    outer.cond.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/bankfeed"

    def wait_for(self, pred: Callable[[Dict[str, Any]], bool], timeout: float = 20.0) -> Dict[str, Any]:
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for d in self.deliveries:
                    if pred(d):
                        return d
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no such delivery within {timeout} s; got {len(self.deliveries)}")
                self.cond.wait(left)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def linked_user(bf: bankfeed.Client, username: str = "user_good") -> Any:
    """A user with an authorized sandbox connection: (user, connection)."""
    user = bf.create_user()
    made = bf.create_connection(user.id, "sandbox", username, "pass_good")
    if made.session.status != "authorized":
        raise AssertionError(f"{username}: session {made.session.status}")
    return user, made.connection


def spec_summary() -> Dict[str, Any]:
    """docs/openapi.yaml summarised by clients/node/scripts/spec-summary.mjs (python has no YAML)."""
    import json
    path = os.environ.get("BANKFEED_SPEC_SUMMARY")
    if path:
        with open(path) as f:
            return json.load(f)
    script = os.path.join(REPO, "clients", "node", "scripts", "spec-summary.mjs")
    out = subprocess.run(["node", script, os.path.join(REPO, "docs", "openapi.yaml")],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def catalog() -> List[Dict[str, Any]]:
    import json
    return json.loads(subprocess.run([BIN, "errors", "--json"], check=True, capture_output=True, text=True).stdout)["data"]


def wait_until(pred: Callable[[], bool], timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.05)


