// The deployer's SSH transport (components/deploy/runner/sshHost.ts) against an SSH server in
// the test process (ssh2's Server on loopback): the pinned host key is checked before anything
// is sent, a wrong key, a refused login and an absent host each fail with their own message,
// and commands arrive as quoted argv with stdin, exit codes and signals intact.
import assert from "node:assert/strict";
import * as net from "node:net";
import { after, before, describe, test } from "node:test";
import { Server, utils } from "ssh2";
import { connectSsh, fingerprint, parseHostKey, SshHost, SshTarget, UnreachableError } from "../../../components/deploy/runner/sshHost";
import { HostCommandError } from "../../../components/deploy/runner/transport";
import { generateSshKeyPair } from "../../support/ssh/sshKeys";

// Checked with `ssh-keygen -lf` on this line: 256 SHA256:MjHYx4ON+DF/7MJC+/4mau95RQYOZ2xRR9rCbqnC6NI fixed (ED25519).
const FIXED_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMt6F6fsMtyUdObTVpxmUZllOMjt9MuY28KtrRQIDm7m fixed";

describe("parseHostKey and fingerprint", () => {
  test("a pinned line gives its type and key blob, and OpenSSH's fingerprint of it", () => {
    const { type, blob } = parseHostKey(`203.0.113.7 ${FIXED_KEY}`);
    assert.equal(type, "ssh-ed25519", "the type");
    assert.equal(blob.toString("base64"), FIXED_KEY.split(" ")[1], "the blob is the decoded key data");
    assert.equal(fingerprint(blob), "SHA256:MjHYx4ON+DF/7MJC+/4mau95RQYOZ2xRR9rCbqnC6NI", "what ssh-keygen -lf prints, without base64 padding");
  });

  test("an unusable line is refused with the config's reason", () => {
    assert.throws(() => parseHostKey("ssh-dss AAAA"), { message: /^the pinned host key is not usable: key type ssh-dss is not supported/ }, "an unsupported type");
    assert.throws(() => parseHostKey("ssh-ed25519"), { message: "the pinned host key is not usable: no key data after ssh-ed25519" }, "no key data");
  });
});

/** What the in-process server does with each command line it is sent. */
type Handler = (command: string, stdin: Buffer) => { stdout?: string; stderr?: string; code?: number; signal?: string };

interface TestSshServer {
  port: number;
  hostKeyLine: string;
  /** Command lines received, in order. */
  commands: string[];
  handler: Handler;
  close(): Promise<void>;
}

/** The server's host keys: the first is the one `hostKeyLine` names; `algorithms` limits what it signs with. */
async function startServer(clientKey: string, hostKeyType: "ed25519" | "rsa" = "ed25519", extra: { hostKeys?: { private: string }[]; algorithms?: string[] } = {}): Promise<TestSshServer> {
  const hostPair = generateSshKeyPair(hostKeyType);
  const allowed = utils.parseKey(clientKey);
  if (allowed instanceof Error) throw allowed;
  const state: TestSshServer = {
    port: 0,
    hostKeyLine: hostPair.public,
    commands: [],
    handler: () => ({}),
    close: async () => undefined,
  };
  const server = new Server({ hostKeys: [hostPair.private, ...(extra.hostKeys ?? []).map((k) => k.private)], ...(extra.algorithms ? { algorithms: { serverHostKey: extra.algorithms as never } } : {}) }, (client) => {
    client.on("error", () => undefined);
    client.on("authentication", (ctx) => {
      const ok = ctx.method === "publickey" && ctx.key.algo === allowed.type && ctx.key.data.equals(allowed.getPublicSSH()) && (!ctx.signature || allowed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true);
      if (ok) ctx.accept();
      else ctx.reject(["publickey"]);
    });
    client.on("session", (accept) => {
      accept().on("exec", (acceptExec, _reject, info) => {
        state.commands.push(info.command);
        const stream = acceptExec();
        const input: Buffer[] = [];
        stream.on("data", (d: Buffer) => input.push(d));
        stream.on("end", () => {
          const r = state.handler(info.command, Buffer.concat(input));
          if (r.stdout) stream.write(r.stdout);
          if (r.stderr) stream.stderr.write(r.stderr);
          if (r.signal) stream.exit(r.signal, false, "");
          else stream.exit(r.code ?? 0);
          stream.end();
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.port = (server.address() as net.AddressInfo).port;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

describe("connectSsh and SshHost against an SSH server", { timeout: 30_000 }, () => {
  const login = generateSshKeyPair("ed25519");
  let server: TestSshServer;
  const target = (): SshTarget => ({ host: "127.0.0.1", port: server.port, user: "deploy", privateKey: login.private, hostKey: server.hostKeyLine });
  const where = () => `deploy@127.0.0.1:${server.port}`;

  before(async () => {
    server = await startServer(login.private);
  });
  after(async () => {
    await server.close();
  });

  async function connected<T>(f: (host: SshHost, lines: string[]) => Promise<T>, t = target()): Promise<T> {
    const lines: string[] = [];
    const host = await connectSsh(t, { timeoutSeconds: 5, log: (l) => lines.push(l) });
    try {
      return await f(host, lines);
    } finally {
      await host.close();
    }
  }

  test("the pinned key: no warning; each word of the argv arrives single-quoted; stdout, stderr and stdin go through and are counted", async () => {
    server.handler = (_command, stdin) => ({ stdout: `read ${stdin.length} bytes\n`, stderr: "a warning\n" });
    await connected(async (host, lines) => {
      assert.equal(host.description, where(), "it describes itself as user@host:port");
      const r = await host.run(["docker", "run", "it's", "a b"], { stdin: "hello" });
      assert.deepEqual(r, { code: 0, stdout: "read 5 bytes\n", stderr: "a warning\n" }, "the command's output");
      assert.equal(server.commands.at(-1), `'docker' 'run' 'it'"'"'s' 'a b'`, "every word quoted, a quote inside escaped");
      assert.equal(host.bytesSent, 5, "the stdin bytes are counted");
      await host.run(["true"]);
      assert.equal(host.bytesSent, 5, "no stdin, nothing counted");
      assert.deepEqual(lines, [], "no warning for a pinned key");
    });
  });

  test("a non-zero exit throws HostCommandError with the output, unless failure is allowed", async () => {
    server.handler = () => ({ stderr: "Error: No such container: x\n", code: 1 });
    await connected(async (host) => {
      await assert.rejects(host.run(["docker", "rm", "x"]), (err: Error) => {
        assert.ok(err instanceof HostCommandError, `a HostCommandError: ${err.name}`);
        assert.equal(err.message, `on ${where()}: \`docker rm x\` exited 1:\nError: No such container: x`, "where, what and why");
        return true;
      }, "it throws");
      assert.deepEqual(await host.run(["docker", "rm", "x"], { allowFailure: true }), { code: 1, stdout: "", stderr: "Error: No such container: x\n" }, "or returns the result");
    });
  });

  test("a command killed by a signal exits 128 and says which", async () => {
    server.handler = () => ({ signal: "KILL" });
    await connected(async (host) => {
      const r = await host.run(["sleep", "100"], { allowFailure: true });
      assert.equal(r.code, 128, "128 for a signal");
      assert.equal(r.stderr, "\n(killed by SIGKILL)", "and the signal, named once");
    });
  });

  test("errors the client emits after the connect do not go uncaught (they would end the deployer)", async () => {
    server.handler = () => ({});
    await connected(async (host) => {
      const client = (host as unknown as { client: import("node:events").EventEmitter }).client;
      // An EventEmitter throws an 'error' nobody listens to: that would end the deployer.
      // Twice: the connect's own once-listener takes only the first.
      for (const n of [1, 2]) assert.doesNotThrow(() => client.emit("error", new Error("read ECONNRESET")), `the host listens for the client's errors (error ${n})`);
      assert.equal((await host.run(["true"], { allowFailure: true })).code, 0, "and the connection still serves");
    });
  });

  test("an unpinned host key is trusted with a warning that shows its fingerprint", async () => {
    server.handler = () => ({});
    const presented = fingerprint(parseHostKey(server.hostKeyLine).blob);
    await connected(async (_host, lines) => {
      assert.deepEqual(
        lines,
        [`warning: the host key of ${where()} is not pinned, so any server answering there is trusted; it presented ${presented}. Pin it (host.hostKey, the line \`ssh-keyscan 127.0.0.1\` prints).`],
        "the warning",
      );
    }, { ...target(), hostKey: undefined });
  });

  test("another host key: refused before authentication, with both fingerprints", async () => {
    const other = generateSshKeyPair("ed25519").public;
    const before = server.commands.length;
    await assert.rejects(
      connectSsh({ ...target(), hostKey: other }, { timeoutSeconds: 5, log: () => undefined }),
      {
        message: `SSH host key mismatch for ${where()}: expected ssh-ed25519 ${fingerprint(parseHostKey(other).blob)}, the server presented ${fingerprint(parseHostKey(server.hostKeyLine).blob)}. Nothing was sent. If the server was rebuilt, update the pinned host key; otherwise something else answers at that address.`,
      },
      "the mismatch, both keys named",
    );
    assert.equal(server.commands.length, before, "no command reached the server");
  });

  test("a key the server refuses, host key not pinned: the same authentication error", async () => {
    await assert.rejects(
      connectSsh({ ...target(), hostKey: undefined, privateKey: generateSshKeyPair("ed25519").private }, { timeoutSeconds: 5, log: () => undefined }),
      { message: `SSH authentication failed for ${where()}: the server refused the private key (check the key and the user)` },
      "says what to check",
    );
  });

  test("a key the server refuses: an authentication error, not a retry", async () => {
    const started = Date.now();
    await assert.rejects(
      connectSsh({ ...target(), privateKey: generateSshKeyPair("ed25519").private }, { timeoutSeconds: 5, log: () => undefined }),
      { message: `SSH authentication failed for ${where()}: the server refused the private key (check the key and the user)` },
      "says what to check",
    );
    assert.ok(Date.now() - started < 2000, "without waiting to retry");
  });
});

describe("connectSsh: a pinned RSA host key", { timeout: 30_000 }, () => {
  test("the server must present the RSA key (rsa-sha2 signatures)", async () => {
    const login = generateSshKeyPair("ed25519");
    const server = await startServer(login.private, "rsa");
    try {
      const host = await connectSsh({ host: "127.0.0.1", port: server.port, user: "deploy", privateKey: login.private, hostKey: server.hostKeyLine }, { timeoutSeconds: 5, log: () => undefined });
      await host.close();
      const other = generateSshKeyPair("rsa").public;
      await assert.rejects(
        connectSsh({ host: "127.0.0.1", port: server.port, user: "deploy", privateKey: login.private, hostKey: other }, { timeoutSeconds: 5, log: () => undefined }),
        { message: /^SSH host key mismatch .*: expected ssh-rsa SHA256:/ },
        "another RSA key is refused",
      );
    } finally {
      await server.close();
    }
  });
});

describe("connectSsh: a server with several host keys presents the pinned one", { timeout: 30_000 }, () => {
  const login = generateSshKeyPair("ed25519");
  const connectTo = (server: TestSshServer, hostKey: string) =>
    connectSsh({ host: "127.0.0.1", port: server.port, user: "deploy", privateKey: login.private, hostKey }, { timeoutSeconds: 5, log: () => undefined });

  test("an RSA key pinned beside an ed25519 one, on a server without SHA-1 signatures (OpenSSH 8.8+)", async () => {
    const rsa = generateSshKeyPair("rsa");
    const server = await startServer(login.private, "ed25519", { hostKeys: [rsa], algorithms: ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"] });
    try {
      await (await connectTo(server, rsa.public)).close();
      await (await connectTo(server, server.hostKeyLine)).close();
    } finally {
      await server.close();
    }
  });

  test("an ECDSA key pinned beside an ed25519 one", async () => {
    const ecdsa = utils.generateKeyPairSync("ecdsa", { bits: 256 });
    const server = await startServer(login.private, "ed25519", { hostKeys: [ecdsa] });
    try {
      await (await connectTo(server, ecdsa.public)).close();
    } finally {
      await server.close();
    }
  });
});

describe("connectSsh: a host that does not answer", { timeout: 30_000 }, () => {
  /** A loopback port nothing listens on. */
  async function closedPort(): Promise<number> {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return port;
  }

  test("gives up after the timeout with UnreachableError, having said it waits", async () => {
    const port = await closedPort();
    const lines: string[] = [];
    const started = Date.now();
    await assert.rejects(
      connectSsh({ host: "127.0.0.1", port, user: "root", privateKey: generateSshKeyPair("ed25519").private }, { timeoutSeconds: 1, log: (l) => lines.push(l) }),
      (err: Error) => {
        assert.ok(err instanceof UnreachableError, `an UnreachableError: ${err.name}`);
        assert.equal(err.name, "UnreachableError", "named as such");
        assert.match(err.message, new RegExp(`^cannot reach root@127\\.0\\.0\\.1:${port} over SSH after 2 attempt\\(s\\) in 1s: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`), "how long and how often it tried");
        return true;
      },
      "unreachable",
    );
    assert.ok(Date.now() - started >= 1900, "it waited 2 s between the attempts");
    assert.deepEqual(lines, [`waiting for SSH on root@127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port})`], "said once that it waits");
  });

  test("it says it waits once per 30 s, not at every attempt", async () => {
    const port = await closedPort();
    const lines: string[] = [];
    await assert.rejects(
      connectSsh({ host: "127.0.0.1", port, user: "root", privateKey: generateSshKeyPair("ed25519").private }, { timeoutSeconds: 3, log: (l) => lines.push(l) }),
      { name: "UnreachableError", message: /after 3 attempt\(s\) in 3s/ },
      "three attempts in 3 s",
    );
    assert.equal(lines.length, 1, `one waiting message: ${lines.join("\n")}`);
  });

  test("with no time left, the first refusal is final", async () => {
    const port = await closedPort();
    const lines: string[] = [];
    await assert.rejects(
      connectSsh({ host: "127.0.0.1", port, user: "root", privateKey: generateSshKeyPair("ed25519").private }, { timeoutSeconds: 0, log: (l) => lines.push(l) }),
      { name: "UnreachableError", message: new RegExp(`after 1 attempt\\(s\\) in 0s`) },
      "one attempt",
    );
    assert.deepEqual(lines, [], "no waiting message");
  });
});
