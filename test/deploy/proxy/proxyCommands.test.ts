// The proxy's commands and files beyond proxyImage.test.ts and proxyConfig.test.ts: the commands
// run inside the proxy container, labels in its Dockerfile, and the Caddyfile's edge cases.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HTTP_PORT, HTTPS_PORT, LETS_ENCRYPT_DIRECTORY, publishedPorts, renderCaddyfile, validateProxyConfig } from "../../../components/deploy/proxy/proxyConfig";
import {
  ACME_CA_ROOT_FILE, CADDY_STORAGE_DIR, caddyReloadCommand, caddyValidateCommand, PROXY_DATA_DIR, renderProxyDockerfile,
} from "../../../components/image/proxyDockerfile";

const web = { alias: "demo-web", port: 8000 };

describe("commands run in the proxy container", () => {
  it("Caddy reads a Caddyfile on stdin to check or load it", () => {
    assert.deepEqual(caddyValidateCommand(), ["caddy", "validate", "--config", "-", "--adapter", "caddyfile"], "check without loading");
    assert.deepEqual(caddyReloadCommand(), ["caddy", "reload", "--config", "-", "--adapter", "caddyfile", "--force"], "load through the admin API");
  });

  it("where the proxy keeps its state: all on the /data volume", () => {
    assert.deepEqual([PROXY_DATA_DIR, CADDY_STORAGE_DIR, ACME_CA_ROOT_FILE], ["/data", "/data/caddy", "/data/acme-ca-root.pem"], "paths on the volume survive a proxy upgrade");
  });
});

describe("renderProxyDockerfile: labels", () => {
  it("several labels, sorted, quoted, one LABEL over continuation lines; none without labels", () => {
    const text = renderProxyDockerfile({ baseImage: "python:3.12-slim", labels: { "pydeploy.proxy": "demo", "a.first": 'say "x"' } });
    assert.match(text, /^LABEL "a\.first"="say \\"x\\"" \\\n {6}"pydeploy\.proxy"="demo"$/m, "sorted keys, escaped values");
    assert.doesNotMatch(renderProxyDockerfile({ baseImage: "python:3.12-slim" }), /LABEL/, "no LABEL line");
  });
});

describe("renderCaddyfile: edge cases", () => {
  it("the ports and the default ACME directory", () => {
    assert.deepEqual([HTTP_PORT, HTTPS_PORT, LETS_ENCRYPT_DIRECTORY], [80, 443, "https://acme-v02.api.letsencrypt.org/directory"], "constants");
    assert.deepEqual(publishedPorts([{ publishedPort: 10000, upstream: web }, { publishedPort: 9000, upstream: web }]), [9000, 10000], "sorted as numbers");
  });

  it("a domain without ACME options: Let's Encrypt, no email, no CA root", () => {
    const text = renderCaddyfile({ sites: [{ domain: "app.example.com", upstream: web }] });
    assert.match(text, /^\tacme_ca https:\/\/acme-v02\.api\.letsencrypt\.org\/directory\n\}$/m, "Let's Encrypt last in the global block");
    assert.doesNotMatch(text, /email|acme_ca_root/, "nothing else");
  });

  it("ACME options without a domain change nothing (no certificate is asked for)", () => {
    const text = renderCaddyfile({ sites: [{ publishedPort: 8080, upstream: web }], acme: { email: "ops@example.com", directory: "https://ca.example/dir", customCaRoot: true } });
    assert.doesNotMatch(text, /email|acme_ca/, "no ACME lines");
  });

  it("retrySeconds: 1 and 300 are accepted, written as lb_try_duration; outside or fractional refused", () => {
    assert.match(renderCaddyfile({ sites: [{ publishedPort: 8080, upstream: web }], retrySeconds: 1 }), /^\t\tlb_try_duration 1s$/m, "1 s");
    assert.match(renderCaddyfile({ sites: [{ publishedPort: 8080, upstream: web }], retrySeconds: 300 }), /^\t\tlb_try_duration 300s$/m, "300 s");
    for (const bad of [301, 1.5]) {
      assert.throws(() => renderCaddyfile({ sites: [{ publishedPort: 8080, upstream: web }], retrySeconds: bad }), /^Error: invalid proxy config: retrySeconds: expected seconds from 1 to 300$/, `retrySeconds ${bad}`);
    }
  });

  it("validateProxyConfig: exact messages for sites", () => {
    const cases: [Parameters<typeof validateProxyConfig>[0], string][] = [
      [{ sites: undefined as never }, "invalid proxy config: sites: expected a list of sites"],
      [{ sites: [] }, "invalid proxy config: sites: expected at least one site (an HTTP role with a published port or a domain)"],
      [{ sites: ["x" as never] }, "invalid proxy config: sites.0: expected a proxy site"],
      [{ sites: [{ upstream: web } as never] }, "invalid proxy config: sites.0: expected a publishedPort or a domain"],
      [{ sites: [{ publishedPort: 80, upstream: undefined as never }] }, "invalid proxy config: sites.0.upstream: expected the upstream: a network alias and a port"],
      [{ sites: [{ publishedPort: 80, upstream: { alias: "-web", port: 1 } }] }, "invalid proxy config: sites.0.upstream.alias: expected a Docker network alias (lowercase letters, digits, '.', '_', '-')"],
      [{ sites: [{ publishedPort: 80, upstream: { alias: "web-", port: 1 } }] }, "invalid proxy config: sites.0.upstream.alias: expected a Docker network alias (lowercase letters, digits, '.', '_', '-')"],
      [{ sites: [{ publishedPort: 80, upstream: { alias: "web", port: 65536 } }] }, "invalid proxy config: sites.0.upstream.port: expected a port from 1 to 65535"],
      [{ sites: [{ domain: "app.example.com", upstream: { alias: "web", port: 0 } }] }, "invalid proxy config: sites.0.upstream.port: expected a port from 1 to 65535"],
      [{ sites: [{ publishedPort: 8080, upstream: web }, { publishedPort: 0, upstream: web }] }, "invalid proxy config: sites.1.publishedPort: expected a port from 1 to 65535"],
      [{ sites: [{ domain: "a.example.com", upstream: web }, { domain: "App.example.com", upstream: web }] }, "invalid proxy config: sites.1.domain: expected a lowercase domain name such as app.example.com"],
      [{ sites: [{ domain: "x.internal", upstream: web }] }, "invalid proxy config: sites.0.domain: expected a public name: ACME certificate authorities do not issue for local names"],
      [{ sites: [{ domain: "a.example.com", upstream: web }, { publishedPort: 443, upstream: { alias: "demo-api", port: 9000 } }] }, "published port 443 (upstream demo-api) is taken by HTTPS: with a domain, 443 serves it and 80 redirects to it"],
    ];
    for (const [options, message] of cases) assert.throws(() => validateProxyConfig(options), (err: Error) => err.message === message, message);
    for (const domain of ["a.b.co", "x-1.example.org", "localhost.example.com", "local.example.com", "my-home.arpa.example"]) {
      assert.doesNotThrow(() => validateProxyConfig({ sites: [{ domain, upstream: web }] }), `${domain} is a public name`);
    }
    for (const domain of ["example", "-a.example.com", "a-.example.com", "a.example.c0m-", "a..example.com", "a.example.com."]) {
      assert.throws(() => validateProxyConfig({ sites: [{ domain, upstream: web }] }), /sites\.0\.domain: expected a lowercase domain name/, `${domain} is refused`);
    }
    for (const alias of ["a", "demo_web.v2", `a${"b".repeat(62)}`]) assert.doesNotThrow(() => validateProxyConfig({ sites: [{ publishedPort: 80, upstream: { alias, port: 1 } }] }), `alias ${alias}`);
    assert.throws(() => validateProxyConfig({ sites: [{ publishedPort: 80, upstream: { alias: `a${"b".repeat(63)}`, port: 1 } }] }), /sites\.0\.upstream\.alias: expected a Docker network alias/, "64 characters is too long");
  });

  it("validateProxyConfig: ACME email and directory forms", () => {
    const site = { domain: "a.example.com", upstream: web };
    for (const email of ["ops@example.com", "a.b+c@sub.example.org"]) assert.doesNotThrow(() => validateProxyConfig({ sites: [site], acme: { email } }), `email ${email}`);
    for (const email of ["ops@example", "ops@@example.com", "o ps@example.com", "ops@exa{mple.com", "@example.com", "ops@.com"]) {
      assert.throws(() => validateProxyConfig({ sites: [site], acme: { email } }), /^Error: invalid proxy config: acme\.email: expected an email address$/, `email ${email}`);
    }
    for (const directory of ["https://ca.example/dir", "https://127.0.0.1:14000/dir"]) assert.doesNotThrow(() => validateProxyConfig({ sites: [site], acme: { directory } }), directory);
    for (const directory of ["https://", "https://ca.example/a b", "https://ca.example/#x", "ftp://ca.example/", "xhttps://ca.example/"]) {
      assert.throws(() => validateProxyConfig({ sites: [site], acme: { directory } }), /^Error: invalid proxy config: acme\.directory: expected an https:\/\/ URL$/, directory);
    }
  });
});
