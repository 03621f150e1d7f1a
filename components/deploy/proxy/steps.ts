// The proxy's server-side actions as data: docker CLI argv lists the deployer runs in order
// (over SSH, or locally in tests). Pure: no I/O, no Pulumi.

/** Named inputs a step reads on stdin; the deployer supplies them (they never go on a command line). */
export type ProxyStdin = "proxyConfig" | "acmeCaRoot";

export interface DockerStep {
  /** What the step does, in words, for logs and failure messages. */
  purpose: string;
  /** One command, no shell. */
  argv: string[];
  /** Skip the step when this command exits 0 and, if `stdout` is given, prints exactly it (trimmed). */
  skipIf?: { argv: string[]; stdout?: string };
  /** Feed this input on stdin. */
  stdin?: ProxyStdin;
  /** Repeat the command once a second until it exits 0, for at most this many seconds; then the step fails. */
  retrySeconds?: number;
  /** A non-zero exit is not a failure (e.g. removing something that may be gone already). */
  allowFailure?: boolean;
}
