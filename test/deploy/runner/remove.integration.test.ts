// `pulumi destroy` of a stack deployed by an earlier pydeploy: the deployer of today runs the
// host step's delete (`remove`) with the spec and stdout that version stored (recorded in
// test/deploy/fixtures/hostSpec.v0.json), against this machine's engine, by the delete command
// that version stored (main.ts under tsx) and by today's (the bundled launcher). Only the app
// name is changed, to one of this test's own.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { runnerCommand } from "../../../components/deploy/spec";
import { BASE_IMAGE, docker, ensureBaseImage, REPO_ROOT, run, uniqueName } from "../../support/docker/localEngine";

const v0 = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "hostSpec.v0.json"), "utf8"));
const APP = uniqueName("v0rm");
/** The host step's delete as stacks deployed before launch.cjs stored it, and as today's store it. */
const DELETE_COMMANDS = [
  { stored: "before launch.cjs", command: "node --import tsx components/deploy/runner/main.ts remove" },
  { stored: "today", command: runnerCommand("remove") },
];
const home = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-remove-v0-"));

after(async () => {
  await docker(["rm", "--force", `${APP}-web-0123456789ab`], { allowFailure: true });
  fs.rmSync(home, { recursive: true, force: true });
});

for (const { stored, command } of DELETE_COMMANDS) {
  test(`remove takes the app off the local engine with a v0 spec and token, by the delete command stored ${stored}`, { timeout: 120_000 }, async () => {
    ensureBaseImage();
    const spec = { ...v0.local.spec, app: APP, appDir: `.pydeploy/${APP}` };
    const token = /"owner":"([0-9a-f]+)"/.exec(v0.local.stdout)![1];
    const folder = path.join(home, spec.appDir);
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, "owner"), `${token}\n`);
    await docker(["run", "--detach", "--name", `${APP}-web-0123456789ab`, "--label", `pydeploy.app=${APP}`, "--entrypoint", "sleep", BASE_IMAGE, "300"]);

    const r = await run("sh", ["-c", command], {
      cwd: REPO_ROOT,
      env: { ...process.env, HOME: home, PYDEPLOY_SPEC: JSON.stringify(spec), PULUMI_COMMAND_STDOUT: v0.local.stdout },
      input: "{}",
      allowFailure: true,
    });
    assert.equal(r.code, 0, `remove succeeds:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`pydeploy: app ${APP} removed from the local Docker engine`), "it removed the app");
    assert.equal((await docker(["ps", "--all", "--quiet", "--filter", `label=pydeploy.app=${APP}`])).stdout.trim(), "", "no container of the app is left");
    assert.ok(!fs.existsSync(folder), "nor its folder");
  });
}
