// Test registries: Debian's docker-registry in a container from the test server image (which has
// it installed), its port published on this machine's loopback (the only plain-HTTP registry
// this machine's dockerd pushes to), also reachable by its bridge address from test servers.
//   - startLocalRegistry: with htpasswd auth, for `deploy.ship: registry`;
//   - startRegistryMirror: without auth, holding images under their Docker Hub names, as a
//     stand-in for a Docker Hub mirror (an Alibaba Cloud accelerator, say); a test server's
//     dockerd is pointed at it with setRegistryMirrors (test/support/ssh/sshServer.ts).
import { docker, httpGet, waitFor } from "./localEngine";

interface RegistryContainer {
  /** 127.0.0.1:<port>, as this machine reaches it. */
  published: string;
  /** Its address on the default bridge, as test servers reach it (port 5000). */
  address: string;
  remove(): Promise<void>;
}

async function startRegistryContainer(o: { name: string; login?: { username: string; password: string } }): Promise<RegistryContainer> {
  const { ensureServerImage } = await import("../ssh/sshServer");
  const image = await ensureServerImage();
  const auth = o.login ? "auth:\\n  htpasswd:\\n    realm: test\\n    path: /tmp/htpasswd\\n" : "";
  const setup = [
    "set -e",
    ...(o.login ? ['htpasswd -Bbn "$REGISTRY_USER" "$REGISTRY_PASSWORD" > /tmp/htpasswd'] : []),
    `printf 'version: 0.1\\nstorage:\\n  filesystem:\\n    rootdirectory: /tmp/registry\\nhttp:\\n  addr: :5000\\n${auth}' > /tmp/config.yml`,
    "exec docker-registry serve /tmp/config.yml",
  ].join("\n");
  const credentials = o.login ? ["-e", `REGISTRY_USER=${o.login.username}`, "-e", `REGISTRY_PASSWORD=${o.login.password}`] : [];
  await docker(["run", "--detach", "--name", o.name, "--publish", "127.0.0.1::5000", ...credentials, "--entrypoint", "sh", image, "-c", setup]);
  const remove = async () => void (await docker(["rm", "--force", "--volumes", o.name], { allowFailure: true }));
  try {
    const published = `127.0.0.1:${(await docker(["port", o.name, "5000/tcp"])).stdout.trim().split(":").pop()}`;
    const address = (await docker(["inspect", "--format", "{{.NetworkSettings.IPAddress}}", o.name])).stdout.trim();
    // Up when /v2/ answers: 401 with auth, 200 without.
    const up = o.login ? 401 : 200;
    await waitFor(`the registry on ${published}`, async () => ((await httpGet(`http://${published}/v2/`).catch(() => ({ status: 0 }))).status === up ? true : undefined));
    return { published, address, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/** A registry with htpasswd auth on this machine's loopback. */
export async function startLocalRegistry(o: { name: string; username: string; password: string }): Promise<{ server: string; stop(): Promise<void> }> {
  const registry = await startRegistryContainer({ name: o.name, login: { username: o.username, password: o.password } });
  return { server: registry.published, stop: registry.remove };
}

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
  const registry = await startRegistryContainer({ name: o.name });
  return {
    url: `http://${registry.address}:5000`,
    hostPort: `${registry.address}:5000`,
    push: async (ref) => {
      const local = `${registry.published}/${ref.includes("/") ? ref : `library/${ref}`}`;
      await docker(["tag", ref, local]);
      try {
        await docker(["push", local], { timeoutMs: 5 * 60_000 });
      } finally {
        await docker(["image", "rm", local], { allowFailure: true });
      }
    },
    remove: registry.remove,
  };
}
