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
  /** The HTTPS listener's certificate: the chain (PEM) and its key (secret). */
  certificate?: { chain: pulumi.Input<string>; privateKey: pulumi.Input<string> };
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
    const served = args.listeners.flatMap((l) => ("redirectTo" in l ? [] : [l]));
    const backendPorts = [...new Set(served.map((l) => l.backendPort))];
    // One attachment per (server, port): adding a server adds its own, removing one deletes only its own.
    for (const backend of args.backends) {
      for (const port of backendPorts) {
        new alicloud.slb.ServerGroupServerAttachment(
          `${backend.name}-lb-backend-${port}`,
          { serverGroupId: group.id, serverId: backend.instanceId, port, weight: 100, type: "ecs", description: `pydeploy ${backend.name}` },
          { ...parent, dependsOn: backend.readyAfter ?? [] },
        );
      }
    }
    const certificate =
      args.certificate &&
      new alicloud.slb.ServerCertificate(
        `${name}-lb-certificate`,
        { name: physicalName, serverCertificate: args.certificate.chain, privateKey: pulumi.secret(args.certificate.privateKey) },
        { ...parent, additionalSecretOutputs: ["privateKey"] },
      );
    if (served.some((l) => l.protocol === "https") && !certificate) throw new Error(`LoadBalancer ${name}: an HTTPS listener needs the certificate`);
    const listeners = new Map<number, alicloud.slb.Listener>();
    for (const l of served) {
      const health =
        l.healthCheck.kind === "http"
          ? { healthCheck: "on", healthCheckUri: l.healthCheck.path, healthCheckHttpCode: l.healthCheck.httpCodes, healthCheckConnectPort: l.backendPort }
          : { healthCheckType: "tcp", healthCheckConnectPort: l.backendPort };
      listeners.set(
        l.port,
        new alicloud.slb.Listener(
          `${name}-lb-${l.port}`,
          {
            loadBalancerId: clb.id,
            serverGroupId: group.id,
            protocol: l.protocol,
            frontendPort: l.port,
            backendPort: l.backendPort,
            // -1: no cap of its own; the instance's spec and traffic billing bound it.
            bandwidth: -1,
            ...(l.protocol === "https" ? { serverCertificateId: certificate!.id } : {}),
            // Two checks two seconds apart take a server out (or back) in about four seconds.
            healthCheckInterval: 2,
            healthyThreshold: 2,
            unhealthyThreshold: 2,
            ...health,
            ...(l.protocol !== "tcp" ? { xForwardedFor: { retriveClientIp: true } } : {}),
            description: `pydeploy ${name}: ${l.role} on ${l.port}`,
          },
          parent,
        ),
      );
    }
    for (const l of args.listeners) {
      if (!("redirectTo" in l)) continue;
      const target = listeners.get(l.redirectTo);
      if (!target) throw new Error(`LoadBalancer ${name}: port ${l.port} redirects to ${l.redirectTo}, which has no listener`);
      new alicloud.slb.Listener(
        `${name}-lb-${l.port}`,
        { loadBalancerId: clb.id, protocol: "http", frontendPort: l.port, bandwidth: -1, listenerForward: "on", forwardPort: l.redirectTo, description: `pydeploy ${name}: ${l.port} redirects to HTTPS` },
        // The listener it forwards to must exist first.
        { ...parent, dependsOn: [target] },
      );
    }
    this.loadBalancerId = clb.id;
    this.address = clb.address;
    this.registerOutputs({ loadBalancerId: this.loadBalancerId, address: this.address });
  }
}
