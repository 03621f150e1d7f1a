// pip's index options (components/image/pipIndex.ts): the arguments every pip run gets.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pipIndexArgs } from "../../components/image/pipIndex";

describe("pipIndexArgs", () => {
  it("index, extra index, then each trusted host; nothing when nothing is set", () => {
    assert.deepEqual(
      pipIndexArgs({ indexUrl: "https://mirror.example/simple/", extraIndexUrl: "http://10.0.0.5:3141/simple/", trustedHosts: ["10.0.0.5:3141", "mirror.example"] }),
      ["--index-url", "https://mirror.example/simple/", "--extra-index-url", "http://10.0.0.5:3141/simple/", "--trusted-host", "10.0.0.5:3141", "--trusted-host", "mirror.example"],
      "every option, in a fixed order",
    );
    assert.deepEqual(pipIndexArgs({ trustedHosts: [] }), [], "PyPI, verified: no option");
    assert.deepEqual(pipIndexArgs({ extraIndexUrl: "https://extra.example/simple/", trustedHosts: [] }), ["--extra-index-url", "https://extra.example/simple/"], "an extra index alone");
    assert.deepEqual(pipIndexArgs({ indexUrl: "", trustedHosts: [] }), ["--index-url", ""], "an empty string is still a given option");
  });
});
