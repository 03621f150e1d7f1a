// The Caddyfile renderer (proxyConfig.ts): the sites, redirects and ACME settings it writes, and
// the configs it refuses.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { ProxyConfigOptions, proxySiteSchema, publishedPorts, renderCaddyfile } from "../../../components/deploy/proxy/proxyConfig";

/** A reviewed Caddyfile under expected/ (tabs as Caddy formats them). */
const expected = (name: string) => fs.readFileSync(path.join(__dirname, "expected", name), "utf8");
const web = { alias: "demo-web", port: 8000 };
const admin = { alias: "demo-admin", port: 9000 };

describe("renderCaddyfile", () => {
  it("a role without a domain: plain HTTP on its published port, to its alias, no keep-alive, retries", () => {
    assert.equal(
      renderCaddyfile({ sites: [{ publishedPort: 8080, upstream: web }] }),
      expected("plain-http.Caddyfile"),
      "the plain-HTTP Caddyfile",
    );
  });

  it("a domain: HTTPS site (Caddy redirects HTTP itself), Let's Encrypt by default, no ACME options without a domain", () => {
    const text = renderCaddyfile({
      sites: [{ domain: "app.example.com", upstream: web }, { publishedPort: 9000, upstream: admin }],
      acme: { email: "ops@example.com" },
      retrySeconds: 7,
    });
    assert.equal(text, expected("https-and-plain.Caddyfile"), "the HTTPS + plain Caddyfile");
  });

  it("a custom ACME directory and CA root (e.g. a test CA)", () => {
    const text = renderCaddyfile({
      sites: [{ domain: "demo.pydeploy.test", upstream: web }],
      acme: { directory: "https://pebble:14000/dir", customCaRoot: true },
    });
    assert.match(text, /^\tacme_ca https:\/\/pebble:14000\/dir\n\tacme_ca_root \/data\/acme-ca-root\.pem\n\}/m, "acme_ca and acme_ca_root in the global block");
    assert.doesNotMatch(text, /letsencrypt|email/, "no Let's Encrypt URL and no email when not asked");
    assert.match(text, /^demo\.pydeploy\.test \{$/m, "the site address is the bare domain (HTTPS with redirect)");
  });

  it("publishedPorts: the plain ports, plus 80 and 443 once for any number of domains", () => {
    assert.deepEqual(
      publishedPorts([
        { publishedPort: 9000, upstream: admin },
        { domain: "a.example.com", upstream: web },
        { domain: "b.example.com", upstream: web },
      ]),
      [80, 443, 9000],
      "sorted, 80/443 once",
    );
    assert.deepEqual(publishedPorts([{ publishedPort: 8000, upstream: web }]), [8000], "a plain site only");
  });
});

describe("proxySiteSchema: what the release step reads back", () => {
  it("a valid site parses to itself, a plain one and a domain one", () => {
    const plain = { publishedPort: 8080, upstream: web };
    const domain = { domain: "app.example.com", upstream: admin };
    assert.deepEqual(proxySiteSchema.parse(plain), plain, "plain HTTP site");
    assert.deepEqual(proxySiteSchema.parse(domain), domain, "domain site");
  });
});

describe("renderCaddyfile refuses what would not give a working proxy", () => {
  const cases: [string, ProxyConfigOptions, RegExp][] = [
    ["no site", { sites: [] }, /at least one site/],
    ["a bad alias", { sites: [{ publishedPort: 80, upstream: { alias: "Demo Web", port: 8000 } }] }, /sites\.0\.upstream\.alias: expected a Docker network alias/],
    ["a bad upstream port", { sites: [{ publishedPort: 80, upstream: { alias: "demo-web", port: 0 } }] }, /sites\.0\.upstream\.port: expected a port from 1 to 65535/],
    ["a bad published port", { sites: [{ publishedPort: 70000, upstream: web }] }, /sites\.0\.publishedPort: expected a port from 1 to 65535/],
    ["a port twice", { sites: [{ publishedPort: 8000, upstream: web }, { publishedPort: 8000, upstream: admin }] }, /published port 8000 is used by two sites \(upstreams demo-web and demo-admin\)/],
    ["a domain with a port", { sites: [{ domain: "a.example.com", publishedPort: 8443, upstream: web } as never] }, /sites\.0: expected no publishedPort with a domain: a domain is served on 443 \(and 80 redirects to it\)/],
    ["an upper-case domain", { sites: [{ domain: "App.example.com", upstream: web }] }, /sites\.0\.domain: expected a lowercase domain name such as app\.example\.com/],
    ["an IP as domain", { sites: [{ domain: "10.0.0.1", upstream: web }] }, /sites\.0\.domain: expected a lowercase domain name/],
    ["a local name", { sites: [{ domain: "app.localhost", upstream: web }] }, /sites\.0\.domain: expected a public name: ACME certificate authorities do not issue for local names/],
    ["home.arpa itself", { sites: [{ domain: "home.arpa", upstream: web }] }, /^Error: invalid proxy config: sites\.0\.domain: expected a public name: ACME certificate authorities do not issue for local names$/],
    ["an alias that is not a string", { sites: [{ publishedPort: 80, upstream: { alias: 8000 as never, port: 8000 } }] }, /^Error: invalid proxy config: sites\.0\.upstream\.alias: expected a Docker network alias/],
    ["a domain twice", { sites: [{ domain: "a.example.com", upstream: web }, { domain: "a.example.com", upstream: admin }] }, /domain a.example.com is used by two sites/],
    ["port 80 next to a domain", { sites: [{ domain: "a.example.com", upstream: web }, { publishedPort: 80, upstream: admin }] }, /published port 80 \(upstream demo-admin\) is taken by HTTPS/],
    ["a bad email", { sites: [{ domain: "a.example.com", upstream: web }], acme: { email: "ops at example" } }, /acme\.email: expected an email address/],
    ["an email ending in a brace", { sites: [{ domain: "a.example.com", upstream: web }], acme: { email: "ops@example.com}" } }, /^Error: invalid proxy config: acme\.email: expected an email address$/],
    ["an http directory", { sites: [{ domain: "a.example.com", upstream: web }], acme: { directory: "http://ca/dir" } }, /acme\.directory: expected an https:\/\/ URL/],
    ["a directory with a brace", { sites: [{ domain: "a.example.com", upstream: web }], acme: { directory: "https://ca/{x}" } }, /acme\.directory: expected an https:\/\/ URL/],
    ["retrySeconds 0", { sites: [{ publishedPort: 80, upstream: web }], retrySeconds: 0 }, /retrySeconds: expected seconds from 1 to 300/],
  ];
  for (const [what, options, message] of cases) {
    it(what, () => {
      assert.throws(() => renderCaddyfile(options), message, `${what} is refused with a clear message`);
    });
  }
});
