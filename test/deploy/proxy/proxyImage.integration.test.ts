// The proxy image as rendered, built FROM the local base image with the legacy builder; the
// configs the product renders validated by the proxy inside it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { renderCaddyfile } from "../../../components/deploy/proxy/proxyConfig";
import { caddyValidateCommand } from "../../../components/image/proxyDockerfile";
import { BASE_IMAGE, docker, ensureBaseImage, uniqueName } from "../../support/docker/localEngine";
import { buildProxyImage, leftovers, removeLeftovers } from "../../support/proxy/harness";

const run = uniqueName("pydeploy-proxy-image");
const caddyImage = `${run}/caddy:test`;
const left = leftovers();

async function layers(image: string): Promise<string[]> {
  return JSON.parse((await docker(["image", "inspect", "--format", "{{json .RootFS.Layers}}", image])).stdout);
}

describe("the proxy image", { timeout: 15 * 60_000 }, () => {
  before(async () => {
    ensureBaseImage();
    left.images.push(caddyImage);
    await buildProxyImage(caddyImage);
  });

  after(async () => {
    await removeLeftovers(left);
  });

  it("Caddy 2.6.2 from Debian, on top of every layer of the app's base image, runs as the caddy user", async () => {
    const base = await layers(BASE_IMAGE);
    const proxy = await layers(caddyImage);
    assert.deepEqual(proxy.slice(0, base.length), base, "the proxy image starts with all of the base image's layers (shipping it sends only the rest)");
    assert.ok(proxy.length > base.length, "and adds its own");
    const version = await docker(["run", "--rm", caddyImage, "caddy", "version"]);
    assert.match(version.stdout, /^v?2\.6\.2/, `Debian bookworm's caddy: ${version.stdout}`);
    const user = await docker(["run", "--rm", caddyImage, "id", "-un"]);
    assert.equal(user.stdout.trim(), "caddy", "PID 1 is not root");
    const data = await docker(["run", "--rm", caddyImage, "stat", "--format", "%U %a", "/data"]);
    assert.equal(data.stdout.trim(), "caddy 700", "/data (the volume's initial content) belongs to caddy, private");
  });

  it("caddy validate accepts the rendered configs (plain HTTP; HTTPS with a custom ACME CA) and rejects a broken one", async () => {
    const web = { alias: "demo-web", port: 8000 };
    const configs = {
      plain: renderCaddyfile({ sites: [{ publishedPort: 8000, upstream: web }] }),
      https: renderCaddyfile({
        sites: [{ domain: "demo.pydeploy.test", upstream: web }, { publishedPort: 9000, upstream: { alias: "demo-admin", port: 9000 } }],
        acme: { email: "ops@pydeploy.test", directory: "https://pebble:14000/dir", customCaRoot: true },
      }),
    };
    for (const [what, text] of Object.entries(configs)) {
      // The CA root file must exist for validation: any PEM certificate does (the image's own CA bundle).
      const res = await docker(
        ["run", "--rm", "-i", "--user", "root", caddyImage, "sh", "-c",
          "cp /etc/ssl/certs/ca-certificates.crt /data/acme-ca-root.pem && exec \"$@\"", "sh", ...caddyValidateCommand()],
        { input: text, allowFailure: true },
      );
      assert.equal(res.code, 0, `caddy validate accepts the ${what} config: ${res.stdout}${res.stderr}`);
      assert.match(res.stdout, /Valid configuration/, `caddy says the ${what} config is valid`);
    }
    const broken = configs.plain.replace("keepalive off", "keepalive sometimes");
    const res = await docker(["run", "--rm", "-i", caddyImage, ...caddyValidateCommand()], { input: broken, allowFailure: true });
    assert.notEqual(res.code, 0, "caddy validate refuses a broken config (so the check above can fail)");
  });

});
