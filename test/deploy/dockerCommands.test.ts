// The argv the deployer runs on a Docker host (components/deploy/dockerCommands.ts), written out
// in full: each flag is there for something a user would notice, named in the message.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as cmd from "../../components/deploy/dockerCommands";

describe("dockerCommands: reads", () => {
  it("version and info print JSON fields the deployer parses", () => {
    assert.deepEqual(cmd.dockerVersion(), ["docker", "version", "--format", "{{.Server.Version}}"], "the server's version, not the client's");
    assert.deepEqual(cmd.dockerInfoJson(), ["docker", "info", "--format", "{{json .}}"], "the whole engine info as JSON");
  });

  it("container and image lists: every container (stopped ones are the rollback), full IDs, the app's label", () => {
    assert.deepEqual(cmd.appContainerIds("demo"), ["docker", "ps", "--all", "--quiet", "--no-trunc", "--filter", "label=pydeploy.app=demo"], "the app's containers, stopped ones too");
    assert.deepEqual(cmd.allContainerIds(), ["docker", "ps", "--all", "--quiet", "--no-trunc"], "every container, to keep the images they use");
    assert.deepEqual(cmd.inspectContainers(["a", "b"]), ["docker", "container", "inspect", "a", "b"], "inspect several at once");
    assert.deepEqual(cmd.appImageIds("demo"), ["docker", "image", "ls", "--quiet", "--no-trunc", "--filter", "label=pydeploy.app=demo"], "the app's images by label");
    assert.deepEqual(cmd.labelledImageIds("pydeploy.proxy", "demo"), ["docker", "image", "ls", "--quiet", "--no-trunc", "--filter", "label=pydeploy.proxy=demo"], "images by any label");
    assert.deepEqual(cmd.allImageIds(), ["docker", "image", "ls", "--quiet", "--no-trunc"], "every image ID, full length");
    assert.deepEqual(cmd.inspectImages(["pydeploy/demo:v1"]), ["docker", "image", "inspect", "pydeploy/demo:v1"], "inspect images");
  });
});

describe("dockerCommands: containers", () => {
  it("start, stop with the grace period, remove (forced only when asked), logs", () => {
    assert.deepEqual(cmd.startContainers(["a", "b"]), ["docker", "start", "a", "b"], "start several");
    assert.deepEqual(cmd.stopContainers(["a"], 45), ["docker", "stop", "--time", "45", "a"], "SIGTERM, then SIGKILL after the grace period");
    assert.deepEqual(cmd.removeContainers(["a"]), ["docker", "rm", "a"], "a plain rm refuses a running container");
    assert.deepEqual(cmd.removeContainers(["a", "b"], { force: true }), ["docker", "rm", "--force", "a", "b"], "forced");
    assert.deepEqual(cmd.removeContainers(["a"], { force: false }), ["docker", "rm", "a"], "force: false is a plain rm");
    assert.deepEqual(cmd.containerLogs("demo-web-v1", 100), ["docker", "logs", "--tail", "100", "demo-web-v1"], "the last lines of a failed container");
    assert.deepEqual(cmd.containerLogsSince("demo-proxy", 30), ["docker", "logs", "--since", "30s", "demo-proxy"], "what the proxy logged since its config was loaded");
  });

  it("the base through the host's registry mirrors: which mirrors, and a pull that gives up", () => {
    assert.deepEqual(cmd.registryMirrors(), ["docker", "info", "--format", "{{json .RegistryConfig.Mirrors}}"], "the daemon's mirrors as JSON");
    assert.deepEqual(cmd.pullThroughMirrors("python:3.12-slim", 300), ["timeout", "300", "docker", "pull", "--quiet", "python:3.12-slim"], "a plain pull (the daemon picks the mirror), ended after 300 s");
  });

  it("the release command's one-off container: the env file, the app's labels, the volumes, the image, the command", () => {
    assert.deepEqual(
      cmd.startReleaseCommandContainer({ name: "demo-release-v1", app: "demo", image: "pydeploy/demo:v1", envFile: ".pydeploy/demo/app.env", mounts: [{ volume: "demo-data", path: "/data" }], command: ["python", "manage.py", "migrate"] }),
      [
        "docker", "run", "--detach", "--name", "demo-release-v1", "--env-file", ".pydeploy/demo/app.env",
        "--label", "pydeploy.app=demo", "--label", "pydeploy.role=release-command",
        "--mount", "type=volume,source=demo-data,target=/data,volume-nocopy",
        "pydeploy/demo:v1", "python", "manage.py", "migrate",
      ],
      "no --restart (it runs once), no port; labelled so destroy finds it",
    );
  });

  it("networks: join under the role's alias; leave by force", () => {
    assert.deepEqual(cmd.connectNetwork("demo-proxy", "demo-web-v2", "demo-web"), ["docker", "network", "connect", "--alias", "demo-web", "demo-proxy", "demo-web-v2"], "the proxy reaches the container by the alias");
    assert.deepEqual(cmd.disconnectNetwork("demo-proxy", "demo-web-v1", { force: true }), ["docker", "network", "disconnect", "--force", "demo-proxy", "demo-web-v1"], "by force: also for a stopped container");
    assert.deepEqual(cmd.disconnectNetwork("demo-proxy", "demo-web-v1"), ["docker", "network", "disconnect", "demo-proxy", "demo-web-v1"], "a running container leaves without force");
    assert.deepEqual(cmd.inspectNetwork("demo-proxy"), ["docker", "network", "inspect", "demo-proxy"], "does it exist");
    assert.deepEqual(cmd.createLabelledNetwork("demo-proxy", "pydeploy.proxy", "demo"), ["docker", "network", "create", "--label", "pydeploy.proxy=demo", "demo-proxy"], "created with its owner's label");
    assert.deepEqual(cmd.removeNetwork("demo-proxy"), ["docker", "network", "rm", "demo-proxy"], "removed");
  });

  it("inside containers: exec (with stdin open when asked), a label read, a helper in another's network namespace", () => {
    assert.deepEqual(cmd.execInContainer("demo-web-v1", ["python", "-V"]), ["docker", "exec", "demo-web-v1", "python", "-V"], "no stdin by default");
    assert.deepEqual(cmd.execInContainer("demo-proxy", ["caddy", "reload"], { stdin: true }), ["docker", "exec", "-i", "demo-proxy", "caddy", "reload"], "-i keeps stdin open");
    assert.deepEqual(
      cmd.containerLabel("demo-proxy", "pydeploy.proxy-spec"),
      ["docker", "container", "inspect", "--format", '{{index .Config.Labels "pydeploy.proxy-spec"}}', "demo-proxy"],
      "prints one label's value",
    );
    assert.deepEqual(
      cmd.runInNetworkOf("demo-web-v1", "demo-proxy:1", ["python3", "-V"]),
      ["docker", "run", "--rm", "--network", "container:demo-web-v1", "--cap-add", "NET_ADMIN", "--user", "root", "demo-proxy:1", "python3", "-V"],
      "a throwaway root container in the other's network namespace, allowed to set its firewall",
    );
  });
});

describe("dockerCommands: volumes and images", () => {
  it("volumes: inspected, created with the app's label, listed by it, removed; a new one is chowned by the image's own chown without network", () => {
    assert.deepEqual(cmd.inspectVolume("demo-data"), ["docker", "volume", "inspect", "demo-data"], "does it exist");
    assert.deepEqual(cmd.createVolume("demo-data", "demo"), ["docker", "volume", "create", "--label", "pydeploy.app=demo", "demo-data"], "labelled for destroy");
    assert.deepEqual(cmd.createLabelledVolume("demo-proxy-data", "pydeploy.proxy", "demo"), ["docker", "volume", "create", "--label", "pydeploy.proxy=demo", "demo-proxy-data"], "any owner's label");
    assert.equal(cmd.claimVolumeName("demo", "0f3a"), "demo.claim.0f3a", "a claim's volume names the app and its owner token");
    assert.deepEqual(cmd.createClaimVolume("demo", "0f3a"), ["docker", "volume", "create", "--label", "pydeploy.claim=demo", "demo.claim.0f3a"], "a claim: the claim label, the owner in the name");
    assert.deepEqual(cmd.claimVolumes("demo"), ["docker", "volume", "ls", "--quiet", "--filter", "label=pydeploy.claim=demo"], "the app's claims, by their label");
    assert.deepEqual(cmd.appVolumes("demo"), ["docker", "volume", "ls", "--quiet", "--filter", "label=pydeploy.app=demo"], "the app's volumes");
    assert.deepEqual(cmd.removeVolumes(["demo-data", "demo-media"]), ["docker", "volume", "rm", "demo-data", "demo-media"], "removed on request");
    assert.deepEqual(
      cmd.chownVolume("pydeploy/demo:v1", "demo-data", 10001),
      ["docker", "run", "--rm", "--user", "0:0", "--network", "none", "--entrypoint", "chown", "--mount", "type=volume,source=demo-data,target=/volume", "pydeploy/demo:v1", "10001:10001", "/volume"],
      "root chowns the volume to the app's uid and gid",
    );
  });

  it("images: a smoke test without network, tag, remove (forced for an ID with several tags), load from stdin, save", () => {
    assert.deepEqual(cmd.smokeTest("pydeploy/demo:v1"), ["docker", "run", "--rm", "--network", "none", "--entrypoint", "sh", "pydeploy/demo:v1", "-c", "exit 0"], "the image starts");
    assert.deepEqual(cmd.tagImage("sha256:abc", "pydeploy/demo:abc"), ["docker", "tag", "sha256:abc", "pydeploy/demo:abc"], "source, then target");
    assert.deepEqual(cmd.removeImages(["a"]), ["docker", "image", "rm", "a"], "untag");
    assert.deepEqual(cmd.removeImages(["a", "b"], { force: true }), ["docker", "image", "rm", "--force", "a", "b"], "forced");
    assert.deepEqual(cmd.loadImage(), ["docker", "load"], "reads the archive on stdin");
    assert.deepEqual(cmd.saveImage("pydeploy/demo:v1"), ["docker", "save", "pydeploy/demo:v1"], "writes the archive on stdout");
  });

  it("registry: a throwaway client config, the password on stdin, pull by reference, logout", () => {
    assert.deepEqual(cmd.registryLogin("/tmp/cfg", "registry.example.com", "me"), ["env", "DOCKER_CONFIG=/tmp/cfg", "docker", "login", "--username", "me", "--password-stdin", "registry.example.com"], "no password in the argv");
    assert.deepEqual(cmd.pullImage("/tmp/cfg", "registry.example.com/ns/demo@sha256:abc"), ["env", "DOCKER_CONFIG=/tmp/cfg", "docker", "pull", "registry.example.com/ns/demo@sha256:abc"], "with the same config");
    assert.deepEqual(cmd.registryLogout("/tmp/cfg", "registry.example.com"), ["env", "DOCKER_CONFIG=/tmp/cfg", "docker", "logout", "registry.example.com"], "no credential left behind");
  });
});

describe("dockerCommands: files in the app's folder", () => {
  it("a private folder, a temp folder, remove, read", () => {
    assert.deepEqual(cmd.makePrivateDir(".pydeploy/demo"), ["mkdir", "-p", "-m", "700", ".pydeploy/demo"], "only the SSH user can read the env file's folder");
    assert.deepEqual(cmd.makeTempDir(), ["mktemp", "-d"], "a temp folder");
    assert.deepEqual(cmd.removePath(".pydeploy/demo"), ["rm", "-rf", "--", ".pydeploy/demo"], "-- : a path is never an option");
    assert.deepEqual(cmd.readFile(".pydeploy/demo/salt"), ["cat", "--", ".pydeploy/demo/salt"], "-- : a path is never an option");
  });

  it("writePrivateFile: one sh -c line, the path as its argument $1, the shell named sh in its errors (run: dockerCommands.script.test.ts)", () => {
    assert.deepEqual(
      cmd.writePrivateFile(".pydeploy/demo/app env"),
      ["sh", "-c", 'umask 077 && cat >"$1.tmp" && chmod 600 "$1.tmp" && mv -f "$1.tmp" "$1"', "sh", ".pydeploy/demo/app env"],
      "the path is never shell text",
    );
  });
});
