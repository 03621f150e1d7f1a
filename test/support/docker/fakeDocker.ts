// An in-memory Docker host for the release logic's unit tests: it understands exactly the argv
// of components/deploy/dockerCommands.ts and components/deploy/proxy/ (networks, the proxy
// container, its config, the switch) and fails loudly on anything else. Containers behave as a
// test scripts them (healthy, unhealthy, crash-looping, exiting, slow to start, unreachable).
import type { Argv } from "../../../components/deploy/dockerCommands";
import type { CommandResult, DockerHost, RunOptions } from "../../../components/deploy/runner/transport";
import { HostCommandError } from "../../../components/deploy/runner/transport";

export type Behaviour =
  | { kind: "healthy" }
  | { kind: "unhealthy" } // runs, but its probe answers 503 and docker marks it unhealthy
  | { kind: "crashloop" } // the restart policy restarts it after every look
  | { kind: "exits"; code: number }
  | { kind: "exitsAfter"; looks: number; code: number } // runs until it was inspected this many times, then exits
  | { kind: "slow"; failedProbes: number } // passes after this many failed probes
  | { kind: "unreachable" }; // passes its own gate, but the proxy cannot reach it

export interface FakeContainer {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  argv: Argv;
  status: "created" | "running" | "exited";
  restartCount: number;
  finishedAt: string;
  behaviour: Behaviour;
  probes: number;
  /** How often it was inspected since it last started (exitsAfter counts them). */
  looks?: number;
  health?: string;
  /** Network -> the aliases it has there. */
  networks: Map<string, string[]>;
}

export interface FakeImage {
  id: string;
  tags: string[];
  labels: Record<string, string>;
  created: string;
  layers: string[];
  /** repository@sha256:… it was pulled as. */
  repoDigests: string[];
}

const VALUE_FLAGS = new Set(["--volume", "--publish", "--cap-add", "--user", "--restart", "--name", "--env-file", "--stop-timeout", "--log-opt", "--label", "-p", "--health-cmd", "--health-interval", "--health-timeout", "--health-retries", "--health-start-period", "--network", "--entrypoint", "--network-alias", "-v", "--mount", "--add-host"]);

export class FakeDockerHost implements DockerHost {
  readonly description = "the fake Docker host";
  bytesSent = 0;
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Map<string, FakeImage>();
  /** Volume name -> the uid it was handed to (undefined: never chowned). */
  readonly volumes = new Map<string, number | undefined>();
  /** Volume name -> its labels (what `docker volume ls --filter label=…` matches). */
  readonly volumeLabels = new Map<string, Record<string, string>>();
  /** Files the deployer wrote (path -> content). */
  readonly files = new Map<string, string>();
  readonly networks = new Set<string>();
  readonly networkLabels = new Map<string, Record<string, string>>();
  /** SQL the deployer sent to a PostgreSQL service's psql, in order. */
  readonly sql: { container: string; sql: string }[] = [];
  /** Files inside volumes (volume -> path in it -> content): PG_VERSION, Redis's config. */
  readonly volumeFiles = new Map<string, Map<string, string>>();
  /** Every config the proxy loaded (Caddyfile text). */
  readonly proxyConfigs: string[] = [];
  /** Every argv run, in order. */
  readonly history: Argv[] = [];
  /** What `docker pull` finds: reference -> the image's layers. */
  readonly registry = new Map<string, string[]>();
  /** The daemon's registry mirrors (`docker info`), and what a pull through them finds. */
  registryMirrors: string[] = [];
  readonly mirrorImages = new Map<string, string[]>();
  /** A pull through the mirrors runs into its `timeout` (exit 124). */
  mirrorHangs = false;
  /** A pull through the mirrors says it succeeded, and no image has the name (pruned at once, say). */
  mirrorPullVanishes = false;
  /** Every `docker login`: the password is what arrived on stdin. */
  readonly logins: { configDir: string; server: string; username: string; password: string }[] = [];
  /** Tags of images that load but do not start (the ship step's smoke test fails). */
  readonly brokenImages = new Set<string>();
  /**
   * The ACME CA as the proxy meets it: for a domain in a loaded config, "issue" stores its
   * certificate and logs Caddy's success line; a string is the CA's problem, logged as Caddy
   * logs a failed challenge and order; unset, the CA never answers.
   */
  readonly acme = new Map<string, "issue" | string>();
  /** Domains whose certificate is on the proxy's volume. */
  readonly certificates = new Set<string>();
  /** The proxy's log: Caddy's JSON lines, with when (Date.now()) they were logged. */
  readonly proxyLog: { at: number; line: string }[] = [];
  private clock = Date.parse("2026-01-01T00:00:00Z");
  private nextId = 1;

  /** How a container of `image` for `role` behaves; default healthy. */
  behaviour: (o: { image: string; role: string }) => Behaviour = () => ({ kind: "healthy" });

  addImage(o: { tag: string; app: string; layers?: string[]; labels?: Record<string, string>; repoDigests?: string[] }): FakeImage {
    const existing = this.findImage(o.tag);
    if (existing) return existing;
    const image: FakeImage = {
      id: `sha256:${String(this.nextId++).padStart(64, "0")}`,
      tags: [o.tag],
      labels: o.labels ?? { "pydeploy.app": o.app },
      created: this.tick(),
      layers: o.layers ?? [`sha256:${"a".repeat(64)}`],
      repoDigests: o.repoDigests ?? [],
    };
    this.images.set(image.id, image);
    return image;
  }

  /** A volume as `docker volume create --label …` leaves it. */
  addVolume(name: string, labels: Record<string, string>): void {
    this.volumes.set(name, undefined);
    this.volumeLabels.set(name, labels);
  }

  /** Containers by state, e.g. for assertions: name -> status. */
  states(): Record<string, string> {
    return Object.fromEntries([...this.containers.values()].map((c) => [c.name, c.status]));
  }

  private lastStdin = "";
  /** The last stream a command read on stdin (the archive of a `docker load`), whole. */
  lastStream: Buffer | undefined;

  /**
   * What each `docker load` does, in turn: "ok" loads `image` under the archive's tag, "fail"
   * exits 1 as a load missing a layer does. The archive itself is read to its end and counted.
   */
  loads: { outcome: "ok" | "fail"; tag: string; layers: string[] }[] = [];

  async run(argv: Argv, opts: RunOptions = {}): Promise<CommandResult> {
    this.history.push(argv);
    this.lastStdin = typeof opts.stdin === "string" ? opts.stdin : "";
    if (typeof opts.stdin === "string" || Buffer.isBuffer(opts.stdin)) this.bytesSent += Buffer.byteLength(opts.stdin);
    else if (opts.stdin) {
      const chunks: Buffer[] = [];
      for await (const chunk of opts.stdin) chunks.push(chunk as Buffer);
      this.lastStream = Buffer.concat(chunks);
      this.bytesSent += this.lastStream.length;
    }
    if (argv[1] === "load") {
      const next = this.loads.shift();
      if (!next) throw new Error("fake docker: an unexpected docker load");
      if (next.outcome === "fail") return this.finish(argv, opts, { code: 1, stdout: "", stderr: "open /var/lib/docker/tmp/docker-import-1/blobs/sha256/0: no such file or directory" });
      this.addImage({ tag: next.tag, app: "demo", layers: next.layers });
      return this.finish(argv, opts, { code: 0, stdout: `Loaded image: ${next.tag}\n`, stderr: "" });
    }
    return this.finish(argv, opts, this.execute(argv));
  }

  private finish(argv: Argv, opts: RunOptions, result: CommandResult): CommandResult {
    if (result.code !== 0 && !opts.allowFailure) throw new HostCommandError(this.description, argv, result);
    return result;
  }

  async close(): Promise<void> {}

  /** What Caddy does for each domain site of a loaded Caddyfile, by `acme`. */
  private orderCertificates(caddyfile: string): void {
    for (const [, domain] of caddyfile.matchAll(/^([a-z0-9][a-z0-9.-]*\.[a-z]+) \{$/gm)) {
      if (this.certificates.has(domain)) continue;
      const answer = this.acme.get(domain);
      const log = (o: object) => this.proxyLog.push({ at: Date.now(), line: JSON.stringify({ level: "info", ts: Date.now() / 1000, ...o }) });
      if (answer === "issue") {
        this.certificates.add(domain);
        log({ logger: "tls.obtain", msg: "certificate obtained successfully", identifier: domain });
      } else if (answer !== undefined) {
        log({ level: "error", logger: "http.acme_client", msg: "challenge failed", identifier: domain, challenge_type: "http-01", error: answer });
        log({ level: "error", logger: "tls.obtain", msg: "could not get certificate from issuer", identifier: domain, error: answer });
      }
    }
  }

  private execute(argv: Argv): CommandResult {
    const ok = (stdout = ""): CommandResult => ({ code: 0, stdout, stderr: "" });
    const fail = (stderr: string, code = 1): CommandResult => ({ code, stdout: "", stderr });
    const [cmd, ...rest] = argv;
    if (cmd === "env" && rest[0].startsWith("DOCKER_CONFIG=")) return this.registryCommand(rest[0].slice("DOCKER_CONFIG=".length), rest.slice(1));
    if (cmd === "timeout" && rest[1] === "docker" && rest[2] === "pull") return this.pullThroughMirrors(rest.at(-1)!);
    if (cmd === "docker" && rest[0] === "info" && rest[2] === "{{json .RegistryConfig.Mirrors}}") return ok(`${JSON.stringify(this.registryMirrors.length ? this.registryMirrors : null)}\n`);
    if (cmd !== "docker") {
      if (cmd === "mkdir") return ok();
      if (cmd === "mktemp") return ok(`/tmp/fake-docker-config-${this.nextId++}\n`);
      if (cmd === "rm") {
        // `rm -rf -- <dir>`: the files the deployer wrote under it go.
        const dir = rest.at(-1)!;
        for (const file of [...this.files.keys()]) if (file === dir || file.startsWith(`${dir}/`)) this.files.delete(file);
        return ok();
      }
      if (cmd === "sh" && rest[1]?.startsWith("umask 077 && docker exec")) {
        // dumpDatabase: pg_dump in a running container into a file.
        const [container, , database, file] = rest.slice(3);
        if (this.findContainer(container)?.status !== "running") return fail(`Error response from daemon: container ${container} is not running`);
        this.files.set(file, `pg_dump of ${database}`);
        return ok();
      }
      if (cmd === "ls" && rest[0] === "-1") {
        const dir = rest.at(-1)!;
        const names = [...this.files.keys()].filter((f) => f.startsWith(`${dir}/`)).map((f) => f.slice(dir.length + 1)).sort();
        return ok(names.map((n) => `${n}\n`).join(""));
      }
      if (cmd === "sh" && rest[1]?.startsWith("umask 077 && cat")) {
        this.files.set(rest.at(-1)!, this.lastStdin);
        return ok();
      }
      if (cmd === "cat") {
        const content = this.files.get(rest.at(-1)!);
        return content === undefined ? fail(`cat: ${rest.at(-1)}: No such file or directory`) : ok(content);
      }
      throw new Error(`fake docker: unexpected command ${JSON.stringify(argv)}`);
    }
    if (rest[0] === "volume") {
      const name = rest.at(-1)!;
      if (rest[1] === "rm" && rest.length < 3) return fail('"docker volume rm" requires at least 1 argument.');
      switch (rest[1]) {
        case "inspect":
          return this.volumes.has(name) ? ok(`[{"Name":"${name}"}]`) : fail(`Error: No such volume: ${name}`);
        case "create":
          this.addVolume(name, labelsOf(rest));
          return ok(`${name}\n`);
        case "ls": {
          const label = filterValue(rest);
          const names = [...this.volumes.keys()].filter((v) => !label || matchesLabel(this.volumeLabels.get(v) ?? {}, label));
          return ok(names.map((v) => `${v}\n`).join(""));
        }
        case "rm":
          for (const v of rest.slice(2)) {
            if (!this.volumes.has(v)) return fail(`Error: No such volume: ${v}`);
            this.volumes.delete(v);
            this.volumeLabels.delete(v);
          }
          return ok();
      }
    }
    const key = rest.slice(0, 2).join(" ");
    if (rest[0] === "network") return this.network(rest.slice(1));
    if (key === "container inspect" && rest[2] === "--format") {
      // The proxy's spec label: proxySetupSteps' skip condition.
      const c = this.findContainer(rest[4]);
      if (!c) return fail(`Error: No such container: ${rest[4]}`);
      const label = /index \.Config\.Labels "([^"]+)"/.exec(rest[3])?.[1];
      return ok(`${label ? (c.labels[label] ?? "") : ""}\n`);
    }
    if (key === "container inspect") {
      const found = rest.slice(2).map((n) => this.findContainer(n));
      if (found.some((c) => !c)) return fail(`Error: No such container: ${rest.slice(2)[found.findIndex((c) => !c)]}`);
      return ok(JSON.stringify(found.map((c) => this.inspectContainer(c!))));
    }
    if (rest[0] === "ps") {
      const label = filterValue(rest);
      const ids = [...this.containers.values()].filter((c) => !label || matchesLabel(c.labels, label)).map((c) => c.id);
      return ok(ids.map((id) => `${id}\n`).join(""));
    }
    if (key === "image ls") {
      const label = filterValue(rest);
      const ids = [...this.images.values()].filter((i) => !label || matchesLabel(i.labels, label)).map((i) => i.id);
      return ok(ids.map((id) => `${id}\n`).join(""));
    }
    if (key === "image inspect") {
      if (rest.length < 3) return fail('"docker image inspect" requires at least 1 argument.');
      const found = rest.slice(2).map((r) => this.findImage(r));
      if (found.some((i) => !i)) return fail(`Error: No such image: ${rest.slice(2)[found.findIndex((i) => !i)]}`);
      return ok(JSON.stringify(found.map((i) => ({ Id: i!.id, RepoTags: i!.tags, RepoDigests: i!.repoDigests, Created: i!.created, RootFS: { Layers: i!.layers } }))));
    }
    if (key === "image rm") {
      const refs = rest.slice(2).filter((a) => !a.startsWith("--"));
      if (refs.length === 0) return fail('"docker image rm" requires at least 1 argument.');
      for (const ref of refs) {
        const image = this.findImage(ref);
        if (!image) return fail(`Error: No such image: ${ref}`);
        if (ref === image.id && image.tags.length > 1 && !rest.includes("--force")) {
          return fail(`Error response from daemon: conflict: unable to delete ${ref} (must be forced) - image is referenced in multiple repositories`);
        }
        if (image.tags.includes(ref) && image.tags.length > 1) {
          // A tag of an image with others: Docker only untags.
          image.tags = image.tags.filter((t) => t !== ref);
          continue;
        }
        if ([...this.containers.values()].some((c) => c.image === image.id)) return fail(`Error: conflict: unable to delete ${ref} (must be forced) - image is being used by a container`);
        this.images.delete(image.id);
      }
      return ok();
    }
    if (["start", "stop", "rm"].includes(rest[0]) && rest.slice(1).filter((a) => !a.startsWith("-") && !/^\d+$/.test(a)).length === 0) {
      return fail(`"docker ${rest[0]}" requires at least 1 argument.`);
    }
    switch (rest[0]) {
      case "run":
        return this.runContainer(argv);
      case "rename": {
        const c = this.findContainer(rest[1]);
        if (!c) return fail(`Error: No such container: ${rest[1]}`);
        if (this.findContainer(rest[2])) return fail(`Error response from daemon: Conflict. The container name "/${rest[2]}" is already in use`);
        c.name = rest[2];
        return ok();
      }
      case "start":
        for (const name of rest.slice(1)) {
          const c = this.findContainer(name);
          if (!c) return fail(`Error: No such container: ${name}`);
          this.boot(c);
        }
        return ok();
      case "stop": {
        for (const name of rest.slice(3)) {
          const c = this.findContainer(name);
          if (!c) return fail(`Error: No such container: ${name}`);
          if (c.status === "running") {
            c.status = "exited";
            c.finishedAt = this.tick();
          }
        }
        return ok();
      }
      case "rm": {
        const force = rest.includes("--force");
        for (const name of rest.slice(1).filter((a) => a !== "--force")) {
          const c = this.findContainer(name);
          if (!c) return fail(`Error: No such container: ${name}`);
          if (c.status === "running" && !force) return fail(`Error: You cannot remove a running container ${c.id}`);
          this.containers.delete(c.id);
        }
        return ok();
      }
      case "logs": {
        const c = this.findContainer(rest.at(-1)!);
        if (!c) return fail(`Error: No such container: ${rest.at(-1)}`);
        if (rest[1] === "--since" && c.labels["pydeploy.proxy"]) {
          const since = Date.now() - Number(rest[2].replace(/s$/, "")) * 1000;
          // Caddy logs to stderr.
          return { code: 0, stdout: "", stderr: this.proxyLog.filter((l) => l.at >= since).map((l) => `${l.line}\n`).join("") };
        }
        return ok(`log of ${c.name}\n`);
      }
      case "exec": {
        if (rest[1] === "--interactive") {
          // psqlFromStdin: SQL into a running PostgreSQL service.
          const c = this.findContainer(rest[2]);
          if (c?.status !== "running") return fail(`Error response from daemon: container ${rest[2]} is not running`);
          this.sql.push({ container: c.name, sql: this.lastStdin });
          return ok();
        }
        if (rest[1] === "-i") {
          // `docker exec -i <proxy> caddy reload --config -` (or dd of the ACME CA root).
          if (rest[3] === "caddy" && rest[4] === "reload") {
            this.proxyConfigs.push(this.lastStdin);
            this.orderCertificates(this.lastStdin);
          }
          return ok();
        }
        if (rest[2] === "find" && this.findContainer(rest[1])?.labels["pydeploy.proxy"]) {
          // certificateFiles(): -name <domain>.crt, or *.crt for any.
          if (this.findContainer(rest[1])!.status !== "running") return fail(`Error response from daemon: container ${rest[1]} is not running`);
          const name = rest.at(-1)!;
          const domains = [...this.certificates].filter((d) => name === "*.crt" || name === `${d}.crt`);
          return ok(domains.map((d) => `/data/caddy/certificates/acme-test-dir/${d}/${d}.crt\n`).join(""));
        }
        if (rest[2] === "python3" && this.findContainer(rest[1])?.labels["pydeploy.proxy"]) {
          // The proxy's reach check: the target must run, be on a network with the proxy, and answer.
          const target = this.findContainer(rest[5]);
          const proxy = this.findContainer(rest[1])!;
          const shared = target && [...target.networks.keys()].some((n) => proxy.networks.has(n));
          return target?.status === "running" && shared && target.behaviour.kind !== "unreachable" ? ok() : fail(`${rest[5]}:${rest[6]}: connection refused`);
        }
        const c = this.findContainer(rest[1]);
        if (!c || c.status !== "running") return fail(`Error: container ${rest[1]} is not running`);
        c.probes++;
        if (c.labels["pydeploy.service"] !== undefined) {
          // A service's readiness: redis-cli without the password says NOAUTH; pg_isready accepts.
          const answers = c.behaviour.kind === "healthy" || (c.behaviour.kind === "slow" && c.probes > c.behaviour.failedProbes);
          if (!answers) return { code: 2, stdout: "", stderr: "no response\n" };
          return ok(rest[2] === "redis-cli" ? "NOAUTH Authentication required.\n" : "127.0.0.1:5432 - accepting connections\n");
        }
        const b = c.behaviour;
        const healthy = b.kind === "healthy" || b.kind === "unreachable" || (b.kind === "slow" && c.probes > b.failedProbes);
        return healthy ? ok("HTTP 200 OK\n") : { code: 1, stdout: "HTTP 503 Service Unavailable\n", stderr: "" };
      }
      case "tag": {
        const image = this.findImage(rest[1]);
        if (!image) return fail(`Error: No such image: ${rest[1]}`);
        if (!image.tags.includes(rest[2])) image.tags.push(rest[2]);
        return ok();
      }
    }
    throw new Error(`fake docker: unexpected command ${JSON.stringify(argv)}`);
  }

  /** A Docker Hub pull: through the mirrors when it has any (Docker Hub itself is never reachable here). */
  private pullThroughMirrors(ref: string): CommandResult {
    if (this.mirrorHangs) return { code: 124, stdout: "", stderr: "" };
    const layers = this.registryMirrors.length ? this.mirrorImages.get(ref) : undefined;
    if (!layers) return { code: 1, stdout: "", stderr: `Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host\n` };
    if (this.mirrorPullVanishes) return { code: 0, stdout: `${ref}\n`, stderr: "" };
    const digest = ref.includes("@") ? [ref] : [];
    this.addImage({ tag: ref, app: "base", layers, labels: {}, repoDigests: digest });
    return { code: 0, stdout: `${ref}\n`, stderr: "" };
  }

  /** `docker login|pull|logout` with a throwaway client config. */
  private registryCommand(configDir: string, argv: Argv): CommandResult {
    const ok = (stdout = ""): CommandResult => ({ code: 0, stdout, stderr: "" });
    switch (argv[1]) {
      case "login":
        this.logins.push({ configDir, server: argv.at(-1)!, username: argv[argv.indexOf("--username") + 1], password: this.lastStdin });
        return ok("Login Succeeded\n");
      case "pull": {
        const layers = this.registry.get(argv[2]);
        if (!layers) return { code: 1, stdout: "", stderr: `Error response from daemon: manifest for ${argv[2]} not found` };
        this.addImage({ tag: argv[2], app: "demo", layers });
        return ok();
      }
      case "logout":
        return ok();
    }
    throw new Error(`fake docker: unexpected registry command ${JSON.stringify(argv)}`);
  }

  private network(args: string[]): CommandResult {
    const ok = (stdout = ""): CommandResult => ({ code: 0, stdout, stderr: "" });
    const fail = (stderr: string): CommandResult => ({ code: 1, stdout: "", stderr });
    const name = args.at(-1)!;
    switch (args[0]) {
      case "create":
        this.networks.add(name);
        this.networkLabels.set(name, labelsOf(args));
        return ok();
      case "ls": {
        const label = filterValue(args);
        return ok([...this.networks].filter((n) => !label || matchesLabel(this.networkLabels.get(n) ?? {}, label)).map((n) => `${n}\n`).join(""));
      }
      case "inspect":
        return this.networks.has(name) ? ok("[{}]") : fail(`Error: No such network: ${name}`);
      case "rm":
        return this.networks.delete(name) ? ok() : fail(`Error: No such network: ${name}`);
      case "connect": {
        const [net, container] = args.slice(-2);
        const c = this.findContainer(container);
        if (!c || !this.networks.has(net)) return fail(`Error: No such container or network: ${container} ${net}`);
        if (c.networks.has(net)) return fail(`Error: endpoint with name ${c.name} already exists in network ${net}`);
        c.networks.set(net, args[1] === "--alias" ? [args[2]] : []);
        return ok();
      }
      case "disconnect": {
        const [net, container] = args.slice(-2);
        const c = this.findContainer(container);
        if (!c || !c.networks.has(net)) return fail(`Error: container ${container} is not connected to network ${net}`);
        c.networks.delete(net);
        return ok();
      }
    }
    throw new Error(`fake docker: unexpected network command ${JSON.stringify(args)}`);
  }

  /** The containers the network alias names (what Docker's DNS would answer). */
  aliasTargets(network: string, alias: string): string[] {
    return [...this.containers.values()].filter((c) => c.networks.get(network)?.includes(alias)).map((c) => c.name);
  }

  private runContainer(argv: Argv): CommandResult {
    const mountedVolume = () => /source=([^,]+)/.exec(argv[argv.indexOf("--mount") + 1] ?? "")?.[1] ?? "";
    if (argv.includes("--rm") && argv.includes("--interactive") && argv.at(-2) === "-c") {
      // writeRedisConfig: stdin into a file of the volume.
      const volume = mountedVolume();
      if (!this.volumes.has(volume)) return { code: 125, stdout: "", stderr: `no volume ${volume}` };
      const file = /> \/data\/([^ ]+)\.tmp/.exec(argv.at(-1)!)![1];
      this.volumeFiles.set(volume, new Map([...(this.volumeFiles.get(volume) ?? []), [file, this.lastStdin]]));
      return { code: 0, stdout: "", stderr: "" };
    }
    if (argv.includes("--rm") && argv[argv.indexOf("--entrypoint") + 1] === "cat") {
      // readPostgresVersion: a file of a volume.
      const content = this.volumeFiles.get(mountedVolume())?.get(argv.at(-1)!.replace(/^\/pgdata\//, ""));
      return content === undefined ? { code: 1, stdout: "", stderr: `cat: ${argv.at(-1)}: No such file or directory\n` } : { code: 0, stdout: content, stderr: "" };
    }
    if (argv.includes("--rm") && argv.includes("--entrypoint") && argv.at(-2) === "-c") {
      // The ship step's smoke test of a loaded image.
      const ref = argv.at(-3)!;
      if (this.brokenImages.has(ref)) return { code: 127, stdout: "", stderr: "exec /bin/sh: no such file or directory\n" };
      return this.findImage(ref) ? { code: 0, stdout: "", stderr: "" } : { code: 125, stdout: "", stderr: `Unable to find image '${ref}'` };
    }
    if (argv.includes("--rm") && argv.some((a) => a.startsWith("container:"))) {
      // The switch's drain helper, in the old container's network namespace.
      const c = this.findContainer(argv[argv.findIndex((a) => a.startsWith("container:"))].slice("container:".length));
      return c?.status === "running" ? { code: 0, stdout: "", stderr: "" } : { code: 1, stdout: "", stderr: "cannot join the namespace of a stopped container" };
    }
    if (argv.includes("--rm") && argv.includes("chown")) {
      const volume = /source=([^,]+)/.exec(argv[argv.indexOf("--mount") + 1])![1];
      if (!this.volumes.has(volume)) return { code: 125, stdout: "", stderr: `no volume ${volume}` };
      this.volumes.set(volume, Number(argv.at(-2)!.split(":")[0]));
      return { code: 0, stdout: "", stderr: "" };
    }
    const labels: Record<string, string> = {};
    const networks = new Map<string, string[]>();
    let name = "";
    let i = 2;
    while (i < argv.length && argv[i].startsWith("-")) {
      if (argv[i] === "--name") name = argv[i + 1];
      if (argv[i] === "--network") networks.set(argv[i + 1], []);
      if (argv[i] === "--network-alias") networks.set([...networks.keys()].at(-1)!, [argv[i + 1]]);
      if (argv[i] === "--label") {
        const [k, ...v] = argv[i + 1].split("=");
        labels[k] = v.join("=");
      }
      i += VALUE_FLAGS.has(argv[i]) ? 2 : 1;
    }
    const image = this.findImage(argv[i]);
    if (!image) return { code: 125, stdout: "", stderr: `Unable to find image '${argv[i]}' locally` };
    if (this.findContainer(name)) return { code: 125, stdout: "", stderr: `Conflict. The container name "/${name}" is already in use` };
    const c: FakeContainer = {
      id: `c${String(this.nextId++).padStart(63, "0")}`,
      name,
      image: image.id,
      labels,
      argv,
      status: "created",
      restartCount: 0,
      finishedAt: "0001-01-01T00:00:00Z",
      behaviour: this.behaviour({ image: argv[i], role: labels["pydeploy.role"] ?? labels["pydeploy.service"] ?? "" }),
      probes: 0,
      networks: networks.size ? networks : new Map([["bridge", []]]),
    };
    this.containers.set(c.id, c);
    this.boot(c);
    return { code: 0, stdout: `${c.id}\n`, stderr: "" };
  }

  private boot(c: FakeContainer): void {
    c.status = "running";
    c.probes = 0;
    c.looks = 0;
    if (c.behaviour.kind === "exits") {
      c.status = "exited";
      c.finishedAt = this.tick();
    }
    if (c.behaviour.kind === "unhealthy") c.health = "starting";
  }

  private inspectContainer(c: FakeContainer): object {
    // Each look moves a scripted container along: a crash loop has been restarted again,
    // an unhealthy one has failed its healthcheck by the second look.
    if (c.status === "running" && c.behaviour.kind === "exitsAfter" && (c.looks = (c.looks ?? 0) + 1) > c.behaviour.looks) {
      c.status = "exited";
      c.finishedAt = this.tick();
    }
    if (c.status === "running" && c.behaviour.kind === "crashloop") c.restartCount++;
    else if (c.status === "running" && c.behaviour.kind === "unhealthy") c.health = c.health === "starting" ? "starting-1" : "unhealthy";
    const health = c.health === undefined ? undefined : { Status: c.health.startsWith("starting") ? "starting" : c.health };
    return {
      Id: c.id,
      Name: `/${c.name}`,
      Image: c.image,
      RestartCount: c.restartCount,
      State: { Status: c.status, Running: c.status === "running", ExitCode: c.behaviour.kind === "exits" || c.behaviour.kind === "exitsAfter" ? c.behaviour.code : 0, FinishedAt: c.finishedAt, ...(health ? { Health: health } : {}) },
      Config: { Labels: c.labels },
      NetworkSettings: { Networks: Object.fromEntries([...c.networks.keys()].map((n) => [n, {}])) },
      HostConfig: { PortBindings: Object.fromEntries(portBindings(c.argv)) },
    };
  }

  private findContainer(ref: string): FakeContainer | undefined {
    return [...this.containers.values()].find((c) => c.id === ref || c.name === ref);
  }

  private findImage(ref: string): FakeImage | undefined {
    return [...this.images.values()].find((i) => i.id === ref || i.tags.includes(ref) || i.repoDigests.includes(ref));
  }

  private tick(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }
}

function filterValue(args: string[]): string | undefined {
  const at = args.indexOf("--filter");
  return at >= 0 ? args[at + 1].replace(/^label=/, "") : undefined;
}

/** The `--label k=v` options of an argv. */
function labelsOf(args: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  args.forEach((a, i) => {
    if (a !== "--label") return;
    const [k, ...v] = args[i + 1].split("=");
    labels[k] = v.join("=");
  });
  return labels;
}

function matchesLabel(labels: Record<string, string>, filter: string): boolean {
  const [k, ...v] = filter.split("=");
  return labels[k] === v.join("=");
}

/** `-p`/`--publish host:container` of a `docker run` argv, as the Engine API's PortBindings. */
function portBindings(argv: Argv): [string, { HostPort: string }[]][] {
  const out: [string, { HostPort: string }[]][] = [];
  argv.forEach((a, i) => {
    if (a === "-p" || a === "--publish") {
      const [host, container] = argv[i + 1].split(":");
      out.push([`${container}/tcp`, [{ HostPort: host }]]);
    }
  });
  return out;
}
