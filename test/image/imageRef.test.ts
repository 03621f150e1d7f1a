// IMAGE_REF: which image references pydeploy accepts where it writes one into a command line or
// a Dockerfile (a base image, an app or proxy image on the server).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IMAGE_REF } from "../../components/image/imageRef";

const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

describe("IMAGE_REF", () => {
  it("accepts the usual forms: registry with port, nested paths, one separator between parts, tags, digests", () => {
    for (const ref of [
      "a",
      "python:3.12-slim",
      "pydeploy/demo:abc123def456",
      "my_app.v2/web-1:Tag_1.0-rc",
      "registry.example.com:5000/team/app:1",
      "127.0.0.1:32777/ns/ex-d6c86c",
      `127.0.0.1:5000/ns/app@${DIGEST}`,
      `python:3.12@${DIGEST}`,
      `python:${"t".repeat(128)}`,
      "a:1/b:2",
    ]) {
      assert.ok(IMAGE_REF.test(ref), `${ref} is an image reference`);
    }
  });

  it("refuses shell syntax, whitespace, capitals in the name, empty parts and doubled separators, anywhere in the reference", () => {
    for (const ref of [
      "",
      "Python:3.12",
      "python :3.12",
      "python:3.12 ",
      " python",
      "python:3.12\n",
      "python;id",
      "python:3.12;id",
      "$(id)/x",
      "-python",
      "python-",
      "a..b",
      "a/",
      "/a",
      "a//b",
      "a:",
      ":tag",
      "a:-tag",
      "a:.tag",
      `python:${"t".repeat(129)}`,
      "a:tag:again",
      "a@sha256:0123",
      `a@sha256:${"0123456789ABCDEF".repeat(4)}`,
      `a@${DIGEST}x`,
      `a@md5:${"0".repeat(64)}`,
      "host:port/a",
      "a__b",
    ]) {
      assert.ok(!IMAGE_REF.test(ref), `${JSON.stringify(ref)} is not an image reference`);
    }
  });
});
