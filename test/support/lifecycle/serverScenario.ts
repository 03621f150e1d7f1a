// The set-up every lifecycle file that deploys over SSH shares: a fresh test server, a copy of the
// example project and an engine state folder; and the tear-down that removes all three and the
// app's local images, whatever part of the set-up was reached.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ensureBaseImage } from "../docker/localEngine";
import { startTestServer, stopTestServer, TestServer } from "../ssh/sshServer";
import { ExampleProject, removeAppImages } from "./exampleProject";

export interface ServerScenario {
  server: TestServer;
  project: ExampleProject;
  stateDir: string;
}

/** `stateName` names the state folder (pydeploy-<stateName>-XXXX) so a leftover one says whose it is. */
export async function startServerScenario(stateName: string, serverOptions: Parameters<typeof startTestServer>[0] = {}): Promise<ServerScenario> {
  ensureBaseImage();
  const server = await startTestServer(serverOptions);
  return { server, project: new ExampleProject(), stateDir: fs.mkdtempSync(path.join(os.tmpdir(), `pydeploy-${stateName}-`)) };
}

export async function stopServerScenario(app: string, scenario: Partial<ServerScenario>): Promise<void> {
  if (scenario.server) await stopTestServer(scenario.server);
  scenario.project?.cleanup();
  if (scenario.stateDir) fs.rmSync(scenario.stateDir, { recursive: true, force: true });
  await removeAppImages(app);
}

/** The stack config that deploys to the test server as root over SSH, its host key pinned. */
export function existingTargetConfig(server: TestServer): Record<string, unknown> {
  return {
    "pydeploy:target": "existing",
    "pydeploy:host": { address: server.host, port: 22, user: "root", hostKey: server.hostKey },
    "pydeploy:sshPrivateKey": server.privateKey,
  };
}
