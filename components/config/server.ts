// The `server` section (target `alicloud`): the ECS instance and its network, with the rules
// across its keys. The SSH CIDR default (0.0.0.0/0 outside production) is derived in resolve.ts.
import { z } from "zod";
import { describe, type Problem } from "./errors";
import { boolean, cidr, cidrContains, integer, MAX_SERVERS, networkCidr, nonEmpty, nthBlock, pemCertificate, port, unixUser } from "./fields";

const zoneIdSchema = z.string().regex(/^[a-z]{2}-[a-z0-9]+(-[a-z0-9]+)*$/, { error: "expected a zone id such as cn-hangzhou-h" });
const vswitchIdSchema = z.string().regex(/^vsw-[a-z0-9]+$/, { error: "expected a vSwitch id such as vsw-bp1..." });

export const serverSchema = z.strictObject({
  instanceType: z.string().regex(/^ecs\.[a-z0-9]+(-[a-z0-9]+)*\.[a-z0-9]+$/, { error: "expected an ECS instance type such as ecs.t6-c1m2.large" }).optional(),
  imageId: z.string().regex(/^([A-Za-z0-9]+(_[A-Za-z0-9]+)*\.vhd|m-[a-z0-9]+)$/, { error: "expected an ECS image id such as ubuntu_22_04_x64_20G_alibase_20240508.vhd or m-bp1..." }).optional(),
  zoneId: zoneIdSchema.optional(),
  // Several servers spread over zones: one new vSwitch each, at vswitchCidr and the blocks after it.
  zoneIds: z.array(zoneIdSchema).min(2, { error: "expected two or more zone ids (one is server.zoneId)" }).optional(),
  cpuCores: integer(1, 256, "a core count from 1 to 256").default(2),
  memoryGb: z.preprocess((v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : v), z.number({ error: "expected GiB of memory, e.g. 4" }).positive({ error: "expected GiB of memory, e.g. 4" })).default(2),
  imageNameRegex: nonEmpty("a regular expression for system image names").default("^ubuntu_22_04_x64_20G_alibase_"),
  vpcId: z.string().regex(/^vpc-[a-z0-9]+$/, { error: "expected a VPC id such as vpc-bp1..." }).optional(),
  vswitchId: vswitchIdSchema.optional(),
  // Several servers spread over existing vSwitches (one per zone, say), round robin.
  vswitchIds: z.array(vswitchIdSchema).min(2, { error: "expected two or more vSwitch ids (one is server.vswitchId)" }).optional(),
  securityGroupId: z.string().regex(/^sg-[a-z0-9]+$/, { error: "expected a security group id such as sg-bp1..." }).optional(),
  vpcCidr: cidr.default("172.16.0.0/16"),
  vswitchCidr: cidr.default("172.16.1.0/24"),
  // The provider's documented range; 0 means no public IP.
  internetMaxBandwidthOut: integer(0, 100, "Mbit/s from 0 to 100 (above 0 gives the server a public IP)").default(5),
  systemDisk: z
    .strictObject({
      category: z.enum(["cloud_essd", "cloud_efficiency", "cloud_ssd", "cloud_auto"], { error: "expected cloud_essd, cloud_efficiency, cloud_ssd or cloud_auto" }).default("cloud_essd"),
      sizeGb: integer(20, 2048, "GiB from 20 to 2048").default(40),
    })
    .default({ category: "cloud_essd", sizeGb: 40 }),
  tags: z.record(z.string().min(1).max(128), z.string().max(128)).default({}),
  deletionProtection: boolean.default(false),
  sshPort: port.default(22),
  sshUser: unixUser.default("root"),
  sshAllowedCidrs: z.array(networkCidr).min(1, { error: "expected at least one CIDR" }).optional(),
  appAllowedCidrs: z.array(networkCidr).min(1, { error: "expected at least one CIDR" }).default(["0.0.0.0/0"]),
  publicKey: z.string().regex(/^ssh-rsa [A-Za-z0-9+/]+=*( [^\n]*)?$/, { error: "expected an OpenSSH RSA public key (ssh-rsa AAAA...); Alibaba Cloud key pairs are RSA" }).optional(),
  // Several identical servers, released in turn (deploy.rollingBatch) behind a CLB.
  count: integer(1, MAX_SERVERS, `a server count from 1 to ${MAX_SERVERS}`).default(1),
  loadBalancer: z
    .strictObject({
      // Unset: on when count > 1 (resolveServer).
      enabled: boolean.optional(),
      // Pay-by-spec CLB sizes (@pulumi/alicloud slb.ApplicationLoadBalancer loadBalancerSpec).
      spec: z.enum(["slb.s1.small", "slb.s2.small", "slb.s2.medium", "slb.s3.small", "slb.s3.medium", "slb.s3.large"], { error: "expected a CLB spec such as slb.s1.small" }).default("slb.s1.small"),
      // HTTPS for app.domain ends on the CLB: this certificate chain (PEM), its key the secret loadBalancerCertificateKey.
      certificate: pemCertificate.optional(),
    })
    .prefault({}),
});

export type ParsedServer = z.output<typeof serverSchema>;
export type AlicloudServerConfig = Omit<ParsedServer, "sshAllowedCidrs" | "loadBalancer"> & {
  sshAllowedCidrs: string[];
  loadBalancer: { enabled: boolean; spec: string; certificate?: string };
};

/** `server` belongs to target alicloud. */
export function checkServerTarget(target: string, server: ParsedServer | undefined, problem: Problem): void {
  if (server !== undefined && target !== "alicloud") problem("server", `is only used with target alicloud, but target is ${target}`);
}

/** The rules of a new ECS server: its region, who may reach SSH, its network, its key pair. */
export function checkAlicloudServer(
  project: string,
  s: ParsedServer,
  o: { region: unknown; environment: "development" | "production"; hostPortOwners: Map<number, string>; sshPrivateKey?: string },
  problems: string[],
  warnings: string[],
): void {
  const problem: Problem = (k, msg) => problems.push(`${project}:${k}: ${msg}`);
  if (typeof o.region !== "string" || !/^[a-z]{2}-[a-z0-9-]+$/.test(o.region)) {
    problems.push(`alicloud:region: expected the Alibaba Cloud region, e.g. cn-hangzhou (pulumi config set alicloud:region cn-hangzhou)${o.region === undefined ? " (missing)" : `, got ${describe(o.region)}`}`);
  }
  if (o.environment === "production") {
    if (!s.sshAllowedCidrs) problem("server.sshAllowedCidrs", "is required in production: list the CIDRs allowed to reach SSH, e.g. [\"203.0.113.7/32\"]");
    else if (s.sshAllowedCidrs.some((c) => c.endsWith("/0"))) problem("server.sshAllowedCidrs", "must not open SSH to the whole internet (/0) in production");
  }
  if (s.sshPort !== 22) {
    warnings.push(`${project}:server.sshPort is ${s.sshPort}: the security group opens it, but the instance's sshd must be configured to listen there (the stock image listens on 22).`);
  }
  // The two would be one security group rule, and one host port cannot serve both.
  if (o.hostPortOwners.has(s.sshPort)) problem(`server.sshPort`, `port ${s.sshPort} is also published by role ${o.hostPortOwners.get(s.sshPort)}; SSH and the app need different host ports`);
  if (s.internetMaxBandwidthOut === 0) {
    warnings.push(`${project}:server.internetMaxBandwidthOut is 0: the server gets no public IP, so the deploy connects to its private IP and must run inside the VPC (or over a VPN to it).`);
  }
  if (!s.vswitchId && !cidrContains(s.vpcCidr, s.vswitchCidr)) problem("server.vswitchCidr", `expected a block inside server.vpcCidr (${s.vpcCidr}), got ${s.vswitchCidr}`);
  if (s.vswitchId && !s.vpcId && !s.securityGroupId) problem("server.vpcId", "is needed with server.vswitchId to create the security group in the same VPC");
  if (s.vswitchIds) {
    if (s.vswitchId) problem("server.vswitchIds", "is set together with server.vswitchId: list every vSwitch under vswitchIds, or one under vswitchId");
    const twice = listedTwice(s.vswitchIds);
    if (twice.length) problem("server.vswitchIds", `lists ${twice.join(", ")} twice: each vSwitch once`);
    if (!s.vpcId && !s.securityGroupId) problem("server.vpcId", "is needed with server.vswitchIds to create the security group in their VPC");
    if (s.count < s.vswitchIds.length) warnings.push(`${project}:server.vswitchIds lists ${s.vswitchIds.length} vSwitches for ${s.count} server(s): the last ${s.vswitchIds.length - s.count} get none.`);
  }
  if (s.zoneIds) checkZoneIds(project, s, problem, warnings);
  if (s.publicKey && !o.sshPrivateKey) problem("sshPrivateKey", "is required with server.publicKey: the deployment logs in with its private key (pulumi config set --secret sshPrivateKey < key)");
  if (!s.publicKey && o.sshPrivateKey) problem("sshPrivateKey", "is set but server.publicKey is not: set both, or neither to have a key pair generated");
}

/** One new vSwitch per zone: the vSwitches are pydeploy's, each block inside the VPC. */
function checkZoneIds(project: string, s: ParsedServer, problem: Problem, warnings: string[]): void {
  const zones = s.zoneIds!;
  for (const key of ["zoneId", "vswitchId", "vswitchIds"] as const) {
    if (s[key] !== undefined) problem("server.zoneIds", `is set together with server.${key}: list the zones under zoneIds (a vSwitch is created in each), or give ${key === "zoneId" ? "one zone" : "your vSwitches"} alone`);
  }
  const twice = listedTwice(zones);
  if (twice.length) problem("server.zoneIds", `lists ${twice.join(", ")} twice: each zone once`);
  const switches = zoneSwitchesOf(s);
  const outside = switches.filter((z) => !cidrContains(s.vpcCidr, z.cidrBlock));
  if (outside.length) problem("server.vswitchCidr", `gives the vSwitch blocks ${switches.map((z) => z.cidrBlock).join(", ")} for ${zones.length} zones, but ${outside.map((z) => z.cidrBlock).join(", ")} ${outside.length > 1 ? "are" : "is"} not inside server.vpcCidr (${s.vpcCidr}): pick a lower vswitchCidr or a larger vpcCidr`);
  if (s.count < zones.length) warnings.push(`${project}:server.zoneIds lists ${zones.length} zones for ${s.count} server(s): the last ${zones.length - s.count} get none (their vSwitches are created anyway).`);
}

/** server.zoneIds: each zone's new vSwitch, the first at vswitchCidr and the next blocks of its size after it. */
export function zoneSwitchesOf(s: Pick<ParsedServer, "zoneIds" | "vswitchCidr">): { zoneId: string; cidrBlock: string }[] {
  return (s.zoneIds ?? []).map((zoneId, i) => ({ zoneId, cidrBlock: nthBlock(s.vswitchCidr, i) }));
}

/** The entries of `list` that appear more than once, each named once. */
function listedTwice(list: string[]): string[] {
  return [...new Set(list.filter((x, i) => list.indexOf(x) !== i))];
}
