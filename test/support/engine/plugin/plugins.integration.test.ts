// The stand-in provider plugins as the engine sees them: each a separate process that prints its
// port and answers pulumirpc.ResourceProvider over gRPC; warnings arrive at a fake Engine.Log.
// The docker plugin builds on this machine's Docker engine with BuildKit; the random plugin
// generates passwords.
import assert from "node:assert/strict";
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { isSecret, reveal, SECRET_SIG, SIG_KEY, UNKNOWN } from "../properties";
import { SCANNER_MAX_LINE } from "../providers/commandCommon";
import { bcryptMatches } from "../providers/bcrypt";
import { CONFIGURE_FAILED } from "../providers/dockerImage";
import { PLUGINS } from "./main";
import { fromStruct, toStruct } from "./server";

/* eslint-disable @typescript-eslint/no-require-imports */
const providerRpc = require("@pulumi/pulumi/proto/provider_grpc_pb");
const providerProto = require("@pulumi/pulumi/proto/provider_pb");
const engineRpc = require("@pulumi/pulumi/proto/engine_grpc_pb");
const emptyProto = require("google-protobuf/google/protobuf/empty_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

const MAIN = path.join(__dirname, "main.ts");
const TSX_LOADER = pathToFileURL(require.resolve("tsx")).href;
const INSTALL = path.join(__dirname, "install-standin-plugins.sh");
const T = { timeout: 300_000 };
const Kind = providerProto.PropertyDiff.Kind;
const Changes = providerProto.DiffResponse.DiffChanges;

interface LogEntry {
  severity: number;
  urn: string;
  message: string;
}

/** A fake engine: the Engine service's Log, recorded. */
async function startEngine(): Promise<{ address: string; logs: LogEntry[]; stop(): void }> {
  const logs: LogEntry[] = [];
  const server = new grpc.Server();
  server.addService(engineRpc.EngineService, {
    log: (call: any, callback: any) => {
      logs.push({ severity: call.request.getSeverity(), urn: call.request.getUrn(), message: call.request.getMessage() });
      callback(null, new emptyProto.Empty());
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { address: `127.0.0.1:${port}`, logs, stop: () => server.forceShutdown() };
}

interface Plugin {
  child: ChildProcess;
  stderr: () => string;
  call(method: string, req: any): Promise<any>;
  stop(): void;
}

/** Starts `command args` as the engine does (flags, then the engine address) and connects to the port it prints. */
async function startPlugin(command: string, args: string[], engine: string, opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Plugin> {
  const child = spawn(command, [...args, "-v=9", "--tracing", "127.0.0.1:1", engine], { cwd: opts.cwd ?? os.tmpdir(), env: { ...process.env, ...opts.env }, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(Number(out.slice(0, nl)));
    });
    child.on("exit", (code) => reject(new Error(`plugin exited ${code} before printing its port:\n${stderr}`)));
  });
  const client = new providerRpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    child,
    stderr: () => stderr,
    call: (method, req) => new Promise((resolve, reject) => client[method](req, (err: unknown, resp: unknown) => (err ? reject(err) : resolve(resp)))),
    stop: () => {
      client.close();
      child.kill("SIGKILL");
    },
  };
}

const tsxPlugin = (name: string, engine: string, opts?: { env?: NodeJS.ProcessEnv; cwd?: string }) => startPlugin(process.execPath, ["--import", TSX_LOADER, MAIN, name], engine, opts);

async function rejection(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error("expected the call to fail, it succeeded");
}

function configureRequest(variables: Record<string, string> = {}): any {
  const req = new providerProto.ConfigureRequest();
  for (const [k, v] of Object.entries(variables)) req.getVariablesMap().set(k, v);
  req.setAcceptsecrets(true);
  req.setAcceptresources(true);
  return req;
}

const COMMAND_URN = "urn:pulumi:test::proj::command:local:Command::echo";

function commandRequest(kind: "Check" | "Create", props: Record<string, any>, o: { preview?: boolean; urn?: string } = {}): any {
  if (kind === "Check") {
    const req = new providerProto.CheckRequest();
    req.setUrn(o.urn ?? COMMAND_URN);
    req.setNews(toStruct(props));
    req.setOlds(toStruct({}));
    return req;
  }
  const req = new providerProto.CreateRequest();
  req.setUrn(o.urn ?? COMMAND_URN);
  req.setProperties(toStruct(props));
  req.setPreview(o.preview ?? false);
  return req;
}

describe("command 1.2.1 stand-in plugin", () => {
  let engine: Awaited<ReturnType<typeof startEngine>>;
  let plugin: Plugin;
  let dir: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-plugin-command-"));
    engine = await startEngine();
    plugin = await tsxPlugin("command", engine.address, { cwd: dir });
  });
  after(() => {
    plugin?.stop();
    engine?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("handshake falls back, Configure answers as pulumi-go-provider, GetPluginInfo gives 1.2.1", T, async () => {
    const handshake = await rejection(plugin.call("handshake", new providerProto.ProviderHandshakeRequest()));
    assert.equal(handshake.code, grpc.status.UNIMPLEMENTED, "Handshake is Unimplemented, as in the real provider");
    const info = await plugin.call("getPluginInfo", new emptyProto.Empty());
    assert.equal(info.getVersion(), "1.2.1", "the version the SDK asks for");
    const configured = await plugin.call("configure", configureRequest());
    assert.deepEqual(
      [configured.getAcceptsecrets(), configured.getSupportspreview(), configured.getAcceptresources(), configured.getAcceptoutputs()],
      [true, true, true, true],
      "accepts secrets, resources, outputs; supports preview",
    );
  });

  test("Check, Diff, Create (preview and real), Delete of a local.Command that echoes", T, async () => {
    const marker = path.join(dir, "created.txt");
    const inputs = {
      create: `echo "hello $NAME" | tee ${marker}; cat`,
      delete: `rm ${marker}; echo "deleted after $PULUMI_COMMAND_STDOUT"`,
      environment: { NAME: "world" },
      stdin: { [SIG_KEY]: SECRET_SIG, value: "from stdin" },
      triggers: ["1"],
    };
    const checked = fromStruct((await plugin.call("check", commandRequest("Check", inputs))).getInputs());
    assert.deepEqual(checked, inputs, "Check passes the inputs through, secret stdin included");

    const preview = fromStruct((await plugin.call("create", commandRequest("Create", checked, { preview: true }))).getProperties());
    assert.equal(preview.stdout, UNKNOWN, "stdout is unknown in preview");
    assert.equal(fs.existsSync(marker), false, "preview ran nothing");

    const created = await plugin.call("create", commandRequest("Create", checked));
    const state = fromStruct(created.getProperties());
    assert.match(created.getId(), /^echo[0-9a-f]{8}$/, "the ID is the name plus 8 hex digits");
    assert.equal(state.stdout, "hello world\nfrom stdin", "stdout, one trailing newline trimmed; the environment and stdin reached the command");
    assert.ok(isSecret(state.stdin), "stdin stays secret in the state");
    assert.equal(fs.readFileSync(marker, "utf8"), "hello world\n", "the command ran");

    const diff = (news: Record<string, any>) => {
      const req = new providerProto.DiffRequest();
      req.setUrn(COMMAND_URN);
      req.setId(created.getId());
      req.setOlds(toStruct(state));
      req.setOldInputs(toStruct(checked));
      req.setNews(toStruct(news));
      return plugin.call("diff", req);
    };
    assert.equal((await diff(checked)).getChanges(), Changes.DIFF_NONE, "same inputs: no change");
    const changed = await diff({ ...checked, environment: { NAME: "pulumi" } });
    assert.equal(changed.getChanges(), Changes.DIFF_SOME, "a changed environment is a change");
    assert.deepEqual(changed.getReplacesList(), [], "and an update, not a replace");
    assert.equal(changed.getDetaileddiffMap().get("environment.NAME")?.getKind(), Kind.UPDATE, "detailed diff by path");
    const { triggers: _dropped, ...untriggered } = checked;
    const dropped = await diff(untriggered);
    assert.deepEqual(dropped.getReplacesList(), ["triggers"], "a top-level triggers change replaces (common/inputs.go)");
    assert.equal(dropped.getDetaileddiffMap().get("triggers")?.getKind(), Kind.DELETE_REPLACE, "shown as a replacing delete");
    const retriggered = await diff({ ...checked, triggers: ["2"] });
    assert.deepEqual(retriggered.getReplacesList(), [], "an element's change is left to the SDK's replaceOnChanges: [\"triggers[*]\"]");

    const del = new providerProto.DeleteRequest();
    del.setUrn(COMMAND_URN);
    del.setId(created.getId());
    del.setProperties(toStruct(state));
    del.setOldInputs(toStruct(checked));
    await plugin.call("delete", del);
    assert.equal(fs.existsSync(marker), false, "Delete ran the stored delete command");

    const read = new providerProto.ReadRequest();
    read.setUrn(COMMAND_URN);
    read.setId(created.getId());
    read.setProperties(toStruct(state));
    read.setInputs(toStruct(checked));
    const readBack = await plugin.call("read", read);
    assert.deepEqual(fromStruct(readBack.getProperties()), state, "Read returns the state as given");
  });

  test("a failed command is a gRPC Unknown error carrying its output, as the real provider's", T, async () => {
    const err = await rejection(plugin.call("create", commandRequest("Create", { create: "echo out; echo err >&2; exit 3" })));
    assert.equal(err.code, grpc.status.UNKNOWN, "codes.Unknown: no ErrorResourceInitFailed, nothing is stored");
    assert.equal(err.details, 'exit status 3: running "echo out; echo err >&2; exit 3":\nout\nerr\n', "the message of commandOutputs.go:113");
  });

  test("a logged line of 64 KiB or more fails with what the real provider would do (hang)", T, async () => {
    const line = (n: number) => `head -c ${n} /dev/zero | tr '\\0' x; echo; echo done`;
    const fits = await plugin.call("create", commandRequest("Create", { create: line(SCANNER_MAX_LINE - 1) }));
    assert.equal(String(reveal(fromStruct(fits.getProperties()).stdout!)).length, SCANNER_MAX_LINE - 1 + "\ndone".length, "a line of 65535 bytes fits the scanner");

    const started = Date.now();
    const err = await rejection(plugin.call("create", commandRequest("Create", { create: line(SCANNER_MAX_LINE) })));
    assert.ok(Date.now() - started < 30_000, "it fails promptly instead of hanging");
    assert.equal(err.code, grpc.status.UNKNOWN, "a gRPC error");
    assert.match(err.details, /has a line of 65536 bytes: the real provider \(pulumi-command v1\.2\.1\) would hang here forever/, "says how long the line is and what the real provider does");
    assert.match(err.details, /provider\/pkg\/provider\/util\/util\.go:34-35/, "cites the scanner");

    const onStderr = await rejection(plugin.call("create", commandRequest("Create", { create: `${line(100_000)} >&2` })));
    assert.match(onStderr.details, /\(stdout and stderr\) has a line of 100000 bytes/, "stderr is logged too");

    const unlogged = await plugin.call("create", commandRequest("Create", { create: line(100_000), logging: "stderr" }));
    assert.equal(String(reveal(fromStruct(unlogged.getProperties()).stdout!)).length, 100_000 + "\ndone".length, "with stdout not logged the long line is only an output");
  });
});

describe("docker 5.2.0 stand-in plugin", () => {
  let engine: Awaited<ReturnType<typeof startEngine>>;
  let plugin: Plugin;
  let dir: string;
  const tag = `pydeploy-plugin-test-${process.pid}`;
  const imageName = `${tag}/app:1`;
  const network = `${tag}-net`;
  const urn = "urn:pulumi:test::proj::pydeploy:image:AppImage$docker:index/image:Image::app-image";
  const docker = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-plugin-docker-"));
    fs.mkdirSync(path.join(dir, "ctx"));
    fs.writeFileSync(path.join(dir, "ctx", "Dockerfile"), "FROM scratch\nCOPY a.txt /a.txt\n");
    fs.writeFileSync(path.join(dir, "ctx", "a.txt"), "v1\n");
    docker("network", "create", network);
    engine = await startEngine();
    // A `docker context` that does not exist: the provider never reads it, so neither may the plugin.
    plugin = await tsxPlugin("docker", engine.address, { cwd: dir, env: { DOCKER_CONTEXT: "pydeploy-no-such-context" } });
    await plugin.call("configure", configureRequest());
  });
  after(() => {
    plugin?.stop();
    engine?.stop();
    for (const args of [["image", "rm", "--force", imageName, `${tag}/net:1`, `${tag}/host:1`], ["network", "rm", network]]) {
      try {
        execFileSync("docker", args, { stdio: "ignore" });
      } catch {
        // already gone
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const check = async (props: Record<string, any>) => {
    const req = new providerProto.CheckRequest();
    req.setUrn(urn);
    req.setNews(toStruct(props));
    req.setOlds(toStruct({}));
    return fromStruct((await plugin.call("check", req)).getInputs());
  };
  const create = async (props: Record<string, any>, preview = false) => {
    const req = new providerProto.CreateRequest();
    req.setUrn(urn);
    req.setProperties(toStruct(props));
    req.setPreview(preview);
    const resp = await plugin.call("create", req);
    return { id: resp.getId() as string, state: fromStruct(resp.getProperties()) };
  };
  const imageId = () => {
    try {
      return docker("image", "inspect", "--format", "{{.Id}}", imageName);
    } catch {
      return undefined;
    }
  };

  test("Check adds the defaults and the context digest; preview builds nothing; Create builds with BuildKit", T, async () => {
    const inputs = await check({ imageName, skipPush: true, build: { context: "ctx" } });
    assert.equal(inputs.buildOnPreview, false, "buildOnPreview defaults to false");
    const build = inputs.build as Record<string, any>;
    assert.equal(build.dockerfile, "ctx/Dockerfile", "dockerfile defaults to <context>/Dockerfile");
    assert.match(build.contextDigest, /^[0-9a-f]{64}$/, "the context digest is an input");
    assert.match(build.platform, /^linux\//, "the platform defaults to the host's");

    const preview = await create(inputs, true);
    assert.equal(preview.state.repoDigest, undefined, "no repoDigest in preview (the engine shows it unknown)");
    assert.equal(imageId(), undefined, "preview built nothing");

    const created = await create(inputs);
    const id = imageId();
    assert.equal(created.id, imageName, "the ID is the image name");
    assert.equal(created.state.repoDigest, id, "repoDigest is the local image ID (skipPush)");
    assert.ok(isSecret(created.state.__inputs), "the inputs are checkpointed, secret, under __inputs");
    const history = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", imageName);
    assert.match(history, /COPY a\.txt \/a\.txt # buildkit/, "built by BuildKit");

    const diff = async (news: Record<string, any>) => {
      const req = new providerProto.DiffRequest();
      req.setUrn(urn);
      req.setId(created.id);
      req.setOlds(toStruct(created.state));
      req.setOldInputs(toStruct(inputs));
      req.setNews(toStruct(news));
      return plugin.call("diff", req);
    };
    assert.equal((await diff(await check({ imageName, skipPush: true, build: { context: "ctx" } }))).getChanges(), Changes.DIFF_NONE, "nothing changed: no diff");
    fs.writeFileSync(path.join(dir, "ctx", "a.txt"), "v2\n");
    const changed = await diff(await check({ imageName, skipPush: true, build: { context: "ctx" } }));
    assert.equal(changed.getChanges(), Changes.DIFF_SOME, "a changed file in the context is a change");
    assert.deepEqual([changed.getDiffsList(), changed.getReplacesList()], [["build"], []], "an update of `build`, never a replace");

    const del = new providerProto.DeleteRequest();
    del.setUrn(urn);
    del.setId(created.id);
    del.setProperties(toStruct(created.state));
    await plugin.call("delete", del);
    assert.equal(imageId(), id, "Delete does nothing: the image stays");
  });

  test("BuildKit refuses a named build network, as the real provider's build fails; host is accepted", T, async () => {
    const err = await rejection(create(await check({ imageName: `${tag}/net:1`, skipPush: true, build: { context: "ctx", network } })));
    assert.equal(err.code, grpc.status.UNKNOWN, "a gRPC error");
    assert.equal(err.details, `error building image: Error response from daemon: network mode "${network}" not supported by buildkit`, "moby builder-next's refusal, as image.go:436 wraps it");
    const host = await create(await check({ imageName: `${tag}/host:1`, skipPush: true, build: { context: "ctx", network: "host" } }));
    assert.match(String(host.state.repoDigest), /^sha256:/, "the host network builds");
  });

  test("buildOnPreview with an unresolved image name warns through Engine.Log and builds nothing", T, async () => {
    engine.logs.length = 0;
    const inputs = await check({ imageName: UNKNOWN, skipPush: true, buildOnPreview: true, build: { context: "ctx" } });
    const preview = await create(inputs, true);
    assert.equal(preview.state.repoDigest, undefined, "nothing was built");
    assert.deepEqual(
      engine.logs.map((l) => [l.severity, l.urn]),
      [[2, urn]],
      "one warning, with the resource's URN",
    );
    assert.match(engine.logs[0].message, /^Minimum inputs for build are unresolved/, "the real provider's warning (provider.go:774)");
  });

  test("Configure fails like the real provider when the daemon does not answer: DOCKER_HOST or the host config", T, async () => {
    const dead = `unix://${path.join(dir, "dead.sock")}`;
    const viaEnv = await tsxPlugin("docker", engine.address, { env: { DOCKER_HOST: dead } });
    try {
      const err = await rejection(viaEnv.call("configure", configureRequest()));
      assert.equal(err.code, grpc.status.UNKNOWN, "a gRPC error");
      assert.equal(err.details, CONFIGURE_FAILED, "the real provider's message");
      assert.equal(CONFIGURE_FAILED, "docker native provider returned an unexpected error from Configure: failed to connect to any docker daemon", "hybrid.go:79 + image.go:991");
      assert.match(viaEnv.stderr(), new RegExp(`error connecting to docker daemon at ${dead.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`), "says which daemon it tried");
    } finally {
      viaEnv.stop();
    }
    const viaConfig = await tsxPlugin("docker", engine.address);
    try {
      const err = await rejection(viaConfig.call("configure", configureRequest({ "docker:config:host": dead })));
      assert.equal(err.details, CONFIGURE_FAILED, "an explicit provider's host is pinged too");
      await viaConfig.call("configure", configureRequest());
    } finally {
      viaConfig.stop();
    }
  });
});

test("each stand-in plugin's version is its installed SDK's (the version the SDK asks the engine for)", () => {
  for (const [name, spec] of Object.entries(PLUGINS)) {
    const sdk = JSON.parse(fs.readFileSync(require.resolve(`@pulumi/${name}/package.json`), "utf8")) as { version: string; pulumi?: { version?: string } };
    assert.equal(spec.version, sdk.version, `${name}: the plugin serves @pulumi/${name}'s version`);
    assert.equal(sdk.pulumi?.version ?? sdk.version, sdk.version, `${name}: the SDK's plugin version is its package version`);
  }
});

describe("random 4.21.2 stand-in plugin", () => {
  let engine: Awaited<ReturnType<typeof startEngine>>;
  let plugin: Plugin;
  const urn = "urn:pulumi:test::proj::random:index/randomPassword:RandomPassword::db-password";
  before(async () => {
    engine = await startEngine();
    plugin = await tsxPlugin("random", engine.address);
  });
  after(() => {
    plugin?.stop();
    engine?.stop();
  });

  const check = async (props: Record<string, any>) => {
    const req = new providerProto.CheckRequest();
    req.setUrn(urn);
    req.setNews(toStruct(props));
    req.setOlds(toStruct({}));
    const resp = await plugin.call("check", req);
    return { inputs: fromStruct(resp.getInputs()), failures: resp.getFailuresList().map((f: any) => [f.getProperty(), f.getReason()]) };
  };
  const create = async (props: Record<string, any>, preview = false) => {
    const req = new providerProto.CreateRequest();
    req.setUrn(urn);
    req.setProperties(toStruct(props));
    req.setPreview(preview);
    const resp = await plugin.call("create", req);
    return { id: resp.getId() as string, state: fromStruct(resp.getProperties()) };
  };
  const diff = (id: string, state: Record<string, any>, oldInputs: Record<string, any>, news: Record<string, any>) => {
    const req = new providerProto.DiffRequest();
    req.setUrn(urn);
    req.setId(id);
    req.setOlds(toStruct(state));
    req.setOldInputs(toStruct(oldInputs));
    req.setNews(toStruct(news));
    return plugin.call("diff", req);
  };

  test("handshake falls back, Configure answers as the bridge's Plugin Framework server, GetPluginInfo gives 4.21.2", T, async () => {
    const handshake = await rejection(plugin.call("handshake", new providerProto.ProviderHandshakeRequest()));
    assert.equal(handshake.code, grpc.status.UNIMPLEMENTED, "Handshake is Unimplemented (provider_server.go:165-169)");
    assert.equal((await plugin.call("getPluginInfo", new emptyProto.Empty())).getVersion(), "4.21.2", "the version @pulumi/random 4.21.2 asks for");
    const configured = await plugin.call("configure", configureRequest());
    assert.deepEqual(
      [configured.getAcceptsecrets(), configured.getSupportspreview(), configured.getAcceptresources(), configured.getAcceptoutputs(), configured.getSupportsAutonamingConfiguration()],
      [false, true, true, false, true],
      "no secrets, preview, resources, no outputs, autonaming (provider_server.go:330-343)",
    );
  });

  test("Check, Diff, Create (preview and real), Update, Read, Delete of a RandomPassword", T, async () => {
    const inputs = { length: 20, minNumeric: 3, overrideSpecial: "", keepers: { db: "main" } };
    const checked = await check(inputs);
    assert.deepEqual(checked, { inputs, failures: [] }, "Check passes the inputs through, no defaults");
    assert.deepEqual(
      (await check({ length: 2, minNumeric: 3 })).failures,
      [["", "Invalid Attribute Value. Attribute length value must be at least sum of min_upper + min_lower + min_numeric + min_special, got: 2. Examine values at 'db-password.length'."]],
      "a validator's failure has no property, the bridge's wording",
    );

    const preview = await create(checked.inputs, true);
    assert.equal(preview.id, "", "no ID in preview");
    assert.equal(preview.state.result, UNKNOWN, "result unknown in preview");
    assert.equal(preview.state.special, true, "the planned state has the defaults");

    const created = await create(checked.inputs);
    assert.equal(created.id, "none", "the ID is \"none\"");
    assert.ok(isSecret(created.state.result) && isSecret(created.state.bcryptHash), "result and bcryptHash come back secret");
    const password = reveal(created.state.result!) as string;
    assert.match(password, /^[A-Za-z0-9!@#$%&*()\-_=+[\]{}<>:?]{20}$/, "20 characters of the default classes");
    assert.ok((password.match(/[0-9]/g) ?? []).length >= 3, `at least 3 digits: ${password}`);
    assert.equal(bcryptMatches(reveal(created.state.bcryptHash!) as string, password), true, "bcryptHash verifies against result");

    assert.equal((await diff(created.id, created.state, checked.inputs, checked.inputs)).getChanges(), Changes.DIFF_NONE, "same inputs: no change");
    assert.equal((await diff(created.id, created.state, checked.inputs, { ...inputs, upper: true, number: true })).getChanges(), Changes.DIFF_NONE, "defaults spelled out: no change");
    const longer = await diff(created.id, created.state, checked.inputs, { ...inputs, length: 21 });
    assert.deepEqual([longer.getChanges(), longer.getReplacesList()], [Changes.DIFF_SOME, ["length"]], "a new length replaces");
    assert.equal(longer.getDetaileddiffMap().get("length")?.getKind(), Kind.UPDATE_REPLACE, "shown as a replacing update");
    const rotated = await diff(created.id, created.state, checked.inputs, { ...inputs, keepers: { db: "replica" } });
    assert.deepEqual([rotated.getReplacesList(), rotated.getDetaileddiffMap().get("keepers.db")?.getKind()], [["keepers"], Kind.UPDATE_REPLACE], "a changed keeper replaces");
    const { overrideSpecial: _unset, ...withoutOverride } = inputs;
    const unset = await diff(created.id, created.state, checked.inputs, withoutOverride);
    assert.deepEqual([unset.getChanges(), unset.getReplacesList(), unset.getDetaileddiffMap().get("overrideSpecial")?.getKind()], [Changes.DIFF_SOME, [], Kind.DELETE], "overrideSpecial \"\" -> unset: an in-place update");

    const update = new providerProto.UpdateRequest();
    update.setUrn(urn);
    update.setId(created.id);
    update.setOlds(toStruct(created.state));
    update.setOldInputs(toStruct(checked.inputs));
    update.setNews(toStruct(withoutOverride));
    const updated = fromStruct((await plugin.call("update", update)).getProperties());
    assert.equal(updated.overrideSpecial, undefined, "Update stores the plan");
    assert.equal(reveal(updated.result!), password, "and keeps the password");

    const read = new providerProto.ReadRequest();
    read.setUrn(urn);
    read.setId(created.id);
    read.setProperties(toStruct(updated));
    read.setInputs(toStruct(withoutOverride));
    const readBack = await plugin.call("read", read);
    assert.deepEqual([readBack.getId(), fromStruct(readBack.getProperties())], ["none", updated], "Read (refresh) keeps the state");

    const del = new providerProto.DeleteRequest();
    del.setUrn(urn);
    del.setId(created.id);
    del.setProperties(toStruct(updated));
    await plugin.call("delete", del);
  });

  test("number and numeric set differently fail Create with the plan's error", T, async () => {
    const err = await rejection(create({ length: 8, number: true, numeric: false }));
    assert.equal(err.code, grpc.status.UNKNOWN, "a gRPC error");
    assert.equal(err.details, "Number and numeric are both configured with different values: Number is deprecated, use numeric instead", "boolplanmodifiers.go:46-51 through processDiagnostics");
  });
});

test("install-standin-plugins.sh bundles once and installs wrappers that start fast", T, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-plugin-install-"));
  const engine = await startEngine();
  try {
    const fakePulumi = path.join(dir, "pulumi");
    const calls = path.join(dir, "calls");
    fs.writeFileSync(fakePulumi, `#!/bin/sh\necho "$*" >> '${calls}'\n`, { mode: 0o755 });
    const usage = (() => {
      try {
        execFileSync("bash", [INSTALL], { stdio: "pipe" });
        return "";
      } catch (err) {
        return String((err as { stderr: Buffer }).stderr);
      }
    })();
    assert.match(usage, /^usage: .* PULUMI \[CACHE_DIR\]/, "without arguments it prints its usage");
    const cache = path.join(dir, "cache");
    execFileSync("bash", [INSTALL, fakePulumi, cache], { stdio: "pipe" });
    assert.deepEqual(
      fs.readFileSync(calls, "utf8").trim().split("\n"),
      [
        `plugin install resource docker 5.2.0 --file ${cache}/pulumi-resource-docker --reinstall`,
        `plugin install resource command 1.2.1 --file ${cache}/pulumi-resource-command --reinstall`,
        `plugin install resource random 4.21.2 --file ${cache}/pulumi-resource-random --reinstall`,
      ],
      "the three plugins installed from their wrappers",
    );
    for (const [name, version] of [["docker", "5.2.0"], ["command", "1.2.1"], ["random", "4.21.2"]]) {
      const started = Date.now();
      const p = await startPlugin(path.join(cache, `pulumi-resource-${name}`), [], engine.address);
      const ms = Date.now() - started;
      try {
        assert.equal((await p.call("getPluginInfo", new emptyProto.Empty())).getVersion(), version, `${name}: the wrapper serves ${version}`);
        assert.ok(ms < 5000, `${name}: the bundled plugin printed its port in ${ms} ms`);
      } finally {
        p.stop();
      }
    }
  } finally {
    engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
