// The `deploy` section: how the app is shipped and run on the Docker host. Its bounds are the
// step contract's too (fields.ts). The ship mode's default is derived in resolve.ts.
import { z } from "zod";
import { boolean, CERTIFICATE_TIMEOUT_SECONDS, certificateTimeoutSeconds, RUNNING_GATE_SECONDS, runningGateSeconds, healthTimeoutSeconds, httpUrl, integer, keepImages, logMaxFiles, MAX_SERVERS, pemCertificate, logSize, releaseTimeoutSeconds, stopGraceSeconds } from "./fields";

export const deploySchema = z.strictObject({
  ship: z.enum(["copy", "registry"], { error: "expected copy (docker save + scp) or registry (push and pull)" }).optional(),
  keepImages: keepImages.default(3),
  healthTimeoutSeconds: healthTimeoutSeconds.default(60),
  // A worker has no port to probe: it passes when it ran this long without exiting or restarting.
  runningGateSeconds: runningGateSeconds.default(RUNNING_GATE_SECONDS),
  logMaxSize: logSize.default("10m"),
  logMaxFiles: logMaxFiles.default(3),
  dockerMirror: httpUrl.default("https://mirrors.aliyun.com/docker-ce"),
  registryMirrors: z.array(httpUrl).default([]),
  remoteDir: z.string().regex(/^(\/|\.?[A-Za-z0-9_])[A-Za-z0-9._/-]*$/, { error: "expected a path such as .pydeploy (relative to the SSH user's home) or /opt/pydeploy" }).default(".pydeploy"),
  sshTimeoutSeconds: integer(10, 3600, "seconds from 10 to 3600").default(600),
  releaseTimeoutSeconds: releaseTimeoutSeconds.default(600),
  // Certificates for domains: Let's Encrypt unless another ACME directory (and its CA root) is set.
  acme: z
    .strictObject({
      email: z.email({ error: "expected an email address for the ACME account" }).optional(),
      directory: z.url({ protocol: /^https$/, error: "expected the https:// URL of an ACME directory" }).optional(),
      caRoot: pemCertificate.optional(),
      // A release with a domain is live once its certificate is in place; the CA's refusal fails it sooner.
      timeoutSeconds: certificateTimeoutSeconds.default(CERTIFICATE_TIMEOUT_SECONDS),
    })
    .prefault({}),
  // Volumes hold data: `pulumi destroy` keeps them unless this is true.
  removeVolumesOnDestroy: boolean.default(false),
  stopGraceSeconds: stopGraceSeconds.default(30),
  // ECS instances are x86-64; the local target builds for this machine unless set.
  // Servers released at a time when there are several; the next batch starts once this one passed its gates.
  rollingBatch: integer(1, MAX_SERVERS, `servers per batch, from 1 to ${MAX_SERVERS}`).default(1),
  platform: z.string().regex(/^linux\/(amd64|arm64|arm\/v7|386|ppc64le|s390x)$/, { error: "expected a platform such as linux/amd64 or linux/arm64" }).optional(),
});

export type DeployConfig = Omit<z.output<typeof deploySchema>, "ship"> & { ship: "copy" | "registry" };
