// The proxy images the proxy benchmark compares, FROM the local base image with the legacy
// builder: the product's Caddy image (renderProxyDockerfile) and the benchmark's nginx image.
import * as fs from "node:fs";
import { renderProxyDockerfile } from "../../components/image/proxyDockerfile";
import { NGINX_DOCKERFILE } from "../nginx/nginx";
import { legacyBuild } from "./localDocker";
import { BASE_IMAGE } from "./testFixtures";

export type ProxyKind = "caddy" | "nginx";

/** Builds `tag`; the Dockerfile goes on stdin, as neither image copies anything from a context. */
export async function buildProxyImage(kind: ProxyKind, tag: string): Promise<void> {
  const [dockerfile, buildArgs] =
    kind === "caddy" ? [renderProxyDockerfile({ baseImage: BASE_IMAGE }), []] : [fs.readFileSync(NGINX_DOCKERFILE, "utf8"), ["--build-arg", `BASE_IMAGE=${BASE_IMAGE}`]];
  await legacyBuild(["--quiet", ...buildArgs, "-t", tag, "-"], { stdin: dockerfile });
}
