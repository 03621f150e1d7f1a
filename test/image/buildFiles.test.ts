// From the app config to the files the build reads (components/image/buildFiles.ts and
// proxyBuildFiles.ts): what the Dockerfile ends up saying for a stack, where the files go, and
// that a user's own .dockerignore is never overwritten.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { AppConfig, parseStackConfig } from "../../components/config/schema";
import { dockerBuildNetwork, dockerfileOptions, dockerfilePath, GENERATED_MARKER, renderBuildFiles, writeBuildFiles } from "../../components/image/buildFiles";
import { proxyBuildFile, PROXY_BUILD_DIR } from "../../components/image/proxyBuildFiles";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-buildfiles-"));
  dirs.push(dir);
  return dir;
}

/** The app config of a project with a requirements.txt, through the real schema. */
function appConfig(app: Record<string, unknown>): AppConfig {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "requirements.txt"), "django\n");
  const values = { app: { name: "demo", path: dir, roles: { web: { command: ["gunicorn", "demo.wsgi"], port: 8000 } }, ...app } };
  return parseStackConfig({ stack: "dev", values, providerConfig: {}, baseDir: dir }).app;
}

const ROLES = {
  worker: { command: ["celery", "-A", "demo", "worker"] },
  web: { command: ["gunicorn", "demo.wsgi"], port: 8000, healthcheck: { path: "/health", retries: 5 } },
  api: { command: ["python", "-m", "demo.api"], port: 9000 },
  admin: { command: ["python", "-m", "demo.admin"], port: 8000, publish: 8001, proxy: false },
};

describe("dockerfileOptions: what the stack config puts into the Dockerfile", () => {
  it("the python base, packages, pip options, env, workdir and user come from app.*; the label names the app", () => {
    const o = dockerfileOptions(
      appConfig({
        python: "3.11",
        aptPackages: ["lsof"],
        buildPackages: ["gcc"],
        pipIndexUrl: "https://mirror.example/simple/",
        pipExtraIndexUrl: "http://10.0.0.5:3141/simple/",
        pipTrustedHost: "10.0.0.5:3141",
        buildCommands: ["python manage.py collectstatic"],
        env: { A: "1" },
        workdir: "/srv",
        user: { name: "web", uid: 2000 },
      }),
    );
    assert.deepEqual(o.base, { pythonVersion: "3.11" }, "the python version");
    assert.deepEqual([o.aptPackages, o.buildPackages], [["lsof"], ["gcc"]], "packages");
    assert.deepEqual(o.pip, { indexUrl: "https://mirror.example/simple/", extraIndexUrl: "http://10.0.0.5:3141/simple/", trustedHosts: ["10.0.0.5:3141"] }, "pip options");
    assert.deepEqual(o.buildCommands, [["python", "manage.py", "collectstatic"]], "build commands");
    assert.deepEqual([o.env, o.workdir, o.user], [{ A: "1" }, "/srv", { name: "web", uid: 2000 }], "env, workdir, user");
    assert.deepEqual(o.labels, { "pydeploy.app": "demo" }, "the deploy finds and prunes the app's images by this label");
    assert.deepEqual(o.dependencies, { kind: "requirements", entry: "requirements.txt", files: ["requirements.txt"] }, "the requirements file");
  });

  it("a base image replaces the python version", () => {
    assert.deepEqual(dockerfileOptions(appConfig({ python: "3.11", baseImage: "registry.example.com/py:3.11" })).base, { image: "registry.example.com/py:3.11" }, "the image verbatim");
  });

  it("roles: the first role's command is CMD; every container port once is EXPOSEd; the HEALTHCHECK is the first role with a healthcheck", () => {
    const o = dockerfileOptions(appConfig({ roles: ROLES }));
    assert.deepEqual(o.command, ["celery", "-A", "demo", "worker"], "CMD is the first role's command");
    assert.deepEqual(o.exposedPorts, [8000, 9000], "8000 once, though web and admin both listen on it");
    assert.deepEqual(o.healthcheck, { port: 8000, path: "/health", intervalSeconds: 10, timeoutSeconds: 3, retries: 5, startPeriodSeconds: 10 }, "the web's healthcheck with its defaults");
    assert.equal(o.entrypoint, undefined, "no entrypoint in roles mode");
    const none = dockerfileOptions(appConfig({ roles: { worker: ROLES.worker, api: ROLES.api } }));
    assert.equal(none.healthcheck, undefined, "no role has a healthcheck: no HEALTHCHECK");
    assert.deepEqual(none.exposedPorts, [9000], "the api's port");
  });

  it("the HEALTHCHECK is the first role with both a healthcheck and a port, not merely the first with a port", () => {
    const o = dockerfileOptions(appConfig({ roles: { api: ROLES.api, web: ROLES.web } }));
    assert.deepEqual(o.healthcheck, { port: 8000, path: "/health", intervalSeconds: 10, timeoutSeconds: 3, retries: 5, startPeriodSeconds: 10 }, "the web's, though the api comes first");
    // The schema refuses a healthcheck without a port; an AppConfig built by hand is skipped past it.
    const app = appConfig({ roles: { first: ROLES.web, second: { ...ROLES.web, port: 9000 } } });
    const handMade: AppConfig = { ...app, roles: [{ ...app.roles[0], port: undefined }, app.roles[1]] };
    assert.equal(dockerfileOptions(handMade).healthcheck?.port, 9000, "the second role's, the first having no port");
  });

  it("single mode: the generated entrypoint runs every role", () => {
    const o = dockerfileOptions(appConfig({ mode: "single", roles: { web: ROLES.web, worker: ROLES.worker } }));
    assert.deepEqual(
      o.entrypoint,
      { source: ".pydeploy/entrypoint.sh", args: ["web", "2", "gunicorn", "demo.wsgi", "worker", "4", "celery", "-A", "demo", "worker"] },
      "the entrypoint's path in the project, and each role as name, word count, words",
    );
  });
});

describe("renderBuildFiles", () => {
  it("roles mode: the Dockerfile under .pydeploy and the .dockerignore, both rw-r--r--, no entrypoint", () => {
    const files = renderBuildFiles(appConfig({ roles: ROLES }));
    assert.deepEqual(files.map((f) => [f.relativePath, f.mode]), [[".pydeploy/Dockerfile", 0o644], [".dockerignore", 0o644]], "two files");
    assert.match(files[0].contents, /^CMD \["celery", "-A", "demo", "worker"\]$/m, "the Dockerfile");
    assert.doesNotMatch(files[1].contents, /^!/m, "nothing under .pydeploy is sent");
  });

  it("single mode: plus the executable entrypoint, which the .dockerignore lets through", () => {
    const files = renderBuildFiles(appConfig({ mode: "single", roles: { web: ROLES.web, worker: ROLES.worker } }));
    assert.deepEqual(files.map((f) => [f.relativePath, f.mode]), [[".pydeploy/Dockerfile", 0o644], [".dockerignore", 0o644], [".pydeploy/entrypoint.sh", 0o755]], "three files");
    assert.match(files[1].contents, /^!\.pydeploy\/entrypoint\.sh$/m, "the entrypoint is sent to the builder");
    assert.equal(files[2].contents, fs.readFileSync(path.join(__dirname, "..", "..", "components", "image", "entrypoint.sh"), "utf8"), "a copy of entrypoint.sh");
    assert.match(
      files[0].contents,
      /^CMD \["\/app\/\.pydeploy\/entrypoint\.sh", "web", "2", "gunicorn", "demo\.wsgi", "worker", "4", "celery", "-A", "demo", "worker"\]$/m,
      "the image runs it with every role",
    );
  });

  it("every file says it is generated in its first lines, so writeBuildFiles may rewrite it", () => {
    for (const f of renderBuildFiles(appConfig({ mode: "single", roles: { web: ROLES.web, worker: ROLES.worker } }))) {
      assert.ok(f.contents.split("\n").slice(0, 3).some((l) => l.includes("Generated by pydeploy")), `${f.relativePath} carries the marker`);
    }
    assert.equal(GENERATED_MARKER, "Generated by pydeploy", "the marker text");
  });
});

describe("writeBuildFiles", () => {
  const file = (relativePath: string, contents: string, mode = 0o644) => ({ relativePath, contents, mode });

  it("writes the files with their modes, creating folders, and returns their absolute paths", () => {
    const dir = tempDir();
    const written = writeBuildFiles(dir, [file(".pydeploy/Dockerfile", "# Generated by pydeploy\nFROM x\n"), file(".pydeploy/entrypoint.sh", "#!/bin/sh\n# Generated by pydeploy\n", 0o755)]);
    assert.deepEqual(written, [path.join(dir, ".pydeploy", "Dockerfile"), path.join(dir, ".pydeploy", "entrypoint.sh")], "absolute paths");
    assert.equal(fs.readFileSync(written[0], "utf8"), "# Generated by pydeploy\nFROM x\n", "the contents");
    assert.equal(fs.statSync(written[1]).mode & 0o777, 0o755, "the entrypoint is executable");
    assert.equal(fs.statSync(written[0]).mode & 0o777, 0o644, "the Dockerfile is not");
  });

  it("leaves an unchanged file alone (same mtime), rewrites a changed one, and fixes a wrong mode", () => {
    const dir = tempDir();
    const f = file("Dockerfile", "# Generated by pydeploy\nFROM a\n");
    const [target] = writeBuildFiles(dir, [f]);
    const old = new Date("2020-01-01T00:00:00Z");
    fs.utimesSync(target, old, old);
    fs.chmodSync(target, 0o600);
    writeBuildFiles(dir, [f]);
    assert.equal(fs.statSync(target).mtimeMs, old.getTime(), "no rewrite when nothing changed: file watchers stay quiet");
    assert.equal(fs.statSync(target).mode & 0o777, 0o644, "the mode is set again");
    writeBuildFiles(dir, [file("Dockerfile", "# Generated by pydeploy\nFROM b\n")]);
    assert.equal(fs.readFileSync(target, "utf8"), "# Generated by pydeploy\nFROM b\n", "a change is written");
    assert.notEqual(fs.statSync(target).mtimeMs, old.getTime(), "with a new mtime");
  });

  it("refuses, before writing anything, to replace a file pydeploy did not write (marker only counts in the first 3 lines)", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, ".dockerignore"), "node_modules\n");
    fs.writeFileSync(path.join(dir, "late"), "a\nb\nc\n# Generated by pydeploy\n");
    const files = [file("Dockerfile", "# Generated by pydeploy\n"), file(".dockerignore", "# Generated by pydeploy\n")];
    assert.throws(() => writeBuildFiles(dir, files), new RegExp(`^Error: ${path.join(dir, ".dockerignore").replace(/[.]/g, "\\.")} exists and was not generated by pydeploy; move it away \\(its rules are then generated for you\\) or render elsewhere with --out$`), "the user's file is named");
    assert.equal(fs.existsSync(path.join(dir, "Dockerfile")), false, "nothing was written");
    assert.equal(fs.readFileSync(path.join(dir, ".dockerignore"), "utf8"), "node_modules\n", "the user's file is untouched");
    assert.throws(() => writeBuildFiles(dir, [file("late", "new")]), /late exists and was not generated by pydeploy/, "a marker on line 4 does not count");
    fs.writeFileSync(path.join(dir, "third"), "a\nb\nx Generated by pydeploy x\n");
    assert.doesNotThrow(() => writeBuildFiles(dir, [file("third", "# Generated by pydeploy\n")]), "a marker on line 3 counts");
  });
});

describe("build settings", () => {
  it("dockerBuildNetwork: nothing for Docker's default network, else the name", () => {
    assert.equal(dockerBuildNetwork(appConfig({})), undefined, "default: docker.Image's inputs stay as before");
    assert.equal(dockerBuildNetwork(appConfig({ buildNetwork: "host" })), "host", "host");
  });

  it("dockerfilePath: <project>/.pydeploy/Dockerfile", () => {
    const app = appConfig({});
    assert.equal(dockerfilePath(app), path.join(app.path, ".pydeploy", "Dockerfile"), "inside the project");
  });
});

describe("proxyBuildFile: the reverse proxy's Dockerfile", () => {
  it("FROM the app's python base (or its baseImage), labelled with the app, under .pydeploy/proxy", () => {
    const f = proxyBuildFile(appConfig({ python: "3.11" }));
    assert.equal(f.relativePath, ".pydeploy/proxy/Dockerfile", "its own build context in the generated folder");
    assert.equal(PROXY_BUILD_DIR, ".pydeploy/proxy", "the folder");
    assert.equal(f.mode, 0o644, "rw-r--r--");
    assert.match(f.contents, /^FROM python:3\.11-slim$/m, "the app's python base: the server has its layers");
    assert.match(f.contents, /^LABEL "pydeploy\.proxy"="demo"$/m, "labelled with the app");
    assert.match(proxyBuildFile(appConfig({ baseImage: "registry.example.com/py:3.11" })).contents, /^FROM registry\.example\.com\/py:3\.11$/m, "the app's base image");
  });
});
