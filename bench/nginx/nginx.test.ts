// The benchmark's nginx proxy: its Dockerfile and the command lines run in it, which must agree
// on the one config path the benchmark bind-mounts.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { describe, it } from "node:test";
import { NGINX_CONFIG_FILE, NGINX_DOCKERFILE, nginxCommand, nginxReloadCommand, nginxTestCommand } from "./nginx";

describe("the benchmark's nginx proxy", () => {
  it("its Dockerfile: FROM the base build argument, Debian's nginx, no default site, graceful stop, nginxCommand as PID 1", () => {
    const text = fs.readFileSync(NGINX_DOCKERFILE, "utf8");
    assert.match(text, /^ARG BASE_IMAGE\nFROM \$\{BASE_IMAGE\}$/m, "FROM the base image given at build time, like the product's Caddy image");
    assert.match(text, /apt-get install -y --no-install-recommends nginx \\$/m, "installs nginx from apt");
    assert.match(text, /^RUN rm -f \/etc\/nginx\/sites-enabled\/default$/m, "Debian's default site removed, so only the mounted config serves");
    assert.match(text, /^STOPSIGNAL SIGQUIT$/m, "SIGQUIT: nginx's graceful shutdown");
    assert.doesNotMatch(text, /^(USER|COPY|ADD) /m, "nginx runs as its image's default user, and the image needs no build context");
    const cmd = text.split("\n").find((l) => l.startsWith("CMD "));
    assert.deepEqual(JSON.parse(cmd?.slice("CMD ".length) ?? "null"), nginxCommand(), "the Dockerfile's CMD is nginxCommand()");
  });

  it("every command names the bind-mounted config", () => {
    assert.equal(NGINX_CONFIG_FILE, "/etc/pydeploy-proxy/nginx.conf", "the file in the mounted folder");
    assert.deepEqual(nginxCommand(), ["nginx", "-c", "/etc/pydeploy-proxy/nginx.conf", "-g", "daemon off;"], "nginx in the foreground");
    assert.deepEqual(nginxReloadCommand(), ["nginx", "-c", "/etc/pydeploy-proxy/nginx.conf", "-s", "reload"], "nginx reload");
    assert.deepEqual(nginxTestCommand(), ["nginx", "-c", "/etc/pydeploy-proxy/nginx.conf", "-t"], "nginx config test");
  });
});
