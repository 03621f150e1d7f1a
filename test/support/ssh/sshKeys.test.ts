import assert from "node:assert/strict";
import { test } from "node:test";
import { utils } from "ssh2";
import { generateSshKeyPair } from "./sshKeys";

test("generateSshKeyPair: 3000 ed25519 pairs all parse (raw ssh2 gets about one in 340 wrong, so nine wrong are expected here)", () => {
  for (let i = 0; i < 3000; i++) {
    const pair = generateSshKeyPair();
    const parsed = utils.parseKey(pair.private);
    assert.ok(!(parsed instanceof Error), `pair ${i} parses: ${parsed instanceof Error ? parsed.message : ""}`);
    assert.equal(parsed.type, "ssh-ed25519", `pair ${i} is ed25519`);
    assert.equal(pair.public.split(" ")[1], parsed.getPublicSSH().toString("base64"), `pair ${i}: the public line is the private key's public half`);
  }
});

test("generateSshKeyPair: rsa pairs and comments", () => {
  const rsa = generateSshKeyPair("rsa", "rotated");
  assert.match(rsa.public, /^ssh-rsa AAAA[A-Za-z0-9+/=]+ rotated$/, "an RSA public line with the comment");
  const ed = generateSshKeyPair("ed25519", "pydeploy-e2e");
  assert.match(ed.public, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/=]+ pydeploy-e2e$/, "a 32-byte ed25519 public line with the comment");
});
