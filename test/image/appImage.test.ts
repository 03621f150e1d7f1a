// AppImage under Pulumi mocks: the docker.Image it asks for, with and without a registry,
// and the build files it writes into the project before the build reads them.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import type { AppConfig } from "../../components/config/schema";
import { parseStackConfig } from "../../components/config/schema";
import { readStackFile } from "../../components/config/stackFile";
import type { AppImage } from "../../components/image/appImage";
import { renderBuildFiles } from "../../components/image/buildFiles";
import { EXAMPLE_DIR, REPO_ROOT } from "../support/docker";
import {
  captureUnhandledRejections,
  installMocks,
  isWireSecret,
  recordArgs,
  reveal,
  valueOf,
  type RecordedResource,
} from "../support/mocks";

const IMAGE = "docker:index/image:Image";
const LOCAL_ID = `sha256:${"ab".repeat(32)}`;
const PUSHED_DIGEST = `sha256:${"cd".repeat(32)}`;

// A local build reports the engine's image ID; a pushed one the registry digest.
const mocks = installMocks({
  stack: "local",
  outputs: (r) =>
    r.type === IMAGE
      ? { repoDigest: r.inputs.skipPush ? LOCAL_ID : `${String(r.inputs.imageName).replace(/:[^/:]*$/, "")}@${PUSHED_DIGEST}` }
      : undefined,
});

let Image: typeof AppImage;
const tempDirs: string[] = [];
before(async () => {
  ({ AppImage: Image } = await import("../../components/image/appImage"));
});
after(() => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh copy of example/ and the local stack's app config pointing at it. */
function project(over: Record<string, unknown> = {}): { dir: string; app: AppConfig } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-appimage-"));
  tempDirs.push(dir);
  fs.cpSync(EXAMPLE_DIR, dir, { recursive: true, filter: (src) => !/[\\/]\.pydeploy$|[\\/]\.dockerignore$/.test(src) });
  const raw = readStackFile(REPO_ROOT, "local");
  raw.values.app = { ...(raw.values.app as object), path: dir, ...over };
  return { dir, app: parseStackConfig(raw).app };
}

const one = (rs: RecordedResource[]): RecordedResource => {
  assert.equal(rs.length, 1, `expected one resource, got ${rs.map((r) => r.name).join(", ") || "none"}`);
  return rs[0];
};

let counter = 0;
async function create(args: Omit<ConstructorParameters<typeof AppImage>[1], "app"> & { app: AppConfig }) {
  const name = `img${++counter}`;
  const recorder = recordArgs();
  const image = new Image(name, args, { transformations: [recorder.transformation] });
  const [imageName, repoDigest, generatedFiles] = await Promise.all([
    valueOf(image.imageName),
    valueOf(image.repoDigest),
    valueOf(image.generatedFiles),
  ]);
  const registered = one(mocks.byType(IMAGE).filter((r) => r.name === `${name}-image`));
  return { name, image, recorder, imageName, repoDigest, generatedFiles, registered };
}

describe("AppImage without a registry", () => {
  let r: Awaited<ReturnType<typeof create>>;
  let dir: string;
  let app: AppConfig;
  before(async () => {
    ({ dir, app } = project());
    r = await create({ app, repository: "pydeploy/demo", tag: "local" });
  });

  test("builds repo:tag from app.path with the generated Dockerfile, for this machine's platform unless one is given", async () => {
    const i = r.registered.inputs;
    assert.equal(i.imageName, "pydeploy/demo:local", "the image name");
    assert.deepEqual(i.build, { context: dir, dockerfile: path.join(dir, ".pydeploy", "Dockerfile") }, "no platform: a native build");
    const amd64 = await create({ app, repository: "pydeploy/demo", tag: "srv", platform: "linux/amd64" });
    assert.equal(amd64.registered.inputs.build.platform, "linux/amd64", "a server's platform is passed on");
  });

  test("skips the push and sends no registry", () => {
    assert.equal(r.registered.inputs.skipPush, true);
    assert.equal("registry" in r.registered.inputs, false);
  });

  test("the generated files are on disk, with renderBuildFiles' contents, before the build", () => {
    const expected = renderBuildFiles(app);
    assert.deepEqual(r.generatedFiles, expected.map((f) => path.join(dir, f.relativePath)));
    for (const f of expected) {
      assert.equal(fs.readFileSync(path.join(dir, f.relativePath), "utf8"), f.contents, f.relativePath);
      assert.equal(fs.statSync(path.join(dir, f.relativePath)).mode & 0o777, f.mode, `${f.relativePath} mode`);
    }
    assert.ok(!fs.existsSync(path.join(dir, ".pydeploy", "entrypoint.sh")), "no entrypoint in roles mode");
  });

  test("outputs: imageName and the local image ID", () => {
    assert.equal(r.imageName, "pydeploy/demo:local");
    assert.equal(r.repoDigest, LOCAL_ID);
  });

  test("the image is the component's child, named with its prefix", async () => {
    const children = r.recorder.records.filter((c) => c.resource !== r.image);
    assert.deepEqual(children.map((c) => [c.type, c.name]), [[IMAGE, `${r.name}-image`]]);
    assert.equal(children[0].parent, r.image);
    assert.equal(await valueOf(children[0].resource.urn), `urn:pulumi:local::pydeploy::pydeploy:image:AppImage$${IMAGE}::${r.name}-image`);
  });
});

describe("AppImage with a registry", () => {
  const PASSWORD = "registry-pa55word";
  let r: Awaited<ReturnType<typeof create>>;
  before(async () => {
    const { app } = project();
    r = await create({
      app,
      repository: "registry.cn-hangzhou.aliyuncs.com/my-ns/demo",
      tag: "dev",
      registry: { server: "registry.cn-hangzhou.aliyuncs.com", username: "me", password: pulumi.secret(PASSWORD) },
    });
  });

  test("pushes, with the registry's server, username and password", () => {
    const i = r.registered.inputs;
    assert.equal(i.imageName, "registry.cn-hangzhou.aliyuncs.com/my-ns/demo:dev");
    assert.equal(i.skipPush, false);
    assert.deepEqual(reveal(i.registry), { server: "registry.cn-hangzhou.aliyuncs.com", username: "me", password: PASSWORD });
  });

  test("the password stays secret: a secret Output in the args, a secret on the wire", async () => {
    const args = r.recorder.records.find((c) => c.type === IMAGE)!.props;
    assert.equal(await pulumi.isSecret(pulumi.output(args.registry.password)), true);
    assert.equal(isWireSecret(r.registered.inputs.registry), true);
  });

  test("repoDigest is the pushed repository@sha256 digest", () => {
    assert.equal(r.repoDigest, `registry.cn-hangzhou.aliyuncs.com/my-ns/demo@${PUSHED_DIGEST}`);
  });
});

describe("AppImage in single mode and with a hand-written .dockerignore", () => {
  test("single mode also writes the executable entrypoint", async () => {
    const { dir, app } = project({ mode: "single", roles: { web: { command: ["python", "-m", "demo.web"], port: 8000 }, worker: { command: ["python", "-m", "demo.worker"] } } });
    const r = await create({ app, repository: "pydeploy/demo", tag: "single" });
    const entrypoint = path.join(dir, ".pydeploy", "entrypoint.sh");
    assert.ok(r.generatedFiles.includes(entrypoint), "the entrypoint is a generated file");
    assert.equal(fs.statSync(entrypoint).mode & 0o777, 0o755);
  });

  test("a .dockerignore pydeploy did not write is kept, and no image is built", async () => {
    const { dir, app } = project();
    const mine = "# mine\nnode_modules\n";
    fs.writeFileSync(path.join(dir, ".dockerignore"), mine);
    const name = `img${++counter}`;
    const rejections = await captureUnhandledRejections(async () => {
      new Image(name, { app, repository: "pydeploy/demo", tag: "local" });
    });
    assert.ok(rejections.length > 0, "expected the component to fail");
    for (const e of rejections) assert.match(String((e as Error)?.message ?? e), /\.dockerignore exists and was not generated by pydeploy/);
    assert.equal(fs.readFileSync(path.join(dir, ".dockerignore"), "utf8"), mine);
    assert.ok(!fs.existsSync(path.join(dir, ".pydeploy", "Dockerfile")), "nothing written");
    assert.equal(mocks.byType(IMAGE).filter((x) => x.name === `${name}-image`).length, 0);
  });
});

describe("AppImage build network (app.buildNetwork)", () => {
  test("host is passed to docker.Image as build.network; the default leaves the input unset", async () => {
    const host = await create({ app: project({ buildNetwork: "host" }).app, repository: "pydeploy/demo", tag: "host" });
    assert.equal(host.registered.inputs.build.network, "host", "docker build --network host");
    const plain = await create({ app: project().app, repository: "pydeploy/demo", tag: "plain" });
    assert.equal("network" in plain.registered.inputs.build, false, `no network input by default: ${JSON.stringify(plain.registered.inputs.build)}`);
  });
});
