"""A tiny upstream for the proxy tests and benchmark: HTTP/1.1 with keep-alive, a short delay
per request (so switches meet requests in flight), and a graceful SIGTERM: stop accepting,
answer the requests in flight and those of connections already accepted, close idle
keep-alive connections, then exit.

Environment: NAME (the body of GET /), PORT (8000), DELAY_MS (20), HEALTH_STATUS (200),
BIND (0.0.0.0; 127.0.0.1 makes an app that passes its in-container gate but no proxy reaches),
ACCEPT_QUEUED (0: on SIGTERM close the listening socket like most servers, which resets the
connections still queued on it; 1: accept and answer those first).
"""

import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME = os.environ.get("NAME", "backend")
PORT = int(os.environ.get("PORT", "8000"))
DELAY = int(os.environ.get("DELAY_MS", "20")) / 1000
HEALTH_STATUS = int(os.environ.get("HEALTH_STATUS", "200"))
BIND = os.environ.get("BIND", "0.0.0.0")
ACCEPT_QUEUED = os.environ.get("ACCEPT_QUEUED", "0") == "1"
IDLE_TIMEOUT = 30

draining = threading.Event()
lock = threading.Lock()
idle = set()  # sockets of keep-alive connections waiting for their next request


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT

    served = 0  # requests answered on this connection

    def handle_one_request(self) -> None:
        # A new connection always gets its first request served; a keep-alive connection
        # waiting for its next request is closed by the drain.
        waiting = self.served > 0
        with lock:
            if waiting and draining.is_set():
                self.close_connection = True
                return
            if waiting:
                idle.add(self.connection)
        try:
            # Blocks until the next request line arrives (or the drain closes the socket).
            self.raw_requestline = self.rfile.readline(65537)
        except OSError:
            self.raw_requestline = b""
        finally:
            with lock:
                idle.discard(self.connection)
        self.served += 1
        if not self.raw_requestline or not self.parse_request():
            self.close_connection = True
            return
        method = getattr(self, "do_" + self.command, None)
        if method is None:
            self.send_error(501)
            return
        method()
        self.wfile.flush()

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path == "/health":
            self.reply(HEALTH_STATUS, f"health {HEALTH_STATUS}\n")
        else:
            time.sleep(DELAY)
            self.reply(200, f"{NAME}\n")

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        time.sleep(DELAY)
        self.reply(200, f"{NAME}\n")

    def reply(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        if draining.is_set():
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt: str, *args: object) -> None:
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the requests in flight
    request_queue_size = 1024  # socketserver's 5 drops connections under load


def main() -> None:
    server = Server((BIND, PORT), Handler)

    def drain() -> None:
        server.shutdown()  # stops accepting: serve_forever returns
        draining.set()
        with lock:
            for conn in idle:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=drain).start())
    print(f"{NAME} listening on :{PORT}", flush=True)
    server.serve_forever()
    if ACCEPT_QUEUED:
        server.socket.setblocking(False)
        while True:
            try:
                conn, addr = server.socket.accept()
            except OSError:  # BlockingIOError: the queue is empty
                break
            conn.setblocking(True)
            server.process_request(conn, addr)
    server.server_close()
    print(f"{NAME} drained", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
