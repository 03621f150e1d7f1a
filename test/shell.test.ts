import assert from "node:assert/strict";
import { test } from "node:test";
import { singleQuote } from "../components/shell";
import { run } from "./support/docker/localEngine";

test("singleQuote: bash and dash read back the exact text, quotes, $, backslashes and newlines included", async () => {
  const text = `it's "$HOME" \`id\` \\n $(echo no)\nline two ''`;
  for (const shell of ["bash", "dash"]) {
    const r = await run(shell, ["-c", `printf %s ${singleQuote(text)}`]);
    assert.equal(r.stdout, text, shell);
  }
  assert.equal(singleQuote("https://mirrors.aliyun.com/docker-ce"), "'https://mirrors.aliyun.com/docker-ce'", "plain text stays as written");
});
