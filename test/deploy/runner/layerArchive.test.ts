// Which layers a host already has, and the names the containerd store needs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { normalizedName, presentPrefix } from "../../../components/deploy/runner/layerArchive";

const L = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

test("presentPrefix: the longest run of leading layers some host image has in the same order", () => {
  assert.equal(presentPrefix([L(1), L(2), L(3)], []), 0, "an empty host has nothing");
  assert.equal(presentPrefix([L(1), L(2), L(3)], [[L(1), L(2), L(4)]]), 2, "the same base, another code layer");
  assert.equal(presentPrefix([L(1), L(2), L(3)], [[L(2), L(3)]]), 0, "the same layers on other parents do not count");
  assert.equal(presentPrefix([L(1), L(2), L(3)], [[L(1)], [L(1), L(2), L(3), L(4)]]), 3, "all of it, from the best image");
});

test("normalizedName: what the containerd image store keys an archive's image by", () => {
  assert.equal(normalizedName("pydeploy/demo:0a1b2c3d4e5f"), "docker.io/pydeploy/demo:0a1b2c3d4e5f", "Docker Hub path");
  assert.equal(normalizedName("demo:1"), "docker.io/library/demo:1", "an official-image name");
  assert.equal(normalizedName("registry.example.com:5000/ns/demo:1"), "registry.example.com:5000/ns/demo:1", "a registry host stays");
  assert.equal(normalizedName("localhost/demo:1"), "localhost/demo:1", "localhost is a host");
});
