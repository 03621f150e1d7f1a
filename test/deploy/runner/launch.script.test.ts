// The launcher every step's local.Command runs (runner/launch.cjs), in a copy of the project's
// components/ with its own node_modules (each package linked to this checkout's): the deployer is
// bundled once per version of the sources, reused while they stay the same, rebuilt when one
// changes; a source that does not compile is named, and nothing half-written is left.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { runnerCommand, SPEC_ENV } from "../../../components/deploy/spec";
import { REPO_ROOT, run } from "../../support/docker/localEngine";

describe("the deployer's launcher", () => {
  let project: string;
  let cache: string;
  const bundles = () => (fs.existsSync(cache) ? fs.readdirSync(cache).sort() : []);
  // A step without its spec: main.ts runs and refuses, which shows the bundle started it.
  const launch = (step = "ship") =>
    run("sh", ["-c", runnerCommand(step as "ship")], { cwd: project, env: { ...process.env, [SPEC_ENV]: "" }, input: "", allowFailure: true });

  before(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-launch-"));
    fs.cpSync(path.join(REPO_ROOT, "components"), path.join(project, "components"), { recursive: true });
    fs.copyFileSync(path.join(REPO_ROOT, "tsconfig.json"), path.join(project, "tsconfig.json"));
    const modules = path.join(project, "node_modules");
    fs.mkdirSync(modules);
    for (const name of fs.readdirSync(path.join(REPO_ROOT, "node_modules"))) {
      if (name !== ".cache") fs.symlinkSync(path.join(REPO_ROOT, "node_modules", name), path.join(modules, name));
    }
    cache = path.join(modules, ".cache", "pydeploy");
  });
  after(() => fs.rmSync(project, { recursive: true, force: true }));

  test("the first start builds one bundle, which runs the step", async () => {
    const r = await launch();
    assert.equal(r.code, 1, `main.ts refuses a step without its spec:\n${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /pydeploy: error: pydeploy ship: PYDEPLOY_SPEC is not set/, "the deployer's own error");
    assert.match(r.stdout, /pydeploy: ship step started /, "it logged the step's start");
    assert.equal(bundles().length, 1, `one bundle: ${bundles().join(", ")}`);
    assert.match(bundles()[0], /^runner-[0-9a-f]{16}\.cjs$/, "named by the sources' hash");
  });

  test("each module's __dirname stays its own folder, where the scripts it runs lie (wait-cloud-init.sh, drain.py)", () => {
    const bundle = fs.readFileSync(path.join(cache, bundles()[0]), "utf8");
    assert.doesNotMatch(bundle, /\b__dirname\b/, "no __dirname is left: in the cache it would name the cache");
    const quoted = new RegExp(`"(${path.join(project, "components").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[^"]*)"`, "g");
    const folders = [...new Set([...bundle.matchAll(quoted)].map((m) => m[1]))].sort();
    assert.deepEqual(
      folders.map((f) => path.relative(project, f)),
      ["components/deploy/proxy", "components/deploy/runner", "components/image", "components/server"],
      "the folders of the modules that use it",
    );
    assert.ok(fs.existsSync(path.join(project, "components/deploy/runner", "..", "host", "wait-cloud-init.sh")), "hostSetup.ts's script is found from its folder");
  });

  test("the next start reuses it: the file is not written again", async () => {
    const [bundle] = bundles();
    const written = fs.statSync(path.join(cache, bundle)).mtimeMs;
    const r = await launch("release");
    assert.match(r.stderr, /pydeploy release: PYDEPLOY_SPEC is not set/, `the release step ran:\n${r.stderr}`);
    assert.deepEqual(bundles(), [bundle], "still the one bundle");
    assert.equal(fs.statSync(path.join(cache, bundle)).mtimeMs, written, "not rebuilt");
  });

  test("a changed source gets a new bundle that carries the change", async () => {
    const [old] = bundles();
    const main = path.join(project, "components", "deploy", "runner", "main.ts");
    const source = fs.readFileSync(main, "utf8");
    const marked = source.replace("step started ${new Date().toISOString()}", "step started (changed) ${new Date().toISOString()}");
    assert.notEqual(marked, source, "the log line to change is in main.ts");
    fs.writeFileSync(main, marked);
    try {
      const r = await launch();
      assert.match(r.stdout, /pydeploy: ship step started \(changed\) /, `the changed source ran:\n${r.stdout}`);
      assert.equal(bundles().length, 2, `a second bundle beside the first: ${bundles().join(", ")}`);
      assert.ok(bundles().includes(old), "the other version's bundle stays (a run may still use it)");
    } finally {
      fs.writeFileSync(main, source);
    }
  });

  test("a change to the launcher itself (how it builds) gets a new bundle too", async () => {
    const before = bundles();
    const launcher = path.join(project, "components", "deploy", "runner", "launch.cjs");
    const source = fs.readFileSync(launcher, "utf8");
    fs.writeFileSync(launcher, source.replace('logLevel: "silent",', 'logLevel: "silent",\n      legalComments: "none",'));
    try {
      const r = await launch();
      assert.match(r.stderr, /PYDEPLOY_SPEC is not set/, `it ran: ${r.stderr}`);
      assert.equal(bundles().length, before.length + 1, `one more bundle: ${bundles().join(", ")}`);
    } finally {
      fs.writeFileSync(launcher, source);
    }
  });

  test("a source that does not compile fails the step, naming the file and the error; no bundle is written", async () => {
    const before = bundles();
    const file = path.join(project, "components", "deploy", "outputLines.ts");
    const source = fs.readFileSync(file, "utf8");
    fs.writeFileSync(file, `${source}\nexport const broken = ;\n`);
    try {
      const r = await launch();
      assert.equal(r.code, 1, "the step fails");
      assert.match(r.stderr, /^pydeploy: error: could not build the deployer \(components\/deploy\/runner\/main\.ts\) into node_modules\/\.cache\/pydeploy: components\/deploy\/outputLines\.ts:\d+: Unexpected ";"/m, r.stderr);
      assert.deepEqual(bundles(), before, "no new or partial file in the cache");
    } finally {
      fs.writeFileSync(file, source);
    }
  });

  test("an unknown step gets the usage line", async () => {
    const r = await launch("deploy");
    assert.equal(r.code, 2, "exit code 2");
    assert.match(r.stderr, /^usage: node components\/deploy\/runner\/launch\.cjs <host\|ship\|services\|release\|remove\|remove-services>/, r.stderr);
  });
});
