// alicloud:* resources: MOCKED, never real. Outputs are the inputs, plus an ID, plus what the
// test's cloud module answers (e.g. an Instance's publicIp = a test server's address). A change
// is an update, except on ForceNew fields, which replace. The table below is the ForceNew
// top-level schema fields of aliyun/terraform-provider-alicloud (alicloud/resource_alicloud_*.go
// at 81c43b672, close to what @pulumi/alicloud 3.108 bundles), in Pulumi's camelCase.
import { randomBytes } from "node:crypto";
import { detailedDiff, PropertyMap, revealMap, UNKNOWN, Wire } from "../properties";
import type { ResourceState } from "../state";
import type { OperationContext, ProviderModel } from "./types";

export const ALICLOUD_FORCE_NEW: Record<string, string[]> = {
  "alicloud:ecs/instance:Instance": [
    "availabilityZone", "dedicatedHostId", "hpcClusterId", "httpPutResponseHopLimit", "ipv6AddressCount",
    "launchTemplateId", "launchTemplateName", "launchTemplateVersion", "networkCardIndex", "networkInterfaceId",
    "networkInterfaceTrafficMode", "queuePairNumber", "securityEnhancementStrategy", "sourceDestCheck",
    "spotInterruptionBehavior", "spotPriceLimit", "spotStrategy", "systemDiskCategory", "systemDiskEncryptAlgorithm",
    "systemDiskEncrypted", "systemDiskKmsKeyId", "systemDiskStorageClusterId",
  ],
  "alicloud:vpc/network:Network": ["ipv6CidrBlock", "isDefault", "userCidrs"],
  "alicloud:vpc/switch:Switch": ["availabilityZone", "cidrBlock", "isDefault", "vpcId", "zoneId"],
  "alicloud:ecs/securityGroup:SecurityGroup": ["securityGroupType", "vpcId"],
  "alicloud:ecs/securityGroupRule:SecurityGroupRule": [
    "cidrIp", "ipProtocol", "ipv6CidrIp", "nicType", "policy", "portRange", "prefixListId", "priority",
    "securityGroupId", "sourceGroupOwnerAccount", "sourceGroupOwnerId", "sourceSecurityGroupId", "type",
  ],
  "alicloud:ecs/ecsKeyPair:EcsKeyPair": ["keyFile", "keyName", "keyNamePrefix", "keyPairName"],
};

function cloudOutputs(ctx: OperationContext, inputs: PropertyMap): PropertyMap {
  const extra = ctx.cloud?.outputs?.({ type: ctx.type, name: ctx.name, urn: ctx.urn, inputs: revealMap(inputs) }) ?? {};
  return extra as PropertyMap;
}

export const alicloudResource: ProviderModel = {
  async check(_ctx, news) {
    return { inputs: news, failures: [] };
  },

  async diff(ctx, old: ResourceState, news) {
    const forceNew = [...(ALICLOUD_FORCE_NEW[ctx.type] ?? []), ...(ctx.cloud?.forceNew?.[ctx.type] ?? [])];
    const detailed = detailedDiff(old.inputs, news);
    return { detailed, replacePaths: [...detailed.keys()].filter((p) => forceNew.includes(p.split(/[.[]/)[0])) };
  },

  async create(ctx, inputs) {
    // Preview: the planned state is the inputs; computed attributes are unknown.
    if (ctx.preview) {
      const unknowns = Object.keys(cloudOutputs(ctx, inputs)).filter((k) => !(k in inputs));
      return { id: "", outputs: { ...inputs, ...Object.fromEntries(unknowns.map((k) => [k, UNKNOWN as Wire])) }, ran: false };
    }
    const id = ctx.cloud?.id?.({ type: ctx.type, name: ctx.name, urn: ctx.urn }) ?? `${ctx.name}-${randomBytes(4).toString("hex")}`;
    return { id, outputs: { ...inputs, ...cloudOutputs(ctx, inputs) }, ran: true };
  },

  async update(ctx, old, news) {
    // Computed attributes keep their prior values (SDKv2 plans carry them over).
    if (ctx.preview) return { outputs: { ...old.outputs, ...news }, ran: false };
    return { outputs: { ...old.outputs, ...news, ...cloudOutputs(ctx, news) }, ran: true };
  },

  async delete() {
    return { ran: true };
  },
};
