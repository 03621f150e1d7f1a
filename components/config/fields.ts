// The value formats of pydeploy, as zod schemas: one rule each, shared by the stack schema
// (components/config/) and the step contract (components/deploy/spec.ts). Pure.
import { parse as parseShellWords } from "shell-quote";
import { z } from "zod";

/** Lowercase letters, digits and inner dashes: app, role, volume and user names. */
export const SLUG = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
/** A local image reference: [registry[:port]/]path[:tag][@sha256:digest], no whitespace or shell syntax. */
export const IMAGE_REF = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$/;
/** Docker's log max-size with its unit (k, m or g): a bare byte count reads as a mistake. */
export const LOG_SIZE = /^[1-9][0-9]*[kmg]$/;

// Pulumi's `config set --path` stores "8000" as a number but a plain `config set` keeps a string.
export const integer = (min: number, max: number, what: string) =>
  z.preprocess(
    (v) => (typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v),
    z.number({ error: `expected ${what}` }).int({ error: `expected ${what}` }).min(min, { error: `expected ${what}` }).max(max, { error: `expected ${what}` }),
  );
export const boolean = z.preprocess(
  (v) => (v === "true" ? true : v === "false" ? false : v),
  z.boolean({ error: "expected true or false" }),
);
export const port = integer(1, 65535, "a port from 1 to 65535");
/** A PEM certificate (or chain). */
export const pemCertificate = z.string().refine((pem) => /^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\s*$/.test(pem.trim() + "\n"), { error: "expected a PEM certificate (-----BEGIN CERTIFICATE-----)" });
/** The most servers one stack deploys to (server.count, hosts, deploy.rollingBatch). */
export const MAX_SERVERS = 20;
export const slug = (what: string, max: number) =>
  z
    .string({ error: `expected ${what}` })
    .max(max, { error: `expected ${what} of at most ${max} characters` })
    .regex(SLUG, { error: `expected ${what}: lowercase letters, digits and inner dashes` });
export const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*)" });
export const envValue = z.preprocess(
  (v) => (typeof v === "number" || typeof v === "boolean" ? String(v) : v),
  z.string({ error: "expected a string value" }).refine((s) => !/[\r\n\0]/.test(s), { error: "expected a single-line value (no newline or NUL)" }),
);
export const unixUser = z.string().regex(/^[a-z_][a-z0-9_-]*$/, { error: "expected a Unix user name" });
export const httpUrl = z.url({ protocol: /^https?$/, error: "expected an http(s) URL" });
export const nonEmpty = (what: string) => z.string({ error: `expected ${what}` }).trim().min(1, { error: `expected ${what}` });
// Debian package names, optionally pinned (pkg=1.2-3); nothing a shell would interpret.
export const debPackage = z.string().regex(/^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$/, { error: "expected a Debian package name such as lsof or libpq-dev" });
export const imageReference = z.string().regex(IMAGE_REF, {
  error: "expected an image reference such as python:3.12-slim or registry.cn-hangzhou.aliyuncs.com/library/python:3.12-slim",
});
export const logSize = z.string({ error: "expected a size such as 10m" }).regex(LOG_SIZE, { error: "expected a size such as 10m" });

// A command is argv (exec form). A string is split like a shell would, but shell syntax
// (&&, |, >) is refused: that needs a script in the project, not a hidden `sh -c`.
export const command = z.preprocess(
  (v) => {
    if (typeof v !== "string") return v;
    const words = parseShellWords(v);
    return words.every((w) => typeof w === "string") ? words : { shellOperators: v };
  },
  z
    .array(nonEmpty("a non-empty argument"), { error: "expected a command: a list of arguments, or a string without shell operators (&&, |, >, ;)" })
    .min(1, { error: "expected a non-empty command" }),
);

export const domainName = z
  .string({ error: "expected a domain name such as app.example.com" })
  .regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/, { error: "expected a lowercase domain name such as app.example.com" })
  .refine((d) => !/(^|\.)(localhost|local|internal|home\.arpa)$/.test(d), { error: "expected a public name: ACME certificate authorities do not issue for local names" });

/** An IPv4 or IPv6 address: what Docker's `-p <ip>:` and `--add-host name:<ip>` take (no names). */
export const ipAddress = (error = "expected an IP address") => z.union([z.ipv4(), z.ipv6()], { error });
export const cidr = z.cidrv4({ error: "expected an IPv4 CIDR such as 203.0.113.0/24" });
// A security group rule is identified by its CIDR as written: 10.1.2.3/8 would be a second
// spelling of a network that another entry may already open.
export const networkCidr = cidr.superRefine((c, ctx) => {
  const [address, bits] = splitCidr(c);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  const network = `${[24, 16, 8, 0].map((shift) => ((address & mask) >>> shift) & 255).join(".")}/${bits}`;
  if (network !== c) ctx.addIssue({ code: "custom", message: `expected a network address: ${c} has host bits set, write ${network}` });
});

export function cidrContains(outer: string, inner: string): boolean {
  const [oAddr, oBits] = splitCidr(outer);
  const [iAddr, iBits] = splitCidr(inner);
  if (iBits < oBits) return false;
  const mask = oBits === 0 ? 0 : (~0 << (32 - oBits)) >>> 0;
  return ((oAddr & mask) >>> 0) === ((iAddr & mask) >>> 0);
}
/** The i-th block of the same size from `first` on (i = 0 is `first`): 172.16.1.0/24, 1 -> 172.16.2.0/24. */
export function nthBlock(first: string, i: number): string {
  const [addr, bits] = splitCidr(first);
  const next = (addr + i * 2 ** (32 - bits)) >>> 0;
  return `${[24, 16, 8, 0].map((shift) => (next >>> shift) & 255).join(".")}/${bits}`;
}
function splitCidr(c: string): [number, number] {
  const [addr, bits] = c.split("/");
  const n = addr.split(".").reduce((acc, octet) => (acc * 256 + Number(octet)) >>> 0, 0);
  return [n, Number(bits)];
}

// Deploy settings the stack file sets and the release step receives: one bound each, for both.
export const keepImages = integer(2, 20, "a count from 2 to 20 (the running image plus at least one to roll back to)");
export const healthTimeoutSeconds = integer(5, 1800, "seconds from 5 to 1800");
export const logMaxFiles = integer(1, 100, "a count from 1 to 100");
export const releaseTimeoutSeconds = integer(10, 7200, "seconds from 10 to 7200");
/** How long a release waits for a domain's certificate before it fails (and rolls back). */
export const certificateTimeoutSeconds = integer(10, 3600, "seconds from 10 to 3600");
export const CERTIFICATE_TIMEOUT_SECONDS = 120;
/** How long a role without a port must run, without exiting or restarting, to pass its gate: its crash check. */
export const runningGateSeconds = integer(1, 600, "seconds from 1 to 600");
export const RUNNING_GATE_SECONDS = 3;
// Docker's own default is 10 s; gunicorn's graceful timeout is 30 s.
export const stopGraceSeconds = integer(0, 600, "seconds from 0 to 600");

// A role's HTTP healthcheck: the stack file's timing is the container's Docker HEALTHCHECK.
export const httpPath = z.string().regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/, { error: "expected an HTTP path starting with /" });
export const healthIntervalSeconds = integer(1, 3600, "seconds from 1 to 3600");
export const healthcheckTimeoutSeconds = integer(1, 300, "seconds from 1 to 300");
export const healthRetries = integer(1, 100, "a count from 1 to 100");
export const healthStartPeriodSeconds = integer(0, 3600, "seconds from 0 to 3600");
export const containerPath = z.string().regex(/^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/, { error: "expected an absolute container path such as /data" });
