// A stand-in for a Docker Hub registry mirror (an Alibaba Cloud accelerator, say): Debian's
// docker-registry in a container on the default bridge, without auth, holding the images a test
// pushes to it under their Docker Hub names. A test server's dockerd is pointed at it with
// setRegistryMirrors (test/support/ssh/sshServer.ts).
import { docker, httpGet, waitFor } from "./localEngine";

export interface RegistryMirror {
  /** http://<address>:5000, as a test server's dockerd reaches it. */
  url: string;
  /** <address>:5000: the containerd store speaks plain HTTP only to registries listed as insecure. */
  hostPort: string;
  /** Puts a local image on the mirror under its Docker Hub name (pydeploy/python-base:bookworm). */
  push(ref: string): Promise<void>;
  remove(): Promise<void>;
}

export async function startRegistryMirror(o: { name: string }): Promise<RegistryMirror> {
  // The test server image has Debian's docker-registry installed.
  const { ensureServerImage } = await import("../ssh/sshServer");
  const image = await ensureServerImage();
  const setup = [
    "set -e",
    "printf 'version: 0.1\\nstorage:\\n  filesystem:\\n    rootdirectory: /tmp/registry\\nhttp:\\n  addr: :5000\\n' > /tmp/config.yml",
    "exec docker-registry serve /tmp/config.yml",
  ].join("\n");
  await docker(["run", "--detach", "--name", o.name, "--publish", "127.0.0.1::5000", "--entrypoint", "sh", image, "-c", setup]);
  const remove = async () => void (await docker(["rm", "--force", "--volumes", o.name], { allowFailure: true }));
  try {
    const published = `127.0.0.1:${(await docker(["port", o.name, "5000/tcp"])).stdout.trim().split(":").pop()}`;
    const address = (await docker(["inspect", "--format", "{{.NetworkSettings.IPAddress}}", o.name])).stdout.trim();
    await waitFor(`the registry mirror on ${published}`, async () => ((await httpGet(`http://${published}/v2/`).catch(() => ({ status: 0 }))).status === 200 ? true : undefined));
    return {
      url: `http://${address}:5000`,
      hostPort: `${address}:5000`,
      // This machine's dockerd pushes over plain HTTP to loopback only: through the published port.
      push: async (ref) => {
        const local = `${published}/${ref.includes("/") ? ref : `library/${ref}`}`;
        await docker(["tag", ref, local]);
        try {
          await docker(["push", local], { timeoutMs: 5 * 60_000 });
        } finally {
          await docker(["image", "rm", local], { allowFailure: true });
        }
      },
      remove,
    };
  } catch (err) {
    await remove();
    throw err;
  }
}
