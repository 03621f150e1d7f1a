// `pulumi destroy` (the host step's delete): removes the app from the Docker host, its
// containers, images and folder, but only while the app is still this deployment's (its owner
// token, claim.ts), and gives up with a warning when the host no longer answers. Volumes stay
// unless asked (the proxy's, only while it holds certificates).
import { appVolumes, inspectVolume, labelledImageIds, removeContainers, removeImages, removeNetwork, removePath, removeVolumes, stopContainers } from "../dockerCommands";
import { serviceContainerIds, servicesNetworks } from "../services/serviceCommands";
import { LABEL_PROXY } from "../../image/labels";
import { certificateFiles, proxyNames, proxyRemoveSteps, type ProxyNames } from "../proxy/proxyContainer";
import { runDockerSteps } from "./dockerSteps";
import type { HostResult, RemoveSpec } from "../spec";
import { readClaims, removalScope } from "./claim";
import { appContainers, appImages } from "./dockerState";
import type { DockerHost } from "./transport";

/** A server tag: <repository>:<12 hex digits>, what ship gives the app's images. */
const SERVER_TAG = /:[0-9a-f]{12}$/;

/** How long the proxy may finish the requests in flight before it is killed. */
const PROXY_DRAIN_SECONDS = 10;

export async function removeApp(host: DockerHost, spec: RemoveSpec, claimed: HostResult | undefined, log: (line: string) => void): Promise<void> {
  const claims = await readClaims(host, spec.app, spec.appDir);
  switch (removalScope(claims, claimed?.owner)) {
    case "nothing":
      log(`${spec.appDir} on ${host.description} now belongs to another deployment of ${spec.app} (a newer host step claimed it): leaving the app in place`);
      return;
    case "folder":
      // Another user's host step claimed the app on this Docker daemon: its containers are that deployment's now.
      await host.run(removePath(spec.appDir));
      log(`${spec.app} on ${host.description} now belongs to another deployment (a newer host step claimed it on this Docker daemon): removed only ${spec.appDir}, the app keeps running`);
      return;
    case "everything":
      break;
  }
  const proxy = proxyNames(spec.app);
  // Asked while the proxy still runs: a stopped one cannot say.
  const emptyProxyData = !spec.removeVolumes && (await holdsNoCertificate(host, proxy));
  // The proxy stops first: a balancer in front then meets a refused connection and sends the
  // request to another server, and requests in flight finish, instead of the proxy answering 502
  // for app containers that are gone.
  const stopped = await host.run(stopContainers([proxy.container], PROXY_DRAIN_SECONDS), { allowFailure: true });
  if (stopped.code === 0) log(`stopped ${proxy.container} first: new requests go elsewhere, those in flight finished`);
  const containers = await appContainers(host, spec.app);
  if (containers.length) {
    log(`removing containers: ${containers.map((c) => c.name).join(" ")}`);
    await host.run(removeContainers(containers.map((c) => c.id), { force: true }));
  }
  const services = (await host.run(serviceContainerIds(spec.app))).stdout.split("\n").filter(Boolean);
  if (services.length) {
    log(`removing the service containers ${services.map((id) => id.slice(0, 12)).join(" ")}`);
    await host.run(removeContainers(services, { force: true }));
  }
  for (const network of (await host.run(servicesNetworks(spec.app))).stdout.split("\n").filter(Boolean)) await host.run(removeNetwork(network));
  if (emptyProxyData) log(`removing volume ${proxy.volume}: it holds no certificate`);
  await runDockerSteps(host, proxyRemoveSteps(proxy, { removeData: spec.removeVolumes || emptyProxyData }), { log });
  const proxyImages = (await host.run(labelledImageIds(LABEL_PROXY, spec.app))).stdout.split("\n").filter(Boolean);
  if (proxyImages.length && spec.target.kind !== "local") await host.run(removeImages([...new Set(proxyImages)], { force: true }), { allowFailure: true });
  const images = await appImages(host, spec.app);
  if (spec.target.kind === "local") {
    // The local engine's images are docker.Image's build results: only our tags go.
    const tags = images.flatMap((i) => i.tags.filter((t) => SERVER_TAG.test(t)));
    if (tags.length) await host.run(removeImages(tags), { allowFailure: true });
  } else if (images.length) {
    log(`removing images: ${images.map((i) => i.tags[0] ?? i.id).join(" ")}`);
    await host.run(removeImages(images.map((i) => i.id), { force: true }));
  }
  const volumes = (await host.run(appVolumes(spec.app))).stdout.split("\n").filter(Boolean);
  if (volumes.length && spec.removeVolumes) {
    log(`removing volumes: ${volumes.join(" ")}`);
    await host.run(removeVolumes(volumes));
  } else if (volumes.length) {
    log(`keeping volumes ${volumes.join(" ")}: they hold the app's data (set deploy.removeVolumesOnDestroy and run pulumi up before pulumi destroy to remove them)`);
  }
  if (!spec.removeVolumes && (await host.run(inspectVolume(proxy.volume), { allowFailure: true })).code === 0) {
    log(`keeping volume ${proxy.volume}: the proxy's certificates and ACME account (a new certificate counts against the CA's rate limits)`);
  }
  if (claims.volumes.length) await host.run(removeVolumes(claims.volumes));
  await host.run(removePath(spec.appDir));
  log(`app ${spec.app} removed from ${host.description}`);
}

/**
 * The proxy's volume is kept for its certificates (a new one counts against the CA's rate
 * limits); a stack that never had a certificate leaves nothing there worth keeping. When the
 * proxy container cannot be asked, it is kept.
 */
async function holdsNoCertificate(host: DockerHost, proxy: ProxyNames): Promise<boolean> {
  const found = await host.run(certificateFiles(proxy), { allowFailure: true });
  return found.code === 0 && found.stdout === "";
}
