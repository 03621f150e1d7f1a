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
}

export function checkFleet(f: FleetFacts, problem: Problem): void {
  const servers = f.size === 1 ? "one server" : `${f.size} servers`;
  if (f.rollingBatch > f.size) problem("deploy.rollingBatch", `is ${f.rollingBatch}, but the stack has ${servers} (${f.sizeKey}): expected 1 to ${f.size}`);
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
    if (r.domain === undefined) continue;
    problem(
      f.ownDomains.includes(r.name) ? `app.roles.${r.name}.domain` : "app.domain",
      `gets its certificate by an ACME HTTP challenge on the server, which with ${servers} may land on another one. HTTPS for several servers is not supported yet: serve HTTP behind your own TLS terminator, or deploy to one server`,
    );
  }
}
