// Ready-made commands for the seed's manual checks (docker ps, logs, docker exec, lsof),
// run locally or through SSH. Pure.
import { quote } from "shell-quote";
import { LABEL_APP } from "../image/labels";
import { LABEL_ROLE, RoleSettings } from "./containerSpec";
import { restoreCommand } from "./services/serviceCommands";
import { REDIS_CONFIG_FILE, type ServiceSettings, type SnapshotSettings } from "./services/serviceSpec";

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
  /** Per PostgreSQL service on the server: an interactive psql. */
  psql?: Record<string, string>;
  /** Per Redis service on the server: an interactive redis-cli, authenticated from its config file. */
  redisCli?: Record<string, string>;
  /** Loads the newest snapshot back into the database it was taken of. */
  restoreSnapshot?: string;
}

export function operatorCommands(o: { app: string; roles: RoleSettings[]; hasLsof: boolean; ssh?: SshTarget; services?: ServiceSettings[]; snapshot?: SnapshotSettings }): OperatorCommands {
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
    ...serviceCommands(o.services ?? [], o.snapshot, onServer),
  };
}

function serviceCommands(services: ServiceSettings[], snapshot: SnapshotSettings | undefined, onServer: (cmd: string, tty?: boolean) => string): Partial<OperatorCommands> {
  const psql = services.flatMap((s) => (s.postgres ? [[s.name, onServer(`docker exec -it ${s.container} psql --username ${s.postgres.user} ${s.postgres.database}`, true)]] : []));
  // The password is read inside the container into REDISCLI_AUTH: never on a command line.
  const redisCli = services.flatMap((s) =>
    s.redisConfig ? [[s.name, onServer(`docker exec -it ${s.container} sh -c ${quote([`REDISCLI_AUTH=$(sed -n 's/^requirepass //p' ${s.redisConfig.dir}/${REDIS_CONFIG_FILE}) exec redis-cli`])}`, true)]] : [],
  );
  return {
    ...(psql.length ? { psql: Object.fromEntries(psql) } : {}),
    ...(redisCli.length ? { redisCli: Object.fromEntries(redisCli) } : {}),
    ...(snapshot ? { restoreSnapshot: onServer(restoreCommand(snapshot.container, snapshot.user, snapshot.database, `"$(ls -1 ${snapshot.dir}/${snapshot.service}-*.dump | tail -n 1)"`)) } : {}),
  };
}

/** `docker ps` on every server of a fleet, each under a header naming it: one line to paste. */
export function fleetPsCommand(psCommands: string[]): string {
  return psCommands.map((ps, i) => `echo ${quote([`== server ${i + 1}`])}; ${ps}`).join("; ");
}
