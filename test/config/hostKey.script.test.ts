import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { HostKeyError, parseHostKeyLine } from "../../components/config/hostKey";

const scratch = mkdtempSync(join(tmpdir(), "pydeploy-hostkey-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A real public key line ("type base64") from OpenSSH's ssh-keygen. */
function publicKey(type: "ed25519" | "ecdsa" | "rsa"): string {
  const file = join(scratch, type);
  const r = spawnSync("ssh-keygen", ["-q", "-t", type, ...(type === "rsa" ? ["-b", "2048"] : []), "-N", "", "-C", "", "-f", file], { encoding: "utf8" });
  if (r.error) throw new Error(`ssh-keygen must be installed to run these tests: ${r.error.message}`);
  assert.equal(r.status, 0, `ssh-keygen: ${r.stderr}`);
  return readFileSync(`${file}.pub`, "utf8").trim();
}

describe("parseHostKeyLine", () => {
  const ed25519 = publicKey("ed25519");
  const ecdsa = publicKey("ecdsa");
  const rsa = publicKey("rsa");

  test("accepts ed25519, ecdsa-sha2-nistp256 and ssh-rsa lines as ssh-keygen writes them", () => {
    for (const [line, type] of [[ed25519, "ssh-ed25519"], [ecdsa, "ecdsa-sha2-nistp256"], [rsa, "ssh-rsa"]]) {
      const parsed = parseHostKeyLine(line);
      assert.equal(parsed.type, type, `type of ${line.slice(0, 30)}`);
      assert.equal(parsed.line, line, "type and key, unchanged");
    }
  });

  test("accepts the line as ssh-keyscan prints it (host name first) and with a comment, keeping type and key only", () => {
    assert.equal(parseHostKeyLine(`203.0.113.7 ${ed25519}`).line, ed25519, "ssh-keyscan form");
    assert.equal(parseHostKeyLine(`[203.0.113.7]:2222 ${ed25519}`).line, ed25519, "ssh-keyscan form with a port");
    assert.equal(parseHostKeyLine(`  ${ed25519} root@box\n`).line, ed25519, "a .pub file with a comment");
  });

  const refusals: [string, (k: { ed25519: string; ecdsa: string }) => string, RegExp][] = [
    ["empty", () => "", /no key type \(ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa\) in the line/],
    ["a fingerprint instead of a key", () => "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", /no key type/],
    ["an unsupported type", () => "ssh-dss AAAAB3NzaC1kc3MAAACBAP", /key type ssh-dss is not supported/],
    ["no key data", () => "ssh-ed25519", /no key data after ssh-ed25519/],
    ["key data that is not base64", () => "ssh-ed25519 not*base64", /the key data after ssh-ed25519 is not base64/],
    ["a truncated key", ({ ed25519 }) => ed25519.slice(0, 40), /the key data after ssh-ed25519 is not a whole ssh-ed25519 public key \(truncated\?\)/],
    ["an ecdsa key labelled ed25519", ({ ecdsa }) => `ssh-ed25519 ${ecdsa.split(" ")[1]}`, /the key data is a ecdsa-sha2-nistp256 key, not ssh-ed25519/],
    ["a known_hosts marker", ({ ed25519 }) => `@cert-authority *.example.com ${ed25519}`, /unexpected "@cert-authority \*\.example\.com" before the key type/],
    ["an authorized_keys option", ({ ed25519 }) => `from="10.0.0.1" ${ed25519}`, /unexpected "from=\\"10\.0\.0\.1\\"" before the key type/],
  ];
  for (const [label, line, expected] of refusals) {
    test(`refuses ${label}, saying what is wrong`, () => {
      assert.throws(() => parseHostKeyLine(line({ ed25519, ecdsa })), (err: Error) => err instanceof HostKeyError && expected.test(err.message), label);
    });
  }
});
