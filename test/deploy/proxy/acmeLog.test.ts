// Reading a domain's certificate outcome from Caddy's log (components/deploy/proxy/acmeLog.ts),
// on lines Caddy 2.6.2 (Debian bookworm) logged against pebble: one domain the CA could not
// resolve, one it issued for (fixtures/caddy-acme.log).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { certificateOutcome } from "../../../components/deploy/proxy/acmeLog";

const CADDY_LOG = fs.readFileSync(path.join(__dirname, "fixtures", "caddy-acme.log"), "utf8");

describe("certificateOutcome: what Caddy's log says of a domain's order", () => {
  test("a failed order gives each failed challenge with the CA's problem, in log order", () => {
    const outcome = certificateOutcome(CADDY_LOG, "bad.pydeploy.test");
    assert.equal(outcome.kind, "failed");
    const problems = outcome.kind === "failed" ? outcome.problems : [];
    assert.equal(problems.length, 2, `one per challenge type: ${problems.join(" | ")}`);
    assert.match(problems[0], /^http-01: Get "http:\/\/bad\.pydeploy\.test:80\/\.well-known\/acme-challenge\/.*no such host/, "the URL the CA fetched and what it met");
    assert.match(problems[1], /^tls-alpn-01: Error occurred while resolving URL "bad\.pydeploy\.test"/);
  });

  test("an issued certificate is obtained; another domain's lines do not count", () => {
    assert.deepEqual(certificateOutcome(CADDY_LOG, "refused.pydeploy.test"), { kind: "obtained" });
    assert.deepEqual(certificateOutcome(CADDY_LOG, "other.pydeploy.test"), { kind: "pending" }, "no line names it");
  });

  test("a challenge failure without the order's end is still pending (Caddy tries the other challenge type)", () => {
    const firstFailure = CADDY_LOG.split("\n").slice(0, 3).join("\n");
    assert.deepEqual(certificateOutcome(firstFailure, "bad.pydeploy.test"), { kind: "pending" });
  });

  test("the latest order counts: a success after a failure is obtained, a failure after a success is failed with its own problems", () => {
    const line = (o: object) => JSON.stringify({ level: "info", logger: "tls.obtain", identifier: "a.example.com", ...o });
    const failed = [
      JSON.stringify({ logger: "http.acme_client", msg: "challenge failed", identifier: "a.example.com", challenge_type: "http-01", error: "first" }),
      line({ msg: "could not get certificate from issuer", error: "first" }),
    ];
    assert.deepEqual(certificateOutcome([...failed, line({ msg: "certificate obtained successfully" })].join("\n"), "a.example.com"), { kind: "obtained" });
    const later = [
      line({ msg: "certificate obtained successfully" }),
      JSON.stringify({ logger: "http.acme_client", msg: "challenge failed", identifier: "a.example.com", challenge_type: "http-01", error: "second" }),
      line({ msg: "could not get certificate from issuer", error: "second" }),
    ];
    assert.deepEqual(certificateOutcome([...failed, ...later].join("\n"), "a.example.com"), { kind: "failed", problems: ["http-01: second"] }, "the first order's problems are not repeated");
  });

  test("an order that failed without a challenge line gives the issuer's error; repeated problems are listed once", () => {
    const end = JSON.stringify({ logger: "tls.obtain", msg: "could not get certificate from issuer", identifier: "a.example.com", error: "HTTP 429 rateLimited" });
    assert.deepEqual(certificateOutcome(end, "a.example.com"), { kind: "failed", problems: ["HTTP 429 rateLimited"] });
    const twice = JSON.stringify({ logger: "http.acme_client", msg: "challenge failed", identifier: "a.example.com", challenge_type: "http-01", error: "refused" });
    assert.deepEqual(certificateOutcome([twice, twice, end].join("\n"), "a.example.com"), { kind: "failed", problems: ["http-01: refused"] });
  });

  test("only Caddy's ACME client and obtain loggers count: the same message from another logger is no outcome", () => {
    const from = (logger: string, msg: string) => JSON.stringify({ logger, msg, identifier: "a.example.com", challenge_type: "http-01", error: "x" });
    for (const msg of ["challenge failed", "could not get certificate from issuer", "certificate obtained successfully"]) {
      assert.deepEqual(certificateOutcome(from("http.log.access", msg), "a.example.com"), { kind: "pending" }, `${msg} from another logger`);
    }
    const otherChallenge = [from("tls.obtain", "challenge failed"), from("tls.obtain", "could not get certificate from issuer")].join("\n");
    assert.deepEqual(certificateOutcome(otherChallenge, "a.example.com"), { kind: "failed", problems: ["x"] }, "a challenge line from another logger adds no problem");
    const obtainedElsewhere = [from("http.acme_client", "could not get certificate from issuer"), from("http.acme_client", "certificate obtained successfully")].join("\n");
    assert.deepEqual(certificateOutcome(obtainedElsewhere, "a.example.com"), { kind: "pending" }, "order ends from another logger");
  });

  test("each order's problems are its own: a second failed order without challenge lines gives only its issuer's error", () => {
    const line = (o: object) => JSON.stringify({ identifier: "a.example.com", ...o });
    const text = [
      line({ logger: "http.acme_client", msg: "challenge failed", challenge_type: "http-01", error: "first" }),
      line({ logger: "tls.obtain", msg: "could not get certificate from issuer", error: "first order" }),
      line({ logger: "tls.obtain", msg: "could not get certificate from issuer", error: "second order" }),
    ].join("\n");
    assert.deepEqual(certificateOutcome(text, "a.example.com"), { kind: "failed", problems: ["second order"] });
  });

  test("missing fields are named as such", () => {
    const text = [
      JSON.stringify({ logger: "http.acme_client", msg: "challenge failed", identifier: "a.example.com" }),
      JSON.stringify({ logger: "tls.obtain", msg: "could not get certificate from issuer", identifier: "a.example.com" }),
    ].join("\n");
    assert.deepEqual(certificateOutcome(text, "a.example.com"), { kind: "failed", problems: ["challenge: no detail"] });
    const bare = JSON.stringify({ logger: "tls.obtain", msg: "could not get certificate from issuer", identifier: "a.example.com" });
    assert.deepEqual(certificateOutcome(bare, "a.example.com"), { kind: "failed", problems: ["no detail"] });
  });

  test("lines that are not Caddy's JSON are skipped, and fields of another type do not match", () => {
    const text = ["caddy starting", "{not json", "[1,2]", "null", JSON.stringify({ logger: "tls.obtain", msg: "certificate obtained successfully", identifier: ["a.example.com"] }), "  " + JSON.stringify({ logger: "tls.obtain", msg: "certificate obtained successfully", identifier: "b.example.com" })].join("\n");
    assert.deepEqual(certificateOutcome(text, "a.example.com"), { kind: "pending" });
    assert.deepEqual(certificateOutcome(text, "b.example.com"), { kind: "obtained" }, "indented lines are read");
  });
});
