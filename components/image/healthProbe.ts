// The HTTP health probe run inside the container. Slim Python images have no curl or wget,
// so the probe is a few lines of standard-library Python run by the image's own interpreter.

export interface HealthProbeOptions {
  port: number;
  path: string;
  timeoutSeconds: number;
}

/**
 * Exec-form argv run INSIDE the container (python from the image's venv; no curl in slim images):
 * exits 0 iff GET http://127.0.0.1:<port><path> answers 2xx/3xx within timeoutSeconds.
 */
export function pythonHealthProbe(o: HealthProbeOptions): string[] {
  const code = [
    "import http.client, signal, sys",
    // A deadline for the whole request: the socket timeout alone restarts with every byte read.
    "signal.signal(signal.SIGALRM, lambda *_: sys.exit(1))",
    `signal.setitimer(signal.ITIMER_REAL, ${o.timeoutSeconds})`,
    "try:",
    `    c = http.client.HTTPConnection("127.0.0.1", ${o.port}, timeout=${o.timeoutSeconds})`,
    // A JSON string is a valid Python string literal.
    `    c.request("GET", ${JSON.stringify(o.path)})`,
    "    status = c.getresponse().status",
    "except Exception:",
    "    sys.exit(1)",
    // http.client does not follow redirects, so a 3xx counts as an answer, as documented.
    "sys.exit(0 if 200 <= status < 400 else 1)",
  ].join("\n");
  return ["python", "-c", code];
}

/** Exec-form argv run inside the container: exits 0 iff something accepts TCP on 127.0.0.1:<port>. */
export function pythonTcpProbe(o: { port: number; timeoutSeconds: number }): string[] {
  return ["python", "-c", `import socket\nsocket.create_connection(("127.0.0.1", ${o.port}), timeout=${o.timeoutSeconds}).close()`];
}
