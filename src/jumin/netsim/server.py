"""A threaded HTTP/1.1 (keep-alive) WSGI server for netsim, stopped cleanly by SIGTERM.

Built on Django's development-server classes (``django.core.servers.basehttp``), without
the autoreloader and with two additions: a reply can be *dropped* (fault injection: the
connection is closed after the message was applied, without an answer), and a stop waits
for the requests in flight so that none is cut between its commit and its reply.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

from django.core.servers.basehttp import ServerHandler, ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application

from jumin.netsim.faults import DROP_REPLY

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class DropReply(Exception):
    """Raised after the application ran: close the connection, send nothing."""


class _Handler(ServerHandler):
    request_handler: WSGIRequestHandler

    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], DropReply):
            self.request_handler.close_connection = True
            return
        super().handle_error()


class _RequestHandler(WSGIRequestHandler):
    def setup(self) -> None:
        super().setup()
        # headers and body are separate writes: without this, Nagle + delayed ACK add 40 ms
        sock = self.connection
        if isinstance(sock, socket.socket):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = ""
            self.request_version = ""
            self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _Handler(self.rfile, self.wfile, self.get_stderr(), self.get_environ())
        handler.request_handler = self
        server = self.server
        assert isinstance(server, NetsimServer)
        app = server.get_app()
        assert app is not None
        with server.in_flight:  # until the reply is written, not just computed
            handler.run(app)

    def log_message(self, format: str, *args: Any) -> None:
        if len(args) > 1 and str(args[1]).startswith("5"):
            super().log_message(format, *args)


class InFlight:
    """Counts requests being handled, so a stop can wait for them."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = threading.Condition()

    def __enter__(self) -> None:
        with self._idle:
            self._count += 1

    def __exit__(self, *exc: object) -> None:
        with self._idle:
            self._count -= 1
            if self._count == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout)


def application() -> WSGIApp:
    django_app = get_wsgi_application()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        result = django_app(environ, start_response)
        if environ.get(DROP_REPLY):
            close = getattr(result, "close", None)
            if close is not None:
                close()
            raise DropReply
        return result

    return app


class NetsimServer(ThreadedWSGIServer):
    request_queue_size = 128

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.in_flight = InFlight()


def serve(
    host: str,
    port: int,
    *,
    on_bind: Callable[[str, int], None] | None = None,
    grace: float = 30.0,
) -> None:
    """Serve until SIGTERM or SIGINT; then finish the requests in flight (≤ ``grace`` s)."""
    ipv6 = ":" in host
    httpd = NetsimServer((host, port), _RequestHandler, ipv6=ipv6)
    httpd.set_app(application())
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=httpd.shutdown, daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if on_bind is not None:
            on_bind(host, httpd.server_address[1])
        httpd.serve_forever(poll_interval=0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        deadline = time.monotonic() + grace
        httpd.in_flight.wait_idle(max(0.0, deadline - time.monotonic()))
        httpd.server_close()
