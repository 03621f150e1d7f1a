// Reading Caddy's log for the outcome of a domain's certificate order. Caddy logs JSON lines
// when its output is not a terminal (a container's is not); lines of another shape are skipped.
// Caddy 2.6 (certmagic, acmez), per domain ("identifier"):
//   http.acme_client "challenge failed": one challenge type the CA could not complete, with the
//     CA's problem (for HTTP-01: the URL it fetched and what it met at that address);
//   tls.obtain "could not get certificate from issuer": every challenge type failed; Caddy
//     retries later, but this order is over;
//   tls.obtain "certificate obtained successfully".
// Pure: no I/O.

export type CertificateOutcome =
  | { kind: "obtained" }
  | { kind: "failed"; /** Each failed challenge as "<type>: <the CA's problem>", in log order, without repeats. */ problems: string[] }
  | { kind: "pending" };

interface CaddyLine {
  logger?: unknown;
  msg?: unknown;
  identifier?: unknown;
  challenge_type?: unknown;
  error?: unknown;
}

/** A line as JSON; another shape gives a value without these fields (or undefined), which matches nothing. */
function parseLine(line: string): CaddyLine | undefined {
  try {
    return JSON.parse(line) as CaddyLine;
  } catch {
    return undefined;
  }
}

/** The outcome of the latest order for `domain` in these log lines (oldest first). */
export function certificateOutcome(log: string, domain: string): CertificateOutcome {
  let outcome: CertificateOutcome = { kind: "pending" };
  let problems: string[] = [];
  for (const text of log.split("\n")) {
    // JSON.parse skips the whitespace around a value itself.
    const line = parseLine(text);
    if (line?.identifier !== domain) continue;
    if (line.logger === "http.acme_client" && line.msg === "challenge failed") {
      const problem = `${String(line.challenge_type ?? "challenge")}: ${String(line.error ?? "no detail")}`;
      if (!problems.includes(problem)) problems.push(problem);
    } else if (line.logger === "tls.obtain" && line.msg === "could not get certificate from issuer") {
      outcome = { kind: "failed", problems: problems.length > 0 ? problems : [String(line.error ?? "no detail")] };
      problems = [];
    } else if (line.logger === "tls.obtain" && line.msg === "certificate obtained successfully") {
      outcome = { kind: "obtained" };
      problems = [];
    }
  }
  return outcome;
}
