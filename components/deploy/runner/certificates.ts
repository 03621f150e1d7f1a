// After a release whose proxy serves domains: each domain must end with a certificate, or the
// release fails with the CA's reason. Caddy orders certificates in the background and retries
// for days; a deploy that passed while the domain pointed elsewhere would leave the site broken
// with nobody told. Polls the proxy's volume (a certificate from this or an earlier order) and
// the proxy's log since the config was loaded (the CA's answer).
import { containerLogsSince } from "../dockerCommands";
import { certificateOutcome } from "../proxy/acmeLog";
import { certificateFiles, type ProxyNames } from "../proxy/proxyContainer";
import type { DockerHost } from "./transport";

export interface CertificateWait {
  domains: string[];
  timeoutSeconds: number;
  /** When the proxy's config was loaded (Date.now()): its log before that is an older order's. */
  since: number;
  /** The server's address as users' DNS should name it; unset: this machine. */
  serverAddress?: string;
  pollMs?: number;
  log: (line: string) => void;
}

export async function awaitCertificates(host: DockerHost, names: ProxyNames, o: CertificateWait): Promise<void> {
  for (const domain of o.domains) await awaitCertificate(host, names, domain, o);
}

async function awaitCertificate(host: DockerHost, names: ProxyNames, domain: string, o: CertificateWait): Promise<void> {
  const started = Date.now();
  let announced = false;
  for (;;) {
    // A listed file is there, whatever else find met; a proxy that cannot be asked yet lists none.
    const files = await host.run(certificateFiles(names, domain), { allowFailure: true });
    if (files.stdout !== "") {
      o.log(`HTTPS for ${domain}: the proxy has its certificate`);
      return;
    }
    // Whole seconds, rounded up, plus one: a line logged as the config loaded is included.
    const seconds = Math.ceil((Date.now() - o.since) / 1000) + 1;
    const logs = await host.run(containerLogsSince(names.container, seconds), { allowFailure: true });
    const outcome = certificateOutcome(`${logs.stdout}\n${logs.stderr}`, domain);
    if (outcome.kind === "failed") throw new Error(challengeFailed(domain, outcome.problems, o.serverAddress));
    // Obtained but not yet on the volume: the next look finds the file.
    if (Date.now() - started >= o.timeoutSeconds * 1000) {
      throw new Error(
        `HTTPS for ${domain}: no certificate within ${o.timeoutSeconds}s (deploy.acme.timeoutSeconds), and no answer from the CA in the proxy's log. ` +
          `Check that the proxy reaches the ACME directory, then run pulumi up again`,
      );
    }
    if (!announced) {
      o.log(`HTTPS for ${domain}: waiting for the certificate (up to ${o.timeoutSeconds}s)`);
      announced = true;
    }
    await new Promise((r) => setTimeout(r, o.pollMs ?? 1000));
  }
}

/** The error for a failed order: the name, where it should point, and what the CA met there. */
export function challengeFailed(domain: string, problems: string[], serverAddress: string | undefined): string {
  const server = serverAddress ?? "this machine";
  return (
    `HTTPS for ${domain}: the ACME challenge failed, so no certificate was issued. ` +
    `The CA must reach this server (${server}) at ${domain} on port 80 or 443, and did not: ${problems.join("; ")}. ` +
    `Point ${domain}'s DNS record (A or AAAA) at ${server}, open ports 80 and 443 to the internet, and run pulumi up again`
  );
}
