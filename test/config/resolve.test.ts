// Values derived from the parsed config (components/config/resolve.ts) that more than one
// component relies on.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { baseImageOf } from "../../components/config/resolve";

describe("baseImageOf: the image the app and its proxy are built FROM, and the ship step pulls through a mirror", () => {
  it("is app.baseImage when set", () => {
    assert.equal(baseImageOf({ baseImage: "registry.example.com/py:3.12", python: "3.11" }), "registry.example.com/py:3.12", "the configured base wins over the Python version");
  });
  it("is the official slim image of app.python otherwise", () => {
    assert.equal(baseImageOf({ python: "3.11" }), "python:3.11-slim", "python:<version>-slim");
  });
});
