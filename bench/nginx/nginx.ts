// The benchmark's nginx proxy: its image recipe (nginx.Dockerfile) and the commands run in it.
// Pure; nginx is only measured against the product's Caddy, never deployed.
import * as path from "node:path";

/** FROM the build argument BASE_IMAGE; no build context needed (it copies nothing). */
export const NGINX_DOCKERFILE = path.join(__dirname, "nginx.Dockerfile");
/** nginx reads its config from here (a bind mount of the benchmark's temp folder). */
export const NGINX_CONFIG_FILE = "/etc/pydeploy-proxy/nginx.conf";

/** PID 1 of the container (the Dockerfile's CMD): nginx in the foreground on the mounted config. */
export function nginxCommand(): string[] {
  return ["nginx", "-c", NGINX_CONFIG_FILE, "-g", "daemon off;"];
}

/** Run with `docker exec <proxy>`. */
export function nginxReloadCommand(): string[] {
  return ["nginx", "-c", NGINX_CONFIG_FILE, "-s", "reload"];
}

/** Run with `docker exec <proxy>`. */
export function nginxTestCommand(): string[] {
  return ["nginx", "-c", NGINX_CONFIG_FILE, "-t"];
}
