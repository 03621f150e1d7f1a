// Several servers (server.count, hosts): the rolling batch, where the services live (on the first
// server), and what a fleet cannot spread over its servers (a volume's data, an ACME certificate).
import type { RoleConfig } from "./app";
import type { Problem } from "./errors";
import type { ExistingHostConfig } from "./host";
import { sharedServicePort, type ServiceConfig } from "./services";

export interface FleetFacts {
  /** How many servers the stack deploys to, and the key that says so. */
  size: number;
  sizeKey: string;
  rollingBatch: number;
  appVolumes: string[];
  services: ServiceConfig[];
  roles: RoleConfig[];
  /** Host ports the app's roles publish, and the role that does. */
  hostPorts: Map<number, string>;
  /** Target existing with `hosts`: the servers, the first one holding the services. */
  hosts?: ExistingHostConfig[];
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
  checkServicesOnFirstServer(f, servers, problem);
  for (const r of f.roles) {
    if (r.domain === undefined || f.loadBalancer?.enabled) continue;
    problem(
      f.ownDomains.includes(r.name) ? `app.roles.${r.name}.domain` : "app.domain",
      `gets its certificate by an ACME HTTP challenge on the server, which with ${servers} may land on another one. HTTPS for several servers ends on a load balancer: on alicloud, set server.loadBalancer.certificate and the secret loadBalancerCertificateKey; on your own hosts, serve HTTP behind your own TLS terminator, or deploy to one server`,
    );
  }
}

/**
 * Service containers run on the first server; the others reach them at its private address, where
 * each publishes its port. So that address must be known, and the port free of the app's.
 */
function checkServicesOnFirstServer(f: FleetFacts, servers: string, problem: Problem): void {
  const shared = f.services.filter((s) => !s.managed && sharedServicePort(s) !== undefined);
  if (shared.length === 0) return;
  if (f.hosts && f.hosts[0].privateIp === undefined) {
    problem(
      "hosts[0].privateIp",
      `is required with ${servers} and the service${shared.length > 1 ? "s" : ""} ${shared.map((s) => s.name).join(", ")}: they run on the first host, and the others reach them at its private IP address (their ports are published there only), e.g. privateIp: 10.0.0.5`,
    );
  }
  for (const s of shared) {
    const port = sharedServicePort(s)!;
    const role = f.hostPorts.get(port);
    if (role) problem(`services.${s.name}`, `listens on port ${port} of the first server for the other servers, but role ${role} publishes port ${port} there: publish the role on another port`);
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
