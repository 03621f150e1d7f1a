// Moving a role's traffic from the running container to a new one, as docker steps. No I/O but reading drain.py.
//
// The new container runs without a host port and off the proxy network until it passed its
// gate. Then:
//   attach: it joins the proxy network under the role's alias: from now on the alias resolves
//           to both containers, and the proxy reaches it by name (checked);
//   retire, for each previous container:
//     drain: a helper in its network namespace (the proxy image: iptables, python3) refuses new
//            connections to its port, so the proxy's dials fall through to the new container
//            (for any method), and waits until the open connections (queued ones included)
//            are done;
//     then:  it leaves the proxy network (Docker's DNS drops it while it still runs, with
//            nothing in flight), and is stopped gracefully; it is kept for rollback, and
//            starting it again routes nothing to it before its gate.
//     If the helper cannot refuse connections, nothing changed: the fallback stops the old
//     container first (SIGTERM: most servers then reset connections still queued, and
//     Docker's DNS may still name it while it is torn down), then takes it off the network.
// Why: bench/proxy.ts measures each variant; Caddy 2.6.2 retries GETs but cannot
// retry a request with a body (the retry reads a closed body), so only this order keeps
// POSTs whole.
// If the gate fails, the new container never joined: nothing to undo on the proxy side (the
// deployer removes it as before). If attach fails, `abort` takes it off the network again.
// A rollback is the same switch with the kept container as `next`.
import * as fs from "node:fs";
import * as path from "node:path";
import { IMAGE_REF } from "../../image/imageRef";
import { probeArgv } from "../../image/probe";
import { connectNetwork, disconnectNetwork, execInContainer, runInNetworkOf, stopContainers } from "../dockerCommands";
import { ProxyNames, upstreamAlias } from "./proxyContainer";
import { check, isPort } from "../check";
import type { DockerStep } from "./steps";

export type ReachCheck = { kind: "http"; path: string } | { kind: "tcp" };

export interface SwitchInput {
  proxy: ProxyNames;
  /** The proxy image (iptables, python3): runs the drain helper in a previous container's network namespace. */
  proxyImage: string;
  role: string;
  /** The container to send traffic to: running, gated, not on the proxy network. */
  next: string;
  /** The containers now serving the role (none on the first deploy). */
  previous: string[];
  /** The port the role listens on inside its container. */
  port: number;
  /** How the proxy checks that it reaches `next`: GET path answers 2xx/3xx, or a TCP connect. */
  reach: ReachCheck;
  /** How long a previous container may take to finish its open requests (the drain wait, and `docker stop --time`). */
  drainSeconds: number;
  /** How long the reach check retries before the switch is aborted (default 10). */
  reachSeconds?: number;
}

export interface SwitchPlan {
  /** Run in order; if one fails, run `abort`: the previous containers still serve. */
  attach: DockerStep[];
  abort: DockerStep[];
  /** After `attach` succeeded, one per previous container. */
  retire: Retirement[];
}

export interface Retirement {
  container: string;
  /** Refuses new connections and waits for the open ones; fails only if it could not refuse (then nothing changed). */
  drain: DockerStep;
  /** After the drain: off the network, then stopped. */
  then: DockerStep[];
  /** Instead of `then` when the drain failed: stopped, then off the network. */
  ifDrainFails: DockerStep[];
}

const CONTAINER = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function switchPlan(i: SwitchInput): SwitchPlan {
  const alias = upstreamAlias(i.proxy.app, i.role);
  for (const c of [i.next, ...i.previous]) {
    check(CONTAINER.test(c), `container name ${JSON.stringify(c)} is not a Docker container name`);
  }
  check(!i.previous.includes(i.next), `container ${i.next} is both the next and a previous container of role ${i.role}`);
  check(isPort(i.port), `role ${i.role}: port must be an integer 1-65535, got ${i.port}`);
  check(IMAGE_REF.test(i.proxyImage), `proxy image ${JSON.stringify(i.proxyImage)} is not an image reference`);
  check(Number.isInteger(i.drainSeconds) && i.drainSeconds >= 0, `drainSeconds must be an integer >= 0, got ${i.drainSeconds}`);
  if (i.reach.kind === "http") {
    check(/^\/[^\s\0]*$/.test(i.reach.path), `role ${i.role}: reach path ${JSON.stringify(i.reach.path)} must start with / and have no whitespace`);
  }
  const reachSeconds = i.reachSeconds ?? 10;
  check(Number.isInteger(reachSeconds) && reachSeconds >= 1, `reachSeconds must be an integer >= 1, got ${reachSeconds}`);
  const net = i.proxy.network;
  return {
    attach: [
      {
        purpose: `route ${alias} to ${i.next}`,
        argv: connectNetwork(net, i.next, alias),
      },
      {
        purpose: `the proxy reaches ${i.next} on port ${i.port}`,
        argv: execInContainer(i.proxy.container, reachProbe(i.next, i.port, i.reach)),
        retrySeconds: reachSeconds,
      },
    ],
    abort: [
      {
        purpose: `take ${i.next} off ${net}: ${alias} stays on the previous containers`,
        argv: disconnectNetwork(net, i.next, { force: true }),
        allowFailure: true,
      },
    ],
    retire: i.previous.map((p): Retirement => {
      const stop: DockerStep = { purpose: `stop ${p} (kept for rollback)`, argv: stopContainers([p], i.drainSeconds) };
      const detach: DockerStep = {
        purpose: `take ${p} off ${net}: ${alias} no longer names it, and starting it again routes nothing to it before its gate`,
        argv: disconnectNetwork(net, p),
      };
      return {
        container: p,
        drain: {
          purpose: `refuse new connections to ${p} on port ${i.port} and wait up to ${i.drainSeconds}s for the open ones`,
          argv: runInNetworkOf(p, i.proxyImage, drainHelper(i.port, i.drainSeconds)),
        },
        then: [detach, stop],
        ifDrainFails: [stop, detach],
      };
    }),
  };
}

/** drain.py beside this file, run by the proxy image's python3 (iptables, /proc/net/tcp). */
export const DRAIN_SCRIPT = path.join(__dirname, "drain.py");

function drainHelper(port: number, drainSeconds: number): string[] {
  return ["python3", "-c", fs.readFileSync(DRAIN_SCRIPT, "utf8"), String(port), String(drainSeconds)];
}

/** The one probe (image/probe.py) from the proxy container to the new one: a GET of the path, or a TCP connect; 3 s. */
function reachProbe(host: string, port: number, reach: ReachCheck): string[] {
  return probeArgv("python3", { host, port, path: reach.kind === "http" ? reach.path : undefined, timeoutSeconds: 3 });
}
