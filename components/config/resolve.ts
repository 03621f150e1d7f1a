// Values derived from the parsed stack config: the environment, the project on disk, each role's
// publish port and domain, the SSH CIDR default and the ship mode. Checks live in the section files.
import * as fs from "node:fs";
import * as path from "node:path";
import type { ParsedApp, RoleConfig } from "./app";
import { findRequirementsFile, resolveDependencySource } from "./dependencySource";
import type { Problem } from "./errors";
import { DependencyError } from "./requirementsFiles";
import type { AlicloudServerConfig, ParsedServer } from "./server";

export type Environment = "development" | "production";

/** Unset: production for stacks named prod*, else development. */
export function resolveEnvironment(environment: Environment | undefined, stack: string): Environment {
  return environment ?? (/^prod/.test(stack) ? "production" : "development");
}

/**
 * The project's absolute path and its requirements file, read the way the Dockerfile renderer
 * reads them, so a broken include fails here, before anything is created.
 */
export function resolveProject(baseDir: string, app: ParsedApp, problem: Problem): { path: string; requirements?: string } {
  const appPath = path.resolve(baseDir, app.path);
  if (!isDirectory(appPath)) {
    problem("app.path", `expected a directory holding the Python project, but ${appPath} does not exist or is not a directory`);
    return { path: appPath };
  }
  let requirements: string | undefined;
  try {
    requirements = findRequirementsFile(appPath, app.requirements);
    resolveDependencySource(appPath, requirements, app.extras);
  } catch (err) {
    if (!(err instanceof DependencyError)) throw err;
    problem(err.key, err.message);
  }
  return { path: appPath, requirements };
}

/**
 * Each role in declaration order: app.domain goes to the one role with a port; a role with a
 * port publishes it on the same host port unless `publish` says otherwise, and none with a domain.
 */
export function resolveRoles(app: ParsedApp): RoleConfig[] {
  const withPort = Object.entries(app.roles).filter(([, r]) => r.port !== undefined).map(([name]) => name);
  return Object.entries(app.roles).map(([name, r]) => {
    const domain = r.domain ?? (app.domain !== undefined && withPort.length === 1 && withPort[0] === name ? app.domain : undefined);
    return {
      name,
      command: r.command,
      port: r.port,
      publish: r.port === undefined || domain !== undefined ? undefined : (r.publish ?? r.port),
      healthcheck: r.healthcheck,
      domain,
      proxy: r.port !== undefined && r.proxy,
    };
  });
}

/** Outside production, SSH unset opens to 0.0.0.0/0, and the stack warns (production refuses it: checkAlicloudServer). */
export function resolveServer(project: string, s: ParsedServer, environment: Environment, warnings: string[]): AlicloudServerConfig {
  let sshAllowedCidrs = s.sshAllowedCidrs;
  if (environment !== "production" && !sshAllowedCidrs) {
    sshAllowedCidrs = ["0.0.0.0/0"];
    warnings.push(`${project}:server.sshAllowedCidrs is not set: SSH (port ${s.sshPort}) is open to 0.0.0.0/0 on this ${environment} stack. Set it to your own address, e.g. ["203.0.113.7/32"].`);
  }
  // One server is reached directly; several share the load balancer's address.
  const loadBalancer = { enabled: s.loadBalancer.enabled ?? s.count > 1, spec: s.loadBalancer.spec, ...(s.loadBalancer.certificate ? { certificate: s.loadBalancer.certificate } : {}) };
  return { ...s, sshAllowedCidrs: sshAllowedCidrs ?? [], loadBalancer };
}

/** Unset: registry when a registry is configured, else copy. */
export function resolveShip(ship: "copy" | "registry" | undefined, hasRegistry: boolean): "copy" | "registry" {
  return ship ?? (hasRegistry ? "registry" : "copy");
}

function isDirectory(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** The image the app (and its proxy) are built FROM: `app.baseImage`, else the official slim Python. */
export function baseImageOf(app: Pick<ParsedApp, "baseImage" | "python">): string {
  return app.baseImage ?? `python:${app.python}-slim`;
}
