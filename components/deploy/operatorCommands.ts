// Ready-made commands for the seed's manual checks (docker ps, logs, docker exec, lsof),
// run locally or through SSH. Pure.
import { quote } from "shell-quote";
import { LABEL_APP } from "../image/labels";
import { LABEL_ROLE, RoleSettings } from "./containerSpec";

export interface SshTarget {
  user: string;
  host: string;
  port: number;
  /** Where the user keeps the private key; shown, never read. */
  keyFile: string;
}

export interface OperatorCommands {
  ssh?: string;
  ps: string;
  logs: Record<string, string>;
  shell: string;
  ports: string;
}

export function operatorCommands(o: { app: string; roles: RoleSettings[]; hasLsof: boolean; ssh?: SshTarget }): OperatorCommands {
  const running = (role: string) => `$(docker ps -q --filter label=${LABEL_APP}=${o.app} --filter label=${LABEL_ROLE}=${role})`;
  const first = o.roles[0];
  const port = o.roles.flatMap((r) => r.ports)[0]?.container;
  const ssh = (tty: boolean) => o.ssh && `ssh${tty ? " -t" : ""} -i ${o.ssh.keyFile} -p ${o.ssh.port} ${o.ssh.user}@${o.ssh.host}`;
  // Remote commands travel as one quoted argument so $(...) runs on the server.
  const onServer = (cmd: string, tty = false) => (o.ssh ? `${ssh(tty)} ${quote([cmd])}` : cmd);
  const inspectPorts = o.hasLsof && port !== undefined ? `lsof -i:${port}` : "cat /proc/net/tcp";
  return {
    ssh: ssh(false),
    ps: onServer(`docker ps -a --filter label=${LABEL_APP}=${o.app}`),
    logs: Object.fromEntries(o.roles.map((r) => [r.role, onServer(`docker logs --tail 100 -f ${running(r.role)}`)])),
    shell: onServer(`docker exec -it ${running(first.role)} bash`, true),
    ports: onServer(`docker exec ${running(first.role)} ${inspectPorts}`),
  };
}
