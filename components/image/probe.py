# The one HTTP/TCP probe run inside a container: the image's HEALTHCHECK, the release gate and
# the proxy's reach check. Standard-library Python, since slim images have no curl or wget.
# Usage: probe.py HOST PORT PATH SECONDS
#   PATH "": passes when HOST:PORT accepts a connection (nothing is sent);
#   otherwise: passes when GET PATH answers 2xx/3xx (a redirect is not followed).
# Prints what it saw (the status line, or the error); exits 0 iff the check passed.
import http.client
import signal
import socket
import sys


def on_deadline(*_):
    # One deadline for the whole check: a socket timeout restarts with every byte read.
    raise TimeoutError("timed out")


def probe(host, port, path, seconds):
    signal.signal(signal.SIGALRM, on_deadline)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        if path == "":
            socket.create_connection((host, port), timeout=seconds).close()
            return 0
        connection = http.client.HTTPConnection(host, port, timeout=seconds)
        connection.request("GET", path)
        answer = connection.getresponse()
    except Exception as e:
        signal.setitimer(signal.ITIMER_REAL, 0)
        print(f"{type(e).__name__}: {e}")
        return 1
    signal.setitimer(signal.ITIMER_REAL, 0)
    print(f"HTTP {answer.status} {answer.reason}")
    return 0 if 200 <= answer.status < 400 else 1


if __name__ == "__main__":
    sys.exit(probe(sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])))
