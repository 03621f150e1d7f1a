// An Alibaba Cloud ECS server with Docker: VPC, vSwitch, security group (exactly the given
// ports), key pair and instance. Lookups run only for what the caller leaves out.
import { createHash } from "node:crypto";
import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { renderCloudConfig } from "./cloudInit";
import { fleetMemberName } from "./fleet";
import type { DockerInstallOptions } from "./dockerInstall";
import type { SshConnection } from "./sshConnection";

export type { SshConnection } from "./sshConnection";

export interface AlicloudServerArgs {
  instanceType?: pulumi.Input<string>;
  imageId?: pulumi.Input<string>;
  zoneId?: pulumi.Input<string>;
  /** Used only to look up an instance type. */
  cpuCores: pulumi.Input<number>;
  memoryGb: pulumi.Input<number>;
  /** Used only to look up an image. */
  imageNameRegex: pulumi.Input<string>;
  /** Existing resources: when given, they are not created. */
  vpcId?: pulumi.Input<string>;
  vswitchId?: pulumi.Input<string>;
  /** Existing vSwitches the instances are spread over, round robin (the first stands for vswitchId: zone, VPC, managed services). */
  vswitchIds?: pulumi.Input<string>[];
  securityGroupId?: pulumi.Input<string>;
  vpcCidr: pulumi.Input<string>;
  vswitchCidr: pulumi.Input<string>;
  /** Several servers over zones: one new vSwitch per zone (the first at vswitchCidr), the servers round robin. */
  zoneSwitches?: { zoneId: string; cidrBlock: string }[];
  /** > 0 gives the instance a public IP, billed PayByTraffic. */
  internetMaxBandwidthOut: pulumi.Input<number>;
  systemDisk: pulumi.Input<{ category: string; sizeGb: number }>;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  deletionProtection: pulumi.Input<boolean>;
  /** Already validated (canonical IPv4 CIDRs); one ingress rule per CIDR. */
  ssh: { port: number; user: string; allowedCidrs: string[] };
  /** Published host ports; one ingress rule per (port, CIDR). A pair given twice, here or as SSH, is opened once. */
  appPorts: { port: number; allowedCidrs: string[] }[];
  /** Both or neither; neither generates an RSA 4096 key (Alibaba key pairs take RSA). */
  publicKey?: pulumi.Input<string>;
  privateKey?: pulumi.Input<string>;
  /** What cloud-init installs on first boot. Later changes do not touch the instance: apply them over SSH. */
  cloudInit: DockerInstallOptions;
  /** Identical instances sharing the network and key pair; 1 unless given. */
  count?: number;
  /** Several servers: ports the first one's services listen on, opened to the servers of this security group only. */
  fleetPorts?: number[];
}

/** One instance of the fleet. */
export interface FleetServer {
  /** The resource name prefix: the component's name for the first, `<name>-2`, `<name>-3`… after it. */
  name: string;
  instanceId: pulumi.Output<string>;
  publicIp: pulumi.Output<string>;
  privateIp: pulumi.Output<string>;
  /** Where the deploy reaches it: the public IP, else the private one. */
  address: pulumi.Output<string>;
  hostKey: pulumi.Output<string>;
  /** Secret as a whole. */
  connection: pulumi.Output<SshConnection>;
}

/** The fields of a DescribeInstanceTypes answer that tell a burstable (CPU credit) type. */
interface InstanceTypeCandidate {
  id: string;
  family?: string;
  burstableInstance?: { initialCredit?: string; baselineCredit?: string };
}

/**
 * Burstable types (t5, t6, …) throttle under sustained load. The provider reports their credits
 * as strings, "0" for other types (terraform-provider-alicloud, data_source_alicloud_instance_types.go);
 * t6 has a baseline but no initial credit, so both count, and the family settles it when they are absent.
 */
function isBurstable(candidate: InstanceTypeCandidate): boolean {
  const credit = (value: string | undefined) => Number(value ?? 0) > 0;
  return credit(candidate.burstableInstance?.initialCredit) || credit(candidate.burstableInstance?.baselineCredit) || /^ecs\.t\d+$/.test(candidate.family ?? "");
}

/** Where and on what the instance runs: given in the args, or looked up. */
interface Placement {
  /** The zone: given, the existing vSwitch's, or looked up (on first use). */
  zoneId: () => pulumi.Output<string>;
  /** The vSwitch given as vswitchId, as the provider reads it (on first use). */
  existingSwitch: () => pulumi.Output<alicloud.types.output.vpc.GetSwitchesVswitch>;
  instanceType: pulumi.Output<string>;
  imageId: pulumi.Output<string>;
  /** The image came from the lookup: a newer match later must not replace the system disk. */
  imageLookedUp: boolean;
}

interface Network {
  vswitchId: pulumi.Output<string>;
  /** With zoneSwitches: every vSwitch created, the first being vswitchId. */
  zoneSwitchIds?: pulumi.Output<string>[];
  /** Looked up (or created) on first call only: most stacks never ask. */
  vpcId: () => pulumi.Output<string>;
  securityGroupId: pulumi.Output<string>;
  /** One ingress rule per allowed (port, CIDR). */
  rules: alicloud.ecs.SecurityGroupRule[];
}

interface LoginKey {
  keyPairName: pulumi.Output<string>;
  /** Secret. */
  privateKey: pulumi.Output<string>;
}

/** Its constructor reads as awsx's components do: lookUpPlacement, createNetwork, createLoginKey, createInstance. */
export class AlicloudServer extends pulumi.ComponentResource {
  /** Every instance, in release order; the single-server outputs below are the first one's. */
  readonly servers: FleetServer[];
  readonly instanceId: pulumi.Output<string>;
  readonly publicIp: pulumi.Output<string>;
  readonly privateIp: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;
  /** Secret as a whole; carries `hostKey`, so the deploy accepts only this server. */
  readonly connection: pulumi.Output<SshConnection>;
  /** The server's SSH host key, "ssh-ed25519 AAAA…", installed by cloud-init before sshd first starts. Not secret. */
  readonly hostKey: pulumi.Output<string>;
  /** Secret. */
  readonly privateKey: pulumi.Output<string>;
  /** e.g. "ssh -p 22 root@203.0.113.10"; no key material. */
  readonly sshCommand: pulumi.Output<string>;
  /** What the instance actually runs: copy into config to pin looked-up values. */
  readonly zoneId: pulumi.Output<string>;
  /** The server's vSwitch: managed services are placed in it. */
  readonly vswitchId: pulumi.Output<string>;
  /** The server's VPC (looked up when the vSwitch was given). */
  readonly vpcId: () => pulumi.Output<string>;
  readonly imageId: pulumi.Output<string>;
  readonly instanceType: pulumi.Output<string>;

  constructor(name: string, args: AlicloudServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pydeploy:server:AlicloudServer", name, {}, opts);
    if (args.vswitchIds !== undefined) {
      if (args.vswitchId !== undefined) throw new Error(`AlicloudServer ${name}: give vswitchId or vswitchIds, not both`);
      if (args.vswitchIds.length === 0) throw new Error(`AlicloudServer ${name}: vswitchIds is empty`);
      args = { ...args, vswitchId: args.vswitchIds[0] };
    }
    if (args.zoneSwitches !== undefined) {
      if (args.vswitchId !== undefined) throw new Error(`AlicloudServer ${name}: give zoneSwitches or a vSwitch, not both`);
      if (args.zoneSwitches.length === 0) throw new Error(`AlicloudServer ${name}: zoneSwitches is empty`);
      // Lookups (instance types) happen in the first zone.
      args = { ...args, zoneId: args.zoneSwitches[0].zoneId };
    }
    if ((args.publicKey === undefined) !== (args.privateKey === undefined)) {
      throw new Error(`AlicloudServer ${name}: give both publicKey and privateKey, or neither to generate a key`);
    }
    const physicalName = `${name}-${pulumi.getStack()}`;
    // In the order they were always created: lookups, network, login key, instance.
    const placement = this.lookUpPlacement(args);
    const network = this.createNetwork(name, physicalName, args, placement);
    const login = this.createLoginKey(name, physicalName, args);
    const { port, user } = args.ssh;
    const members = Array.from({ length: args.count ?? 1 }, (_, i) => {
      const member = fleetMemberName(name, i);
      const spread = args.vswitchIds?.map((id) => pulumi.output(id)) ?? network.zoneSwitchIds;
      const vswitchId = spread ? spread[i % spread.length] : network.vswitchId;
      const { instance, hostKey } = this.createInstance(member, fleetMemberName(physicalName, i), args, placement, { ...network, vswitchId }, login);
      // Without a public IP (bandwidth 0) the deploy can only reach the private address.
      const host = pulumi.all([instance.publicIp, instance.privateIp]).apply(([pub, priv]) => pub || priv);
      // Depending on the rule ids makes anything using the connection wait for SSH to be allowed.
      const connection = pulumi.secret(
        pulumi
          .all([host, login.privateKey, hostKey, ...network.rules.map((r) => r.id)])
          .apply(([address, privateKey, key]): SshConnection => ({ host: address, port, user, privateKey, hostKey: key })),
      );
      return { instance, host, server: { name: member, instanceId: instance.id, publicIp: instance.publicIp, privateIp: instance.privateIp, address: host, hostKey, connection } };
    });
    this.servers = members.map((m) => m.server);
    const first = members[0];

    this.privateKey = login.privateKey;
    this.hostKey = first.server.hostKey;
    this.instanceId = first.instance.id;
    this.publicIp = first.instance.publicIp;
    this.privateIp = first.instance.privateIp;
    this.securityGroupId = network.securityGroupId;
    this.zoneId = first.instance.availabilityZone;
    this.vswitchId = network.vswitchId;
    this.vpcId = network.vpcId;
    this.imageId = first.instance.imageId;
    this.instanceType = first.instance.instanceType;
    this.connection = first.server.connection;
    this.sshCommand = pulumi.interpolate`ssh -p ${port} ${user}@${first.host}`;

    this.registerOutputs({
      instanceId: this.instanceId,
      publicIp: this.publicIp,
      privateIp: this.privateIp,
      securityGroupId: this.securityGroupId,
      connection: this.connection,
      hostKey: this.hostKey,
      privateKey: this.privateKey,
      sshCommand: this.sshCommand,
      zoneId: this.zoneId,
      imageId: this.imageId,
      instanceType: this.instanceType,
      servers: this.servers.map((m) => ({ name: m.name, instanceId: m.instanceId, publicIp: m.publicIp, privateIp: m.privateIp, hostKey: m.hostKey })),
    });
  }

  /** Zone, instance type and image: the given ones, else looked up. Each lookup runs at most once, and only if something needs its answer. */
  private lookUpPlacement(args: AlicloudServerArgs): Placement {
    const parent = { parent: this };
    const once = <T>(f: () => T): (() => T) => {
      let value: T | undefined;
      return () => (value ??= f());
    };

    const existingSwitch = once(() =>
      pulumi.output(args.vswitchId!).apply((id) =>
        alicloud.vpc.getSwitchesOutput({ ids: [id] }, parent).apply((r) => {
          const vswitch = r.vswitches[0];
          if (!vswitch) throw new pulumi.RunError(`vSwitch ${id} was not found in this region; check pydeploy:server.vswitchId`);
          return vswitch;
        }),
      ),
    );

    const zoneId = once((): pulumi.Output<string> => {
      if (args.zoneId !== undefined) return pulumi.output(args.zoneId);
      if (args.vswitchId !== undefined) return existingSwitch().zoneId;
      return pulumi.output(args.instanceType).apply((type) =>
        alicloud.getZonesOutput({ availableResourceCreation: "VSwitch", availableInstanceType: type }, parent).apply((r) => {
          const zone = r.zones[0];
          if (!zone) {
            throw new pulumi.RunError(`no zone in this region offers vSwitches${type ? ` and instance type ${type}` : ""}; set pydeploy:server.zoneId`);
          }
          return zone.id;
        }),
      );
    });

    const instanceType: pulumi.Output<string> =
      args.instanceType !== undefined
        ? pulumi.output(args.instanceType)
        : pulumi
            .all([zoneId(), args.cpuCores, args.memoryGb, pulumi.output(args.systemDisk).category])
            .apply(([zone, cores, memory, diskCategory]) =>
              alicloud.ecs
                .getInstanceTypesOutput({ availabilityZone: zone, cpuCoreCount: cores, memorySize: memory, systemDiskCategory: diskCategory }, parent)
                .apply((r) => {
                  const types = r.instanceTypes ?? [];
                  const steady = types.find((candidate) => !isBurstable(candidate));
                  if (steady) return steady.id;
                  if (!types[0]) {
                    throw new pulumi.RunError(
                      `no instance type with ${cores} cores and ${memory} GiB in zone ${zone}; set pydeploy:server.instanceType` +
                        ` (the lookup also asked for ${diskCategory} system disk support)`,
                    );
                  }
                  // Only burstable types fit: usable, but the user should know what they get.
                  void pulumi.log.warn(
                    `only burstable instance types have ${cores} cores and ${memory} GiB in zone ${zone}: using ${types[0].id}, ` +
                      `which is throttled to its baseline once its CPU credits run out. Set pydeploy:server.instanceType to choose, ` +
                      `or change pydeploy:server.cpuCores / memoryGb.`,
                    this,
                  );
                  return types[0].id;
                }),
            );

    const imageLookedUp = args.imageId === undefined;
    const imageId: pulumi.Output<string> = !imageLookedUp
      ? pulumi.output(args.imageId!)
      : pulumi.output(args.imageNameRegex).apply((nameRegex) =>
          alicloud.ecs.getImagesOutput({ owners: "system", mostRecent: true, nameRegex }, parent).apply((r) => {
            const image = r.images[0];
            if (!image) {
              throw new pulumi.RunError(`no system image matches ${nameRegex}; set pydeploy:server.imageId or pydeploy:server.imageNameRegex`);
            }
            return image.id;
          }),
        );

    return { zoneId, existingSwitch, instanceType, imageId, imageLookedUp };
  }

  /** VPC, vSwitch and security group (each unless given), and one ingress rule per allowed (port, CIDR). */
  private createNetwork(name: string, physicalName: string, args: AlicloudServerArgs, placement: Placement): Network {
    const parent = { parent: this };
    let vpcId: pulumi.Output<string> | undefined;
    const resolveVpcId = (): pulumi.Output<string> => {
      if (vpcId) return vpcId;
      if (args.vpcId !== undefined) return (vpcId = pulumi.output(args.vpcId));
      if (args.vswitchId !== undefined) return (vpcId = placement.existingSwitch().vpcId);
      const vpc = new alicloud.vpc.Network(`${name}-vpc`, { vpcName: physicalName, cidrBlock: args.vpcCidr, tags: args.tags }, parent);
      return (vpcId = vpc.id);
    };

    // The first vSwitch keeps its name, so a stack that spreads over zones later keeps it.
    const zoneSwitchIds = args.zoneSwitches?.map(
      (z, i) =>
        new alicloud.vpc.Switch(
          i === 0 ? `${name}-vswitch` : `${name}-vswitch-${i + 1}`,
          { vpcId: resolveVpcId(), cidrBlock: z.cidrBlock, zoneId: z.zoneId, vswitchName: i === 0 ? physicalName : `${physicalName}-${i + 1}`, tags: args.tags },
          parent,
        ).id,
    );
    const vswitchId: pulumi.Output<string> =
      args.vswitchId !== undefined
        ? pulumi.output(args.vswitchId)
        : (zoneSwitchIds?.[0] ??
          new alicloud.vpc.Switch(
            `${name}-vswitch`,
            { vpcId: resolveVpcId(), cidrBlock: args.vswitchCidr, zoneId: placement.zoneId(), vswitchName: physicalName, tags: args.tags },
            parent,
          ).id);

    const securityGroupId: pulumi.Output<string> =
      args.securityGroupId !== undefined
        ? pulumi.output(args.securityGroupId)
        : new alicloud.ecs.SecurityGroup(
            `${name}-sg`,
            { securityGroupName: physicalName, vpcId: resolveVpcId(), description: `pydeploy ${physicalName}`, tags: args.tags },
            parent,
          ).id;

    // Alibaba Cloud identifies a rule by its fields (group, direction, protocol, port, NIC type,
    // CIDR, policy, priority): authorizing the same fields twice is a silent no-op, and deleting
    // either copy revokes the one real rule. So each rule is named after what it allows, never a
    // list position: adding, removing or reordering CIDRs or ports leaves every other rule untouched,
    // and a (port, CIDR) pair given twice is one resource.
    const rules = new Map<string, alicloud.ecs.SecurityGroupRule>();
    const allow = (port: number, cidrs: string[], description: string) => {
      for (const cidrIp of cidrs) {
        const ruleName = `${name}-allow-tcp-${port}-from-${cidrIp}`;
        if (rules.has(ruleName)) continue;
        rules.set(
          ruleName,
          new alicloud.ecs.SecurityGroupRule(
            ruleName,
            { securityGroupId, type: "ingress", ipProtocol: "tcp", portRange: `${port}/${port}`, nicType: "intranet", policy: "accept", cidrIp, description },
            parent,
          ),
        );
      }
    };
    allow(args.ssh.port, args.ssh.allowedCidrs, `pydeploy ${name}: SSH`);
    for (const { port, allowedCidrs } of args.appPorts) allow(port, allowedCidrs, `pydeploy ${name}: port ${port}`);
    // The group as the source: the other servers, whatever their addresses, and nothing outside.
    for (const port of new Set(args.fleetPorts ?? [])) {
      const ruleName = `${name}-allow-tcp-${port}-from-fleet`;
      rules.set(
        ruleName,
        new alicloud.ecs.SecurityGroupRule(
          ruleName,
          { securityGroupId, type: "ingress", ipProtocol: "tcp", portRange: `${port}/${port}`, nicType: "intranet", policy: "accept", sourceSecurityGroupId: securityGroupId, description: `pydeploy ${name}: service port ${port}, servers of this group` },
          parent,
        ),
      );
    }

    return { vswitchId, zoneSwitchIds, vpcId: resolveVpcId, securityGroupId, rules: [...rules.values()] };
  }

  /** The login key pair: the given key, or a generated RSA one (Alibaba key pairs take RSA). */
  private createLoginKey(name: string, physicalName: string, args: AlicloudServerArgs): LoginKey {
    const parent = { parent: this };
    let publicKey: pulumi.Output<string>;
    let privateKey: pulumi.Output<string>;
    if (args.publicKey !== undefined) {
      publicKey = pulumi.output(args.publicKey);
      privateKey = pulumi.secret(args.privateKey!);
    } else {
      const key = new tls.PrivateKey(
        `${name}-ssh-key`,
        { algorithm: "RSA", rsaBits: 4096 },
        { ...parent, additionalSecretOutputs: ["privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"] },
      );
      publicKey = key.publicKeyOpenssh;
      privateKey = pulumi.secret(key.privateKeyPem);
    }
    const keyPair = new alicloud.ecs.EcsKeyPair(
      `${name}-keypair`,
      {
        // Key pair names are unique per region: a content hash lets a new key be created
        // before the old one is deleted on replacement.
        keyPairName: publicKey.apply((k) => `pydeploy-${physicalName}-${createHash("sha256").update(k.trim()).digest("hex").slice(0, 8)}`),
        publicKey,
        tags: args.tags,
      },
      parent,
    );
    return { keyPairName: keyPair.keyPairName, privateKey };
  }

  /** The server's own SSH host key, the cloud-init that installs it and Docker, and the ECS instance. */
  private createInstance(
    name: string,
    physicalName: string,
    args: AlicloudServerArgs,
    placement: Placement,
    network: Network,
    login: LoginKey,
  ): { instance: alicloud.ecs.Instance; hostKey: pulumi.Output<string> } {
    const parent = { parent: this };
    // Made here so the deploy can pin it before the first connection.
    const hostKeyPair = new tls.PrivateKey(
      `${name}-host-key`,
      { algorithm: "ED25519" },
      { ...parent, additionalSecretOutputs: ["privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"] },
    );
    const hostKey = hostKeyPair.publicKeyOpenssh.apply((k) => k.trim());
    // Secret: it carries the host's private key.
    const userData = pulumi.secret(
      pulumi
        .all([hostKeyPair.privateKeyOpenssh, hostKey])
        .apply(([privateKeyOpenssh, publicKey]) => renderCloudConfig({ docker: args.cloudInit, hostKey: { privateKeyOpenssh, publicKey } }))
        // Base64 is the provider's recommended form.
        .apply((doc) => Buffer.from(doc, "utf8").toString("base64")),
    );

    const systemDisk = pulumi.output(args.systemDisk);
    const instance = new alicloud.ecs.Instance(
      `${name}-instance`,
      {
        instanceName: physicalName,
        imageId: placement.imageId,
        instanceType: placement.instanceType,
        // The zone follows from the vSwitch (the provider ignores availabilityZone when vswitchId is set).
        vswitchId: network.vswitchId,
        securityGroups: [network.securityGroupId],
        keyName: login.keyPairName,
        internetMaxBandwidthOut: args.internetMaxBandwidthOut,
        internetChargeType: "PayByTraffic",
        systemDiskCategory: systemDisk.category,
        systemDiskSize: systemDisk.sizeGb,
        tags: args.tags,
        deletionProtection: args.deletionProtection,
        userData,
      },
      {
        ...parent,
        // A userData change reboots the instance, and cloud-init would not run it again anyway:
        // the deploy applies later mirror changes over SSH. A newer image matching the regex must
        // not rebuild the system disk of a running server. Nor, with several, a pinned one: that
        // stops every instance at once; new servers get it, and `--replace` moves one at a time.
        ignoreChanges: placement.imageLookedUp || (args.count ?? 1) > 1 ? ["userData", "imageId"] : ["userData"],
      },
    );
    return { instance, hostKey };
  }
}
