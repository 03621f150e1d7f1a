// Provider models that need no Docker engine or SSH server: tls.PrivateKey (real keys, checked
// with OpenSSH's ssh-keygen), random.RandomPassword (generated once, secret, kept), mocked alicloud, CopyToRemote's Check in preview, and the error
// for a type without a model.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, test } from "node:test";
import { utils } from "ssh2";
import { isSecret, reveal } from "../support/engine";
import { bcryptMatches } from "../support/engine/providers/bcrypt";
import type { Wire } from "../support/engine/properties";
import { FIXTURES, fixtureRun, FixtureRun, mustSucceed, ops } from "../support/engine/fixtureRun";

const runs: FixtureRun[] = [];
const newRun = (fixture: string) => {
  const r = fixtureRun(fixture);
  runs.push(r);
  return r;
};
after(() => runs.forEach((r) => r.cleanup()));
const T = { timeout: 180_000 };

function sshKeygen(args: string[], keyText: string, dir: string): string {
  const file = path.join(dir, `key-${Math.random().toString(16).slice(2)}`);
  fs.writeFileSync(file, keyText, { mode: 0o600 });
  return execFileSync("ssh-keygen", [...args, "-f", file], { encoding: "utf8" });
}

test("tls.PrivateKey: real keys in the provider's formats; OpenSSH agrees; private outputs secret; a change replaces", T, async () => {
  const run = newRun("tls.ts");
  mustSucceed(await run.stack({}).up(), "up");
  const byName = Object.fromEntries(run.stack({}).resources().filter((r) => r.custom).map((r) => [r.name, r]));
  const expected: Record<string, { pem: string; type: string; bits: string }> = {
    rsa: { pem: "-----BEGIN RSA PRIVATE KEY-----\n", type: "ssh-rsa ", bits: "2048" },
    ed: { pem: "-----BEGIN PRIVATE KEY-----\n", type: "ssh-ed25519 ", bits: "256" },
    ec: { pem: "-----BEGIN EC PRIVATE KEY-----\n", type: "ecdsa-sha2-nistp256 ", bits: "256" },
  };
  for (const [name, want] of Object.entries(expected)) {
    const out = byName[name].outputs;
    const publicKey: string = reveal(out.publicKeyOpenssh);
    assert.ok(reveal(out.privateKeyPem).startsWith(want.pem), `${name}: privateKeyPem is ${want.pem.trim()}`);
    assert.ok(publicKey.startsWith(want.type), `${name}: publicKeyOpenssh starts with ${want.type}`);
    assert.ok(publicKey.endsWith("\n") && !publicKey.endsWith("\n\n"), `${name}: publicKeyOpenssh ends with one "\\n" (ssh.MarshalAuthorizedKey)`);
    for (const secretKey of ["privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"]) {
      assert.ok(isSecret(out[secretKey]), `${name}: ${secretKey} is secret`);
    }
    assert.equal(isSecret(out.publicKeyOpenssh), false, `${name}: the public key is plain`);
    // ssh-keygen derives the public key from the OpenSSH private key: the encodings agree.
    const derived = sshKeygen(["-y"], reveal(out.privateKeyOpenssh), run.dir);
    assert.equal(derived.trim(), publicKey.trim(), `${name}: ssh-keygen -y of privateKeyOpenssh gives publicKeyOpenssh`);
    const listed = sshKeygen(["-l", "-E", "sha256"], publicKey, run.dir);
    assert.equal(listed.split(" ")[1], reveal(out.publicKeyFingerprintSha256), `${name}: the SHA256 fingerprint is ssh-keygen's`);
    assert.equal(listed.split(" ")[0], want.bits, `${name}: key size`);
    const parsed = createPrivateKey(reveal(out.privateKeyPem));
    assert.equal(parsed.asymmetricKeyType, { rsa: "rsa", ed: "ed25519", ec: "ec" }[name], `${name}: privateKeyPem parses as its key type`);
    const openssh = utils.parseKey(reveal(out.privateKeyOpenssh));
    assert.ok(!(openssh instanceof Error), `${name}: ssh2 reads privateKeyOpenssh (what remote.Command would be given)`);
  }
  const replaced = mustSucceed(await run.stack({ "fixture:rsaBits": 3072 }).up(), "rsaBits change");
  assert.deepEqual(ops(replaced).sort(), ["ec:same", "ed:same", "rsa:create-replacement", "rsa:delete-replaced"], "only rsa is replaced");
  assert.deepEqual(ops(replaced).filter((o) => o.startsWith("rsa:")), ["rsa:create-replacement", "rsa:delete-replaced"], "a changed input replaces the key");
  const rsa = run.stack({}).resources().find((r) => r.name === "rsa")!;
  assert.equal(sshKeygen(["-l"], reveal(rsa.outputs.publicKeyOpenssh), run.dir).split(" ")[0], "3072", "the new key has the new size");
});

test("random.RandomPassword: generated once, secret in state and outputs, kept while nothing changes, replaced on a change", T, async () => {
  const run = newRun("random.ts");
  const first = mustSucceed(await run.stack({}).up(), "up");
  assert.deepEqual(ops(first), ["db:create", "cache:create"], "both passwords created");
  const passwords = () => Object.fromEntries(run.stack({}).resources().filter((r) => r.custom).map((r) => [r.name, r]));
  const created = passwords();
  for (const name of ["db", "cache"]) {
    const out = created[name].outputs;
    assert.equal(created[name].id, "none", `${name}: the ID is "none"`);
    assert.ok(isSecret(out.result) && isSecret(out.bcryptHash), `${name}: result and bcryptHash are secret in the state`);
    assert.equal(run.stack({}).plainValues().includes(reveal(out.result)), false, `${name}: the password appears nowhere in plain text`);
  }
  const db: string = reveal(created.db.outputs.result);
  const cache: string = reveal(created.cache.outputs.result);
  assert.match(db, /^[A-Za-z0-9]{24}$/, "db: 24 letters and digits (special: false)");
  assert.match(cache, /^[-_A-Za-z0-9]{32}$/, "cache: 32 characters, the override's specials");
  assert.ok((cache.match(/[0-9]/g) ?? []).length >= 4, `cache: at least 4 digits (${cache})`);
  assert.equal(bcryptMatches(reveal(created.db.outputs.bcryptHash), db), true, "db: bcryptHash is the password's bcrypt hash");
  const exported = first.outputs.passwords as Record<string, Wire>;
  assert.ok(isSecret(exported.db) && isSecret(exported.cache) && isSecret(first.outputs.dbHash), "the stack outputs are secret");
  assert.deepEqual(reveal(first.outputs.passwords), { db, cache }, "the outputs are the stored passwords");

  const again = mustSucceed(await run.stack({}).up(), "second up");
  assert.deepEqual(ops(again), ["db:same", "cache:same"], "no change: both kept");
  assert.deepEqual([reveal(passwords().db.outputs.result), reveal(passwords().cache.outputs.result)], [db, cache], "the same passwords");

  const longer = mustSucceed(await run.stack({ "fixture:length": 30 }).up(), "length change");
  assert.deepEqual(ops(longer), ["db:create-replacement", "cache:same", "db:delete-replaced"], "a changed length replaces db only");
  const newDb: string = reveal(passwords().db.outputs.result);
  assert.match(newDb, /^[A-Za-z0-9]{30}$/, "the new db password has 30 characters");
  const rotated = mustSucceed(await run.stack({ "fixture:length": 30, "fixture:rotation": "2" }).up(), "keepers change");
  assert.deepEqual(ops(rotated), ["db:same", "cache:create-replacement", "cache:delete-replaced"], "a changed keeper replaces cache only");
  assert.notEqual(reveal(passwords().cache.outputs.result), cache, "a new cache password");
  assert.equal(reveal(passwords().db.outputs.result), newDb, "db kept");
});

test("mocked alicloud: outputs from the cloud module, invokes answered, ForceNew replaces, ignoreChanges respected", T, async () => {
  const run = newRun("cloud.ts");
  const cloud = path.join(FIXTURES, "mockCloud.ts");
  const base = { "fixture:instanceType": "ecs.t6-c1m2.large", "fixture:diskCategory": "cloud_essd", "fixture:userData": "v1" };
  const first = mustSucceed(await run.stack(base, { cloud }).up(), "up");
  assert.equal(reveal(first.outputs.publicIp), "198.51.100.7", "the Instance's publicIp comes from the cloud module");
  assert.equal(reveal(first.outputs.zone), "cn-hangzhou-h", "the getZones invoke was answered");
  const server = run.stack({}).resources().find((r) => r.name === "server")!;
  assert.equal(server.id, "server-mock-id", "the ID comes from the cloud module");
  assert.equal(reveal(server.inputs.tags).vpc, "vpc-mock-id", "inputs flow between mocked resources");

  const ignored = mustSucceed(await run.stack({ ...base, "fixture:userData": "v2" }, { cloud }).up(), "userData change");
  assert.deepEqual(ops(ignored), ["vpc:same", "server:same"], "an ignored input change is no change");
  const updated = mustSucceed(await run.stack({ ...base, "fixture:instanceType": "ecs.g7.large" }, { cloud }).up(), "type change");
  assert.deepEqual(ops(updated), ["vpc:same", "server:update"], "instanceType updates in place");
  const replaced = mustSucceed(await run.stack({ ...base, "fixture:instanceType": "ecs.g7.large", "fixture:diskCategory": "cloud_auto" }, { cloud }).up(), "disk change");
  assert.deepEqual(ops(replaced), ["vpc:same", "server:create-replacement", "server:delete-replaced"], "systemDiskCategory is ForceNew");

  const unanswered = await run.stack(base).preview();
  assert.equal(unanswered.ok, false, "without a cloud module the lookup cannot be answered");
  assert.match(unanswered.error ?? "", /no cloud model answer for invoke alicloud:index\/getZones:getZones/, "the error names the invoke");
});

test("CopyToRemote with a source computed from an unknown output fails Check in preview", T, async () => {
  const run = newRun("copy.ts");
  const config = { "fixture:host": "192.0.2.1", "fixture:privateKey": "unused", "fixture:dir": run.dir, "fixture:version": "1" };
  const preview = await run.stack(config, { secretKeys: ["fixture:privateKey"] }).preview();
  assert.equal(preview.ok, false, "the first preview fails");
  assert.match(
    preview.error ?? "",
    /command:remote:CopyToRemote resource 'upload': property asset value <nil> has a problem: either asset or archive must be set/,
    "pulumi-command 1.2.1's Check failure",
  );
  assert.deepEqual(ops(preview), ["make:create"], "only the local command was planned");
  assert.equal(fs.existsSync(path.join(run.dir, "payload.txt")), false, "preview ran nothing");
});

test("a type without a provider model fails the run, never faked", T, async () => {
  const run = newRun("unmodelled.ts");
  const r = await run.stack({}).preview();
  assert.equal(r.ok, false, "the run fails");
  assert.match(r.error ?? "", /no provider model for docker:index\/container:Container/, "the error names the type");
});
