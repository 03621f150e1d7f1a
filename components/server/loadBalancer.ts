// Alibaba Cloud CLB in front of several servers: an internet-facing instance, one vServer group
// holding each server on each listener's port, and a health-checked listener per published port.
import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import type { ListenerPlan } from "./loadBalancerPlan";

export interface LoadBalancerBackend {
  /** The fleet member's name (fleetMemberName): names its attachments, so removing a server removes only its own. */
  name: string;
  instanceId: pulumi.Input<string>;
  /** Joined to the group only after these (its first release): the balancer never sends users to an empty server. */
  readyAfter?: pulumi.Input<pulumi.Resource>[];
}

export interface LoadBalancerArgs {
  listeners: ListenerPlan[];
  backends: LoadBalancerBackend[];
  /** Pay-by-spec size, e.g. slb.s1.small. */
  spec: pulumi.Input<string>;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class LoadBalancer extends pulumi.ComponentResource {
  readonly loadBalancerId: pulumi.Output<string>;
  /** Where users reach the app. */
  readonly address: pulumi.Output<string>;

  constructor(name: string, args: LoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pydeploy:server:LoadBalancer", name, {}, opts);
    const parent = { parent: this };
    const physicalName = `${name}-${pulumi.getStack()}`;
    const clb = new alicloud.slb.ApplicationLoadBalancer(
      `${name}-lb`,
      { loadBalancerName: physicalName, addressType: "internet", loadBalancerSpec: args.spec, instanceChargeType: "PayBySpec", internetChargeType: "PayByTraffic", tags: args.tags },
      parent,
    );
    const group = new alicloud.slb.ServerGroup(`${name}-lb-servers`, { loadBalancerId: clb.id, name: physicalName }, parent);
    // One attachment per (server, port): adding a server adds its own, removing one deletes only its own.
    for (const backend of args.backends) {
      for (const l of args.listeners) {
        new alicloud.slb.ServerGroupServerAttachment(
          `${backend.name}-lb-backend-${l.port}`,
          { serverGroupId: group.id, serverId: backend.instanceId, port: l.port, weight: 100, type: "ecs", description: `pydeploy ${backend.name}` },
          { ...parent, dependsOn: backend.readyAfter ?? [] },
        );
      }
    }
    for (const l of args.listeners) {
      const health =
        l.healthCheck.kind === "http"
          ? { healthCheck: "on", healthCheckUri: l.healthCheck.path, healthCheckHttpCode: l.healthCheck.httpCodes, healthCheckConnectPort: l.port }
          : { healthCheckType: "tcp", healthCheckConnectPort: l.port };
      new alicloud.slb.Listener(
        `${name}-lb-${l.port}`,
        {
          loadBalancerId: clb.id,
          serverGroupId: group.id,
          protocol: l.protocol,
          frontendPort: l.port,
          backendPort: l.port,
          // -1: no cap of its own; the instance's spec and traffic billing bound it.
          bandwidth: -1,
          // Two checks two seconds apart take a server out (or back) in about four seconds.
          healthCheckInterval: 2,
          healthyThreshold: 2,
          unhealthyThreshold: 2,
          ...health,
          ...(l.protocol === "http" ? { xForwardedFor: { retriveClientIp: true } } : {}),
          description: `pydeploy ${name}: ${l.role} on ${l.port}`,
        },
        parent,
      );
    }
    this.loadBalancerId = clb.id;
    this.address = clb.address;
    this.registerOutputs({ loadBalancerId: this.loadBalancerId, address: this.address });
  }
}
