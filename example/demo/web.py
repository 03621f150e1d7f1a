"""HTTP process: `python -m demo.web` (the seed's `manage.py runserver`)."""

import hashlib
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from demo import __version__

PORT = int(os.environ.get("PORT", "8000"))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path == "/health":
            self._reply(200, "ok\n")
        elif self.path == "/":
            self._reply(200, f"hello from {os.environ.get('APP_NAME', 'demo')} {__version__}\n")
        elif self.path == "/config":
            # Proves a secret reached the process without ever printing it.
            token = os.environ.get("DEMO_SECRET_TOKEN", "")
            body = {
                "version": __version__,
                "secret_token_sha256": hashlib.sha256(token.encode()).hexdigest() if token else None,
                "uid": os.getuid(),
            }
            self._reply(200, json.dumps(body) + "\n", "application/json")
        else:
            self._reply(404, "not found\n")

    def do_POST(self) -> None:  # noqa: N802
        # A form post stand-in: reads the body, answers with its size and the version.
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self._reply(200, f"received {len(body)} bytes by {__version__}\n")

    def _reply(self, status: int, body: str, content_type: str = "text/plain") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt: str, *args: object) -> None:
        sys.stdout.write("web: " + (fmt % args) + "\n")


class Server(ThreadingHTTPServer):
    # Like a production app server: a real listen backlog, and requests in flight finish on stop.
    request_queue_size = 128
    daemon_threads = False
    block_on_close = True


def main() -> None:
    server = Server(("0.0.0.0", PORT), Handler)
    # `docker stop`: stop accepting, let the requests in flight finish, then exit.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"web: demo {__version__} listening on :{PORT}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
