// The release gate's checks, run inside the new container with the image's own Python (slim
// images have no curl). Unlike the HEALTHCHECK probe, they print what they saw, so a failed
// gate can say "last answer: HTTP 503 Service Unavailable". Pure.

/** Exits 0 iff GET http://127.0.0.1:<port><path> answers 2xx/3xx; prints the status line or the error. */
export function httpGateProbe(o: { port: number; path: string; timeoutSeconds: number }): string[] {
  const code = [
    "import http.client, sys",
    "try:",
    `    c = http.client.HTTPConnection("127.0.0.1", ${o.port}, timeout=${o.timeoutSeconds})`,
    // A JSON string is a valid Python string literal.
    `    c.request("GET", ${JSON.stringify(o.path)})`,
    "    r = c.getresponse()",
    "except Exception as e:",
    '    print(f"{type(e).__name__}: {e}")',
    "    sys.exit(1)",
    'print(f"HTTP {r.status} {r.reason}")',
    "sys.exit(0 if 200 <= r.status < 400 else 1)",
  ].join("\n");
  return ["python", "-c", code];
}

/** Exits 0 iff something accepts TCP on 127.0.0.1:<port>; prints the error otherwise. */
export function tcpGateProbe(o: { port: number; timeoutSeconds: number }): string[] {
  const code = [
    "import socket, sys",
    "try:",
    `    socket.create_connection(("127.0.0.1", ${o.port}), timeout=${o.timeoutSeconds}).close()`,
    "except Exception as e:",
    '    print(f"{type(e).__name__}: {e}")',
    "    sys.exit(1)",
  ].join("\n");
  return ["python", "-c", code];
}
