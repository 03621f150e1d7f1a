// docker.Image under the engine harness, on the real Docker engine: preview never builds, the
// context digest (with .dockerignore) decides rebuilds, and an image removed locally is not
// rebuilt when nothing changed (Read does not reconcile).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { reveal, UNKNOWN } from "../support/engine";
import { BASE_IMAGE, docker, ensureBaseImage, uniqueName } from "../support/docker/localEngine";
import { fixtureRun, mustSucceed, ops } from "../support/engine/fixtureRun";

const run = fixtureRun("image.ts");
const imageName = `${uniqueName("pydeploy-engine-test")}/app:latest`;
const context = path.join(run.dir, "context");
const marker = path.join(run.dir, "marker");
const config = { "fixture:imageName": imageName, "fixture:context": context, "fixture:marker": marker };

before(() => {
  ensureBaseImage();
  fs.mkdirSync(path.join(context, "cache"), { recursive: true });
  fs.writeFileSync(path.join(context, "Dockerfile"), `FROM ${BASE_IMAGE}\nCOPY . /app/\n`);
  fs.writeFileSync(path.join(context, "app.txt"), "v1\n");
  fs.writeFileSync(path.join(context, ".dockerignore"), "ignored.txt\ncache\n");
  fs.writeFileSync(path.join(context, "ignored.txt"), "a\n");
  fs.writeFileSync(path.join(context, "cache", "blob"), "a\n");
});
after(async () => {
  await docker(["image", "rm", "--force", imageName], { allowFailure: true });
  run.cleanup();
});

const imageId = async () => {
  const r = await docker(["image", "inspect", "--format", "{{.Id}}", imageName], { allowFailure: true });
  return r.code === 0 ? r.stdout.trim() : undefined;
};

test("docker.Image: preview builds nothing, a change in the context rebuilds, ignored files and a removed image do not", { timeout: 600_000 }, async () => {
  const stack = run.stack(config);
  const preview = mustSucceed(await stack.preview(), "first preview");
  assert.deepEqual(ops(preview), ["app:create"], "a create is planned");
  assert.equal(preview.outputs.repoDigest, UNKNOWN, "repoDigest is unknown in preview");
  assert.equal(await imageId(), undefined, "preview built nothing");
  assert.equal(fs.existsSync(marker), false, "the apply on repoDigest did not run");

  const first = mustSucceed(await stack.up(), "first up");
  const id1 = await imageId();
  assert.ok(id1?.startsWith("sha256:"), `the image was built (${id1})`);
  assert.equal(reveal(first.outputs.repoDigest), id1, "repoDigest is the local image ID (skipPush)");
  assert.equal(fs.readFileSync(marker, "utf8"), id1, "the apply ran with the digest");
  const stored = stack.resources().find((r) => r.name === "app")!;
  assert.match(reveal(stored.inputs.build).contextDigest, /^[0-9a-f]{64}$/, "Check stored the context digest as an input");

  fs.writeFileSync(path.join(context, "ignored.txt"), "b\n");
  fs.writeFileSync(path.join(context, "cache", "blob"), "b\n");
  const ignored = mustSucceed(await stack.up(), "up after ignored changes");
  assert.deepEqual(ops(ignored), ["app:same"], "changes to .dockerignored files and directories rebuild nothing");

  await docker(["image", "rm", imageName]);
  const removed = mustSucceed(await stack.up(), "up after docker image rm");
  assert.deepEqual(ops(removed), ["app:same"], "the provider does not notice the image is gone");
  assert.equal(await imageId(), undefined, "and does not rebuild it");

  fs.writeFileSync(path.join(context, "app.txt"), "v2\n");
  fs.rmSync(marker);
  const changedPreview = mustSucceed(await stack.preview(), "preview of a change");
  assert.deepEqual(ops(changedPreview), ["app:update"], "a context change is an update (a rebuild)");
  assert.equal(changedPreview.outputs.repoDigest, UNKNOWN, "the new digest is unknown in preview");
  assert.equal(fs.existsSync(marker), false, "the apply downstream of the changed image did not run");
  assert.equal(await imageId(), undefined, "preview did not build");

  const rebuilt = mustSucceed(await stack.up(), "up of the change");
  const id2 = await imageId();
  assert.ok(id2?.startsWith("sha256:") && id2 !== id1, `a new image was built (${id2} vs ${id1})`);
  assert.equal(reveal(rebuilt.outputs.repoDigest), id2, "repoDigest follows the new build");
  assert.equal(rebuilt.steps.find((s) => s.name === "app")?.ran, true, "the update ran the build");

  const destroyed = mustSucceed(await stack.destroy(), "destroy");
  assert.deepEqual(ops(destroyed), ["app:delete"], "destroy deletes the resource");
  assert.equal(await imageId(), id2, "Delete is a no-op: the image stays");
});
