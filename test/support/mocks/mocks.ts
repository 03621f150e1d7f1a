// Pulumi mock harness for unit tests. Call installMocks() BEFORE importing any module that
// creates resources (use `await import(...)` afterwards); each test file runs in its own process.
import * as pulumi from "@pulumi/pulumi";
import { isSecret, reveal as revealWire, type Wire } from "../engine/properties";

export interface RecordedResource { type: string; name: string; inputs: any; id: string }
export interface RecordedCall { token: string; inputs: any }
export interface MockOptions {
  project?: string;
  stack?: string;
  preview?: boolean;
  /** "project:key" or "alicloud:region" -> value (objects are JSON-stringified). */
  config?: Record<string, unknown>;
  secretKeys?: string[];
  /** Extra computed outputs per resource, merged over the defaults. */
  outputs?: (r: { type: string; name: string; inputs: any }) => Record<string, any> | undefined;
  /** Data-source answers; return undefined to fall back to the defaults. */
  calls?: (token: string, inputs: any) => Record<string, any> | undefined;
}

export const MOCK_PUBLIC_IP = "203.0.113.10";
export const MOCK_PRIVATE_IP = "172.16.1.10";
export const MOCK_ZONE = "cn-hangzhou-h";
export const MOCK_IMAGE_ID = "ubuntu_22_04_x64_20G_alibase_20240101.vhd";
export const MOCK_INSTANCE_TYPE = "ecs.g7.large";
export const MOCK_PUBLIC_KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDmock pydeploy-mock";
export const MOCK_PRIVATE_KEY_PEM = "-----BEGIN RSA PRIVATE KEY-----\nMOCK\n-----END RSA PRIVATE KEY-----\n";
export const MOCK_PRIVATE_KEY_OPENSSH = "-----BEGIN OPENSSH PRIVATE KEY-----\nMOCK\n-----END OPENSSH PRIVATE KEY-----\n";
/** What a tls.PrivateKey with algorithm ED25519 (the server's host key) gives: a well-formed public key line. */
export const MOCK_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEGf6iyThpmMZTldUcONmOTdcES4GmFrYwoHJgpQf2UX";

export const TOKENS = {
  getZones: "alicloud:index/getZones:getZones",
  getImages: "alicloud:ecs/getImages:getImages",
  getInstanceTypes: "alicloud:ecs/getInstanceTypes:getInstanceTypes",
  getSwitches: "alicloud:vpc/getSwitches:getSwitches",
} as const;

function defaultOutputs(type: string, name: string, inputs: any): Record<string, any> {
  switch (type) {
    case "alicloud:ecs/instance:Instance":
      return { publicIp: MOCK_PUBLIC_IP, privateIp: MOCK_PRIVATE_IP, availabilityZone: inputs.availabilityZone ?? MOCK_ZONE, status: "Running" };
    case "tls:index/privateKey:PrivateKey":
      if (inputs.algorithm === "ED25519") return { publicKeyOpenssh: `${MOCK_HOST_KEY}\n`, privateKeyOpenssh: MOCK_PRIVATE_KEY_OPENSSH };
      return {
        publicKeyOpenssh: MOCK_PUBLIC_KEY,
        publicKeyPem: "-----BEGIN PUBLIC KEY-----\nMOCK\n-----END PUBLIC KEY-----\n",
        privateKeyPem: MOCK_PRIVATE_KEY_PEM,
        privateKeyOpenssh: MOCK_PRIVATE_KEY_OPENSSH,
      };
    case "alicloud:ecs/ecsKeyPair:EcsKeyPair":
      return { fingerPrint: "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff" };
    case "docker:index/image:Image":
      return { repoDigest: `${inputs.imageName ?? name}@sha256:${"0".repeat(64)}` };
    case "command:remote:Command":
    case "command:local:Command":
      return { stdout: "", stderr: "" };
    default:
      return {};
  }
}

function defaultCall(token: string, inputs: any): Record<string, any> {
  switch (token) {
    case TOKENS.getZones:
      return { id: "zones", ids: [MOCK_ZONE], zones: [{ id: MOCK_ZONE, localName: "Hangzhou H", availableInstanceTypes: [], availableResourceCreations: ["VSwitch", "Instance"], availableDiskCategories: ["cloud_essd"], multiZoneIds: [], slbSlaveZoneIds: [] }] };
    case TOKENS.getImages:
      return { id: "images", ids: [MOCK_IMAGE_ID], images: [{ id: MOCK_IMAGE_ID, imageId: MOCK_IMAGE_ID, name: MOCK_IMAGE_ID, osType: "linux" }] };
    case TOKENS.getInstanceTypes:
      return { id: "types", ids: [MOCK_INSTANCE_TYPE], instanceTypes: [{ id: MOCK_INSTANCE_TYPE, cpuCoreCount: inputs.cpuCoreCount ?? 2, memorySize: inputs.memorySize ?? 8, family: "ecs.g7", availabilityZones: [inputs.availabilityZone ?? MOCK_ZONE] }] };
    case TOKENS.getSwitches: {
      const ids: string[] = inputs.ids ?? [];
      return { id: "vswitches", ids, vswitches: ids.map((id) => ({ id, vswitchId: id, zoneId: MOCK_ZONE, vpcId: "vpc-mock-existing", cidrBlock: "172.16.1.0/24" })) };
    }
    default:
      return {};
  }
}

export function installMocks(o: MockOptions = {}): {
  resources: RecordedResource[];
  calls: RecordedCall[];
  byType(type: string): RecordedResource[];
} {
  const resources: RecordedResource[] = [];
  const calls: RecordedCall[] = [];
  if (o.config) {
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(o.config)) {
      config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    pulumi.runtime.setAllConfig(config, o.secretKeys);
  }
  void pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        const id = args.id || `${args.name}-id`;
        resources.push({ type: args.type, name: args.name, inputs: args.inputs, id });
        const r = { type: args.type, name: args.name, inputs: args.inputs };
        return { id, state: { ...args.inputs, ...defaultOutputs(args.type, args.name, args.inputs), ...(o.outputs?.(r) ?? {}) } };
      },
      call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        calls.push({ token: args.token, inputs: args.inputs });
        return o.calls?.(args.token, args.inputs) ?? defaultCall(args.token, args.inputs);
      },
    },
    o.project ?? "pydeploy",
    o.stack ?? "test",
    o.preview ?? false,
  );
  return { resources, calls, byType: (type) => resources.filter((r) => r.type === type) };
}

/** Resolves an output's value (secret or not); rejects when the output failed. */
export function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
  // The internal promise() also surfaces failures, where apply() would just never call back.
  const internal = (o as unknown as { promise?: () => Promise<T> }).promise;
  if (typeof internal === "function") return internal.call(o);
  return new Promise((resolve) => o.apply(resolve));
}

/** A `transformations` entry that records every resource created under the one it's attached to. */
export interface RecordedChild {
  type: string;
  name: string;
  parent: pulumi.Resource | undefined;
  resource: pulumi.Resource;
  opts: pulumi.ResourceOptions;
}

/**
 * A `transformations` entry that records every resource created with it: pass it in a
 * component's opts to see the component and all its descendants, with their options.
 */
export function recordChildren(): { transformation: pulumi.ResourceTransformation; children: RecordedChild[] } {
  const children: RecordedChild[] = [];
  return {
    children,
    transformation: (args) => {
      children.push({ type: args.type, name: args.name, parent: args.opts.parent, resource: args.resource, opts: args.opts });
      return undefined;
    },
  };
}

/**
 * Runs `scenario` while catching unhandled promise rejections, and returns them. A resource whose
 * inputs fail (e.g. a lookup that throws) surfaces only as an unhandled rejection, and its outputs
 * never settle. Like the Pulumi language host, this reports each one with pulumi.log.error (which
 * also stops the runtime from failing the process over the promises left pending); without it,
 * node:test would pin the rejection on whichever test runs next. Waits until no new rejection has
 * arrived for `quietMs`.
 */
export async function captureUnhandledRejections(
  scenario: () => Promise<void>,
  { quietMs = 100, maxMs = 5000 } = {},
): Promise<unknown[]> {
  const rejections: unknown[] = [];
  const collect = (reason: unknown) => void rejections.push(reason);
  const others = process.listeners("unhandledRejection");
  process.on("unhandledRejection", collect);
  for (const l of others) process.off("unhandledRejection", l);
  try {
    await scenario();
    const deadline = Date.now() + maxMs;
    let seen = -1;
    while (seen !== rejections.length && Date.now() < deadline) {
      seen = rejections.length;
      await new Promise((r) => setTimeout(r, quietMs));
    }
  } finally {
    for (const l of others) process.on("unhandledRejection", l);
    process.off("unhandledRejection", collect);
  }
  const messages = new Set(rejections.map((r) => String((r as Error)?.message ?? r)));
  for (const m of messages) void pulumi.log.error(`expected failure: ${m}`);
  return rejections;
}

/** Like recordChildren, but also keeps the raw args (`props`) each resource was constructed with. */
export interface RecordedArgs extends RecordedChild {
  props: any;
}
export function recordArgs(): { transformation: pulumi.ResourceTransformation; records: RecordedArgs[] } {
  const records: RecordedArgs[] = [];
  return {
    records,
    transformation: (args) => {
      records.push({ type: args.type, name: args.name, parent: args.opts.parent, resource: args.resource, opts: args.opts, props: args.props });
      return undefined;
    },
  };
}

// The mock monitor receives the same wire form the engine harness stores: one reader for both.
/** A value the mock monitor received as a secret (the wire form: {<sig>: <secret sig>, value}). */
export const isWireSecret = (v: unknown): boolean => isSecret(v as Wire);
/** The value inside a wire secret (deeply); plain values unchanged. */
export const reveal = (v: any): any => revealWire(v);

/** What the engine is told at registration: parent URN and the URNs each resource depends on. */
export interface Registration {
  type: string;
  name: string;
  urn: string;
  parent: string;
  custom: boolean;
  /** Explicit (dependsOn) and implicit (input) dependencies, components expanded to their children. */
  dependencies: string[];
}

/**
 * Records every registration the mock monitor answers. Call right after installMocks(): the
 * engine's view of the dependency graph, which MockResourceArgs does not show.
 */
export function recordRegistrations(): Registration[] {
  const registrations: Registration[] = [];
  const monitor = pulumi.runtime.getMonitor() as any;
  if (!monitor) throw new Error("recordRegistrations: call installMocks() first");
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: (err: unknown, resp: any) => void) =>
    original(req, (err: unknown, resp: any) => {
      if (!err && resp) {
        registrations.push({
          type: req.getType(),
          name: req.getName(),
          urn: resp.getUrn(),
          parent: req.getParent(),
          custom: req.getCustom(),
          dependencies: req.getDependenciesList(),
        });
      }
      callback(err, resp);
    });
  return registrations;
}

/** Waits until the runtime has no RPC in flight: every resource constructed so far is registered. */
export async function drainRegistrations(): Promise<void> {
  // waitForRPCs is @internal in the SDK's typings but exported at runtime.
  const wait = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
  if (typeof wait !== "function") throw new Error("this @pulumi/pulumi has no runtime.waitForRPCs");
  await wait();
}
