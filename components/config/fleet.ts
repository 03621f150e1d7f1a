// Several servers (server.count, hosts): the rolling batch, and what a fleet cannot spread over
// its servers yet (a volume's data, a service container, an ACME certificate).
import type { RoleConfig } from "./app";
import type { Problem } from "./errors";
import type { ServiceConfig } from "./services";

export interface FleetFacts {
  /** How many servers the stack deploys to, and the key that says so. */
  size: number;
  sizeKey: string;
  rollingBatch: number;
  appVolumes: string[];
  services: ServiceConfig[];
  roles: RoleConfig[];
  /** Roles whose domain is their own key (else it came from app.domain). */
  ownDomains: string[];
  /** Target alicloud: the CLB, and whether loadBalancerCertificateKey is set. */
  loadBalancer?: { enabled: boolean; certificate?: string };
  certificateKey: boolean;
}

export function checkFleet(f: FleetFacts, problem: Problem): void {
  const servers = f.size === 1 ? "one server" : `${f.size} servers`;
  if (f.rollingBatch > f.size) problem("deploy.rollingBatch", `is ${f.rollingBatch}, but the stack has ${servers} (${f.sizeKey}): expected 1 to ${f.size}`);
  checkLoadBalancerHttps(f, problem);
  if (f.size === 1) return;
  for (const volume of f.appVolumes) {
    problem(
      `app.volumes.${volume}`,
      `lives on one server, but ${f.sizeKey} gives ${servers}: each would keep its own copy, so a SQLite database or uploads would split between them. ` +
        "Keep the data in a service (pydeploy:services, managed: true on alicloud) or object storage, or deploy to one server",
    );
  }
  for (const s of f.services) {
    if (s.managed) continue;
    problem(`services.${s.name}`, `runs as a container beside the app, which only that server's containers reach; with ${servers}, set managed: true (target alicloud), or deploy to one server`);
  }
  for (const r of f.roles) {
    if (r.domain === undefined || f.loadBalancer?.enabled) continue;
    problem(
      f.ownDomains.includes(r.name) ? `app.roles.${r.name}.domain` : "app.domain",
      `gets its certificate by an ACME HTTP challenge on the server, which with ${servers} may land on another one. HTTPS for several servers ends on a load balancer: on alicloud, set server.loadBalancer.certificate and the secret loadBalancerCertificateKey; on your own hosts, serve HTTP behind your own TLS terminator, or deploy to one server`,
    );
  }
}

/** HTTPS on the CLB: its certificate and key together, for exactly one role with a domain. */
function checkLoadBalancerHttps(f: FleetFacts, problem: Problem): void {
  const lb = f.loadBalancer;
  const domainKey = (r: RoleConfig) => (f.ownDomains.includes(r.name) ? `app.roles.${r.name}.domain` : "app.domain");
  const domains = f.roles.filter((r) => r.domain !== undefined);
  if (f.certificateKey && !lb?.certificate) problem("loadBalancerCertificateKey", "is set but server.loadBalancer.certificate is not: give the certificate chain (PEM) it belongs to");
  if (!lb) return;
  if (lb.certificate && !f.certificateKey) problem("loadBalancerCertificateKey", "is required with server.loadBalancer.certificate: the certificate's private key (pulumi config set --secret loadBalancerCertificateKey < key.pem)");
  if (lb.certificate && !lb.enabled) problem("server.loadBalancer.certificate", "is set but the load balancer is off (server.loadBalancer.enabled: false, or one server): turn it on, or drop the certificate");
  if (lb.certificate && lb.enabled && domains.length === 0) problem("server.loadBalancer.certificate", "is set but no role has a domain: set app.domain to the name the certificate is for");
  if (!lb.enabled) return;
  // Behind the CLB each server serves the domain's role on plain HTTP port 80: one role can.
  for (const r of domains.slice(1)) problem(domainKey(r), `is a second domain behind the load balancer (${domains[0].name} has ${domains[0].domain}): the CLB's HTTPS listener serves one certificate for one role`);
  if (domains.length > 0 && !lb.certificate) {
    problem(domainKey(domains[0]), "is behind the load balancer, where HTTPS ends: set server.loadBalancer.certificate (the certificate chain for this name, PEM) and the secret loadBalancerCertificateKey");
  }
}
