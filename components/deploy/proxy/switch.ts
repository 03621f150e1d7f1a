// Moving a role's traffic from the running container to a new one, as docker steps. Pure.
//
// The new container runs without a host port and off the proxy network until it passed its
// gate. Then:
//   attach: it joins the proxy network under the role's alias: from now on the alias resolves
//           to both containers, and the proxy reaches it by name (checked);
//   retire: each previous container is stopped gracefully (SIGTERM, `docker stop --time`): it
//           finishes its requests while the proxy's new connections go to the new one (a
//           refused or reset connection is retried); once it has exited Docker's DNS drops it.
//           Then it leaves the proxy network, so that starting it again for a rollback does not
//           route traffic to it before its own gate.
// If the gate fails, the new container never joined: nothing to undo on the proxy side (the
// deployer removes it as before). If attach fails, `abort` takes it off the network again.
// A rollback is the same switch with the kept container as `next`.
import { ProxyNames, upstreamAlias } from "./proxyContainer";
import { check, DockerStep, isPort } from "./steps";

export type ReachCheck = { kind: "http"; path: string } | { kind: "tcp" };

export interface SwitchInput {
  proxy: ProxyNames;
  role: string;
  /** The container to send traffic to: running, gated, not on the proxy network. */
  next: string;
  /** The containers now serving the role (none on the first deploy). */
  previous: string[];
  /** The port the role listens on inside its container. */
  port: number;
  /** How the proxy checks that it reaches `next`: GET path answers 2xx/3xx, or a TCP connect. */
  reach: ReachCheck;
  /** `docker stop --time`: how long a previous container may take to finish its requests. */
  drainSeconds: number;
  /** How long the reach check retries before the switch is aborted (default 10). */
  reachSeconds?: number;
}

export interface SwitchPlan {
  /** Run in order; if one fails, run `abort`: the previous containers still serve. */
  attach: DockerStep[];
  abort: DockerStep[];
  /** After `attach` succeeded. */
  retire: DockerStep[];
}

const CONTAINER = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function switchPlan(i: SwitchInput): SwitchPlan {
  const alias = upstreamAlias(i.proxy.app, i.role);
  for (const c of [i.next, ...i.previous]) {
    check(CONTAINER.test(c), `container name ${JSON.stringify(c)} is not a Docker container name`);
  }
  check(!i.previous.includes(i.next), `container ${i.next} is both the next and a previous container of role ${i.role}`);
  check(isPort(i.port), `role ${i.role}: port must be an integer 1-65535, got ${i.port}`);
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
        argv: ["docker", "network", "connect", "--alias", alias, net, i.next],
      },
      {
        purpose: `the proxy reaches ${i.next} on port ${i.port}`,
        argv: ["docker", "exec", i.proxy.container, ...reachProbe(i.next, i.port, i.reach)],
        retrySeconds: reachSeconds,
      },
    ],
    abort: [
      {
        purpose: `take ${i.next} off ${net}: ${alias} stays on the previous containers`,
        argv: ["docker", "network", "disconnect", "--force", net, i.next],
        allowFailure: true,
      },
    ],
    retire: i.previous.flatMap((p): DockerStep[] => [
      {
        purpose: `drain and stop ${p} (kept for rollback)`,
        argv: ["docker", "stop", "--time", String(i.drainSeconds), p],
      },
      {
        purpose: `take ${p} off ${net}, so that starting it again routes nothing to it before its gate`,
        argv: ["docker", "network", "disconnect", net, p],
      },
    ]),
  };
}

// Standard-library Python (the proxy image is FROM the app's Python base): exits 0 iff
// `host:port` accepts a connection and, for http, GET path answers 2xx/3xx within 3 s.
const REACH_CODE = [
  "import http.client, socket, sys",
  "host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]",
  "try:",
  "    if path == '':",
  "        socket.create_connection((host, port), timeout=3).close()",
  "        sys.exit(0)",
  "    c = http.client.HTTPConnection(host, port, timeout=3)",
  "    c.request('GET', path)",
  "    status = c.getresponse().status",
  "except (OSError, http.client.HTTPException) as e:",
  "    sys.exit(f'{host}:{port}: {e}')",
  "sys.exit(0 if 200 <= status < 400 else f'GET {path}: HTTP {status}')",
].join("\n");

function reachProbe(host: string, port: number, reach: ReachCheck): string[] {
  return ["python3", "-c", REACH_CODE, host, String(port), reach.kind === "http" ? reach.path : ""];
}
