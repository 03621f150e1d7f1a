// The benchmark's nginx image, built as bench/proxy.ts builds it: it starts from every layer of
// the local base image (as the product's Caddy image does), and `nginx -t` accepts a proxy config.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { docker } from "../support/localDocker";
import { buildProxyImage } from "../support/proxyImage";
import { BASE_IMAGE, ensureBaseImage, uniqueName } from "../support/testFixtures";
import { NGINX_CONFIG_FILE, nginxTestCommand } from "./nginx";

const nginxImage = `${uniqueName("pydeploy-bench-nginx")}/nginx:test`;

async function layers(image: string): Promise<string[]> {
  return JSON.parse((await docker(["image", "inspect", "--format", "{{json .RootFS.Layers}}", image])).stdout);
}

describe("the benchmark's nginx image", { timeout: 15 * 60_000 }, () => {
  before(async () => {
    ensureBaseImage();
    await buildProxyImage("nginx", nginxImage);
  });

  after(async () => {
    await docker(["image", "rm", "--force", nginxImage], { allowFailure: true });
  });

  it("shares the base image's layers, and `nginx -t` accepts a proxy config", async () => {
    const base = await layers(BASE_IMAGE);
    assert.deepEqual((await layers(nginxImage)).slice(0, base.length), base, "the nginx image starts with all of the base image's layers");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-nginx-conf-"));
    try {
      fs.writeFileSync(
        path.join(dir, path.posix.basename(NGINX_CONFIG_FILE)),
        "events {}\nhttp {\n  server {\n    listen 8000;\n    location / { proxy_pass http://127.0.0.1:9; }\n  }\n}\n",
      );
      const res = await docker(["run", "--rm", "--volume", `${dir}:${path.posix.dirname(NGINX_CONFIG_FILE)}:ro`, nginxImage, ...nginxTestCommand()], { allowFailure: true });
      assert.equal(res.code, 0, `nginx -t accepts the config: ${res.stderr}`);
      assert.match(res.stderr, /test is successful/, "nginx says the test is successful");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
