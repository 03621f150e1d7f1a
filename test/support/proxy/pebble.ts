// Let's Encrypt's ACME test server, offline: Debian's `pebble` package in a container built
// from the local base image. Two ways for a proxy to meet it:
//   - on a user-defined network, under the alias PEBBLE_HOST, where the names it validates
//     resolve by Docker's DNS (network aliases);
//   - on any network by its address (a proxy inside a test server reaches it so), with `hosts`:
//     a dnsmasq in the container answers pebble's lookups of the test's names
//     (pebble-entrypoint.sh).
//
// Debian ships no test certificates, so each start makes a CA and a certificate for pebble's
// own HTTPS listener, for its name and its address (the ACME client must trust that CA).
// Pebble's issuing root is another, regenerated at every start: read it from the management
// API (/roots/0).
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { BASE_IMAGE, docker } from "../docker/localEngine";
import { ensureBuiltImage } from "../docker/builtImage";

/** Pebble's name on a user-defined network: its listener certificate is made for it. */
export const PEBBLE_HOST = "pebble";
const ACME_PORT = 14000;
const MANAGEMENT_PORT = 15000;
const ENTRYPOINT = path.join(__dirname, "pebble-entrypoint.sh");
/** Where the config folder is mounted in the container. */
const CONFIG_DIR = "/etc/pebble";

const DOCKERFILE = [
  `FROM ${BASE_IMAGE}`,
  "RUN apt-get update \\",
  "    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends pebble openssl dnsmasq-base \\",
  "    && apt-get clean \\",
  "    && rm -rf /var/lib/apt/lists/*",
  "COPY pebble-entrypoint.sh /usr/local/bin/pebble-entrypoint.sh",
  "",
].join("\n");

/** Builds the pebble image unless this version of it (Dockerfile, entrypoint, base image) exists; returns its tag. */
export function ensurePebbleImage(): Promise<string> {
  return ensureBuiltImage("pydeploy/test-pebble", { Dockerfile: DOCKERFILE, "pebble-entrypoint.sh": { content: fs.readFileSync(ENTRYPOINT), mode: 0o755 } });
}

export interface Pebble {
  container: string;
  /** The ACME directory by PEBBLE_HOST, as containers on its user-defined network reach it. */
  directoryUrl: string;
  /** Its address on its network. */
  address: string;
  /** The ACME directory by address, as anything that reaches the network does (a test server's containers). */
  directoryUrlByAddress: string;
  /** PEM of the CA that signed pebble's HTTPS listener: what the ACME client must trust (acme_ca_root). */
  listenerCaPem: string;
  /** PEM of the root pebble issues certificates under (this start's). */
  issuingRootPem(): Promise<string>;
  /** Orders pebble has created since it started (its log). */
  orderCount(): Promise<number>;
  /** ACME accounts pebble has created since it started (its log). */
  accountCount(): Promise<number>;
  remove(): Promise<void>;
}

/**
 * Starts pebble on `network` (a user-defined one gets the alias PEBBLE_HOST); its management
 * API is published on loopback. With `hosts` (name -> address), pebble resolves exactly those
 * names, and no other, when it validates.
 */
export async function startPebble(o: { image: string; network: string; container: string; hosts?: Record<string, string> }): Promise<Pebble> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-pebble-"));
  try {
    fs.writeFileSync(
      path.join(dir, "pebble-config.json"),
      JSON.stringify({
        pebble: {
          listenAddress: `0.0.0.0:${ACME_PORT}`,
          managementListenAddress: `0.0.0.0:${MANAGEMENT_PORT}`,
          certificate: `${CONFIG_DIR}/cert.pem`,
          privateKey: `${CONFIG_DIR}/key.pem`,
          // The validation ports default to 5002/5001; the proxy answers on 80/443.
          httpPort: 80,
          tlsPort: 443,
          ocspResponderURL: "",
          externalAccountBindingRequired: false,
        },
      }),
    );
    const userDefined = !["bridge", "host", "none"].includes(o.network);
    await docker([
      "run", "--detach", "--name", o.container,
      "--network", o.network, ...(userDefined ? ["--network-alias", PEBBLE_HOST] : []),
      "--volume", `${dir}:${CONFIG_DIR}:ro`,
      "--publish", `127.0.0.1::${MANAGEMENT_PORT}`,
      // No random validation delays, and no randomly refused nonces: fast, repeatable tests.
      "--env", "PEBBLE_VA_NOSLEEP=1",
      "--env", "PEBBLE_WFE_NONCEREJECT=0",
      o.image, "pebble-entrypoint.sh", CONFIG_DIR,
      ...Object.entries(o.hosts ?? {}).map(([name, address]) => `${name}=${address}`),
    ]);
    const address = (await docker(["inspect", "--format", `{{(index .NetworkSettings.Networks "${o.network}").IPAddress}}`, o.container])).stdout.trim();
    if (!address) throw new Error(`pebble has no address on network ${o.network}`);
    // The container waits for this: a listener certificate for its address, then the ready file.
    await makeListenerCertificates(o.image, dir, address);
    fs.writeFileSync(path.join(dir, "ready"), "");
    const listenerCaPem = fs.readFileSync(path.join(dir, "ca.pem"), "utf8");
    const mapped = (await docker(["port", o.container, `${MANAGEMENT_PORT}/tcp`])).stdout.trim().split("\n")[0];
    const managementUrl = `https://127.0.0.1:${mapped.slice(mapped.lastIndexOf(":") + 1)}`;
    const logs = async () => {
      const r = await docker(["logs", o.container]);
      return r.stdout + r.stderr;
    };
    const pebble: Pebble = {
      container: o.container,
      directoryUrl: `https://${PEBBLE_HOST}:${ACME_PORT}/dir`,
      address,
      directoryUrlByAddress: `https://${address}:${ACME_PORT}/dir`,
      listenerCaPem,
      issuingRootPem: () => httpsGetText(`${managementUrl}/roots/0`, listenerCaPem),
      orderCount: async () => (await logs()).split("\n").filter((l) => /Added order "/.test(l)).length,
      accountCount: async () => {
        const counts = [...(await logs()).matchAll(/There are now (\d+) accounts in memory/g)].map((m) => Number(m[1]));
        return counts.at(-1) ?? 0;
      },
      remove: async () => {
        await docker(["rm", "--force", o.container], { allowFailure: true });
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
    // Ready when the management API serves the root over the listener certificate we made.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await pebble.issuingRootPem();
        return pebble;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`pebble did not answer on ${managementUrl}: ${err}\n${await logs()}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } catch (err) {
    await docker(["rm", "--force", o.container], { allowFailure: true });
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A CA, and a certificate it signs for pebble's listener (names: pebble, localhost, 127.0.0.1 and `address`), with the image's openssl. */
async function makeListenerCertificates(image: string, dir: string, address: string): Promise<void> {
  const openssl = (args: string[]) =>
    docker([
      "run", "--rm", "--user", `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`,
      "--volume", `${dir}:/certs`, "--workdir", "/certs", image, "openssl", ...args,
    ]);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl([
    "req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
    "-subj", "/CN=pydeploy test: pebble listener CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  // OpenSSL 3: `req -x509 -CA` signs the new certificate with the CA instead of self-signing.
  await openssl([
    "req", "-x509", ...ec, "-keyout", "key.pem", "-out", "cert.pem", "-days", "2",
    "-CA", "ca.pem", "-CAkey", "ca.key", "-subj", `/CN=${PEBBLE_HOST}`,
    "-addext", `subjectAltName=DNS:${PEBBLE_HOST},DNS:localhost,IP:127.0.0.1,IP:${address}`,
    "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=serverAuth",
  ]);
}

function httpsGetText(url: string, caPem: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: caPem, timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${url}: HTTP ${res.statusCode}: ${body}`))));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
  });
}
