// The one dockerCommands argv that is shell code (writePrivateFile), run by this machine's sh
// the way the deployer runs it on a host: what lands in the file, its mode, and what a failed
// write says.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import * as cmd from "../../components/deploy/dockerCommands";
import { run } from "../support/docker/localEngine";

const dir = mkdtempSync(join(tmpdir(), "pydeploy-write-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("writePrivateFile run by sh", { timeout: 60_000 }, () => {
  it("writes stdin to the file, mode 600, replacing it atomically", async () => {
    const file = join(dir, "app env");
    writeFileSync(file, "OLD=1\n", { mode: 0o644 });
    const [exe, ...args] = cmd.writePrivateFile(file);
    await run(exe, args, { input: "A=1\nB='x y'\n" });
    assert.equal(readFileSync(file, "utf8"), "A=1\nB='x y'\n", "the content is stdin, verbatim");
    assert.equal(statSync(file).mode & 0o777, 0o600, "mode 600 even over a 644 file");
    assert.throws(() => statSync(`${file}.tmp`), /ENOENT/, "no temporary file is left");
  });

  it("a write into a missing folder fails, and the error names the shell and the path", async () => {
    const file = join(dir, "missing", "app.env");
    const [exe, ...args] = cmd.writePrivateFile(file);
    const r = await run(exe, args, { input: "A=1\n", allowFailure: true, timeoutMs: 30_000 });
    assert.notEqual(r.code, 0, "the write fails");
    assert.match(r.stderr, /^sh: /, `the message starts with the shell's name, as the deployer's log shows it: ${r.stderr}`);
    assert.ok(r.stderr.includes(`${file}.tmp`), `the message names the file it could not create: ${r.stderr}`);
    assert.throws(() => statSync(join(dir, "missing")), /ENOENT/, "no folder is created");
  });
});
