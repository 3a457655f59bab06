"""A real S3-protocol server for tests and benchmarks, and a proxy that makes it misbehave.

:class:`S3Server` runs moto's server mode in this process (HTTP on 127.0.0.1,
a free port): the same requests and answers as S3, buckets in memory. moto
checks no signature, so a bucket is readable by unsigned requests, as Software
Heritage's public one is.

:class:`FaultProxy` stands between a client and that server and forwards every
request, except that the first ``failures`` GETs of each object under
``fault_prefix`` are answered ``503 SlowDown`` (S3's own answer when a prefix
gets more requests than it can take). It counts what it saw, so a test can
tell that retries happened and that a rerun sent no GET at all.
"""

from __future__ import annotations

import http.client
import logging
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from beam_swallow.testing.servers import free_port

__all__ = ["FaultProxy", "S3Server", "SLOW_DOWN"]

SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)
# Hop-by-hop headers a proxy must not forward (RFC 9110, 7.6.1), and the length it recomputes.
_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "expect",
}
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class S3Server:
    """moto's S3 server on 127.0.0.1; use as a context manager. ``url`` is its endpoint."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def __enter__(self) -> S3Server:
        # werkzeug logs each request at INFO: not the place for a test's output
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    def client(self, endpoint: str | None = None) -> Any:
        """A boto3 client with moto's dummy keys, at ``endpoint`` (default: the server)."""
        import boto3

        return boto3.session.Session().client(
            "s3",
            region_name="us-east-1",
            endpoint_url=endpoint or self.url,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as S3 clients expect
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        """Quiet: a test's output is not the place for every request."""

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        """Send an answer; a HEAD's length is the object's, as upstream gave it."""
        self.send_response(status)
        length = str(len(body))
        for name, value in headers:
            if name.lower() == "content-length" and self.command == "HEAD":
                length = value
            elif name.lower() not in _HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", length)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _forward(self) -> None:
        body = self._body()
        if self.server.fault(self.command, self.path):
            self._answer(503, [("Content-Type", "application/xml")], SLOW_DOWN)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
        upstream = http.client.HTTPConnection(self.server.upstream_host, timeout=60)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            payload = response.read()
            self._answer(response.status, response.getheaders(), payload)
        finally:
            upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, upstream: str, fault_prefix: str, failures: int):
        super().__init__(("127.0.0.1", port), _Handler)
        self.upstream_host = urlsplit(upstream).netloc
        self.fault_prefix = fault_prefix
        self.failures = failures
        self.lock = threading.Lock()
        self.gets: Counter[str] = Counter()  # GETs seen per path under fault_prefix
        self.faults = 0

    def fault(self, method: str, path: str) -> bool:
        """Count a request; True when it is to be answered SlowDown."""
        path = path.split("?")[0]
        if method != "GET" or not path.startswith(self.fault_prefix):
            return False
        with self.lock:
            self.gets[path] += 1
            if self.gets[path] <= self.failures:
                self.faults += 1
                return True
        return False


class FaultProxy:
    """A proxy to ``upstream`` on 127.0.0.1 that answers each object's first ``failures``
    GETs under ``fault_prefix`` (a path such as ``/bucket/content/``) ``503 SlowDown``.

    ``gets`` counts the GETs of each such path, ``faults`` the 503s sent.
    """

    def __init__(self, upstream: str, fault_prefix: str, failures: int = 0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = _ProxyServer(self.port, upstream, fault_prefix, failures)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def gets(self) -> Counter[str]:
        with self._server.lock:
            return Counter(self._server.gets)

    @property
    def faults(self) -> int:
        with self._server.lock:
            return self._server.faults

    def reset(self, failures: int | None = None) -> None:
        """Forget the counts (and set a new number of failures per object)."""
        with self._server.lock:
            self._server.gets.clear()
            self._server.faults = 0
            if failures is not None:
                self._server.failures = failures
