// The ship step's archives, without a Docker engine: a `docker save` unpacked and checked, the
// archive of missing layers both image stores load, which layers a host already has, and the
// names the containerd store needs.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import { describe, test } from "node:test";
import { createGunzip } from "node:zlib";
import { checkLayers, layerArchive, normalizedName, presentPrefix, unpackSave } from "../../../components/deploy/runner/layerArchive";
import { readArchive, syntheticSave } from "../../support/docker/dockerSave";

const L = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

test("presentPrefix: the longest run of leading layers some host image has in the same order", () => {
  assert.equal(presentPrefix([L(1), L(2), L(3)], []), 0, "an empty host has nothing");
  assert.equal(presentPrefix([L(1), L(2), L(3)], [[L(1), L(2), L(4)]]), 2, "the same base, another code layer");
  assert.equal(presentPrefix([L(1), L(2), L(3)], [[L(2), L(3)]]), 0, "the same layers on other parents do not count");
  assert.equal(presentPrefix([L(1), L(2), L(3)], [[L(1)], [L(1), L(2), L(3), L(4)]]), 3, "all of it, from the best image");
  assert.equal(presentPrefix([L(1), L(2)], [[L(1), L(2)]]), 2, "an image the host holds layer for layer");
  assert.equal(presentPrefix([L(1), L(2), L(3)], [[L(1), L(2)]]), 2, "a host image that is our base");
});

test("normalizedName: what the containerd image store keys an archive's image by", () => {
  assert.equal(normalizedName("pydeploy/demo:0a1b2c3d4e5f"), "docker.io/pydeploy/demo:0a1b2c3d4e5f", "Docker Hub path");
  assert.equal(normalizedName("demo:1"), "docker.io/library/demo:1", "an official-image name");
  assert.equal(normalizedName("registry.example.com:5000/ns/demo:1"), "registry.example.com:5000/ns/demo:1", "a registry host stays");
  assert.equal(normalizedName("localhost/demo:1"), "localhost/demo:1", "localhost is a host");
});

describe("unpackSave: a `docker save` stream, unpacked and checked", () => {
  test("plain and gzip'd layers come out as uncompressed tars named by their diffIDs", async () => {
    const save = syntheticSave({ tag: "pydeploy/demo:0123456789ab", layers: ["base\n", "code\n"], gzipped: [false, true] });
    const saved = await unpackSave(Readable.from([save.archive]));
    try {
      assert.deepEqual(saved.layers.map((l) => l.diffId), save.diffIds, "the diffIDs of the uncompressed layers, in order");
      assert.equal(saved.configDigest, save.configDigest, "the config's digest");
      for (const layer of saved.layers) {
        const bytes = fs.readFileSync(layer.file);
        assert.equal(layer.size, bytes.length, "the size is the uncompressed tar's");
        assert.equal(`sha256:${createHash("sha256").update(bytes).digest("hex")}`, layer.diffId, "the file on disk is the uncompressed tar");
      }
      assert.ok(saved.layers[1].file.endsWith("layer-1.tar"), `the gzip'd layer is unpacked to its own file: ${saved.layers[1].file}`);
      assert.ok(saved.layers[0].file.endsWith(path.join("0", "layer.tar")), `a plain layer is used where it lies: ${saved.layers[0].file}`);
    } finally {
      saved.dispose();
    }
    assert.ok(!fs.existsSync(saved.dir), "dispose removes the unpacked files");
  });

  const broken: [string, Parameters<typeof syntheticSave>[0], RegExp][] = [
    ["two images", { tag: "a:1", layers: ["x"], manifest: (e) => [e, e] }, /^docker save wrote 2 images; expected exactly one$/],
    ["no image", { tag: "a:1", layers: ["x"], manifest: () => [] }, /^docker save wrote 0 images; expected exactly one$/],
    ["a layer the config does not list", { tag: "a:1", layers: ["x", "y"], diffIds: (d) => d.slice(0, 1) }, /^docker save: 2 layers, but the config lists 1$/],
    ["a gzip'd layer that is not the config's", { tag: "a:1", layers: ["x", "y"], gzipped: [false, true], diffIds: (d) => [d[0], d[0]] }, /^docker save: layer 1 \(1\/layer\.tar\) is sha256:[0-9a-f]{64}, not the config's sha256:[0-9a-f]{64}$/],
  ];
  for (const [what, layout, message] of broken) {
    test(`refuses a save with ${what}, and leaves no files behind`, async () => {
      const before = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("pydeploy-save-")).length;
      await assert.rejects(unpackSave(Readable.from([syntheticSave(layout).archive])), { message }, "the save is refused with what is wrong");
      assert.equal(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("pydeploy-save-")).length, before, "its temp dir is gone");
    });
  }
});

describe("checkLayers: a plain layer is hashed only when it is sent", () => {
  test("a plain layer that is not the config's is found when it is to be sent, not when the host has it", async () => {
    const save = syntheticSave({ tag: "a:1", layers: ["x", "y"], diffIds: (d) => [d[1], d[1]] });
    const saved = await unpackSave(Readable.from([save.archive]));
    try {
      assert.deepEqual(saved.layers.map((l) => l.checked), [false, false], "unpacked without reading the plain layers");
      await checkLayers(saved, 1);
      assert.deepEqual(saved.layers.map((l) => l.checked), [false, true], "only the layer to send was hashed");
      await assert.rejects(checkLayers(saved, 0), { message: /^docker save: layer 0 \(0\/layer\.tar\) is sha256:[0-9a-f]{64}, not the config's sha256:[0-9a-f]{64}$/ }, "sending every layer finds the wrong one");
    } finally {
      saved.dispose();
    }
  });

  test("a layer checked once is not read again", async () => {
    const save = syntheticSave({ tag: "a:1", layers: ["x", "y"] });
    const saved = await unpackSave(Readable.from([save.archive]));
    try {
      await checkLayers(saved, 0);
      // Changed on disk after its check: a second check (the fallback's send of every layer) does not read it.
      fs.writeFileSync(saved.layers[0].file, "changed");
      await checkLayers(saved, 0);
      assert.deepEqual(saved.layers.map((l) => l.checked), [true, true], "both checked");
    } finally {
      saved.dispose();
    }
  });
});

describe("layerArchive: what `docker load` gets on either image store", () => {
  const TAG = "pydeploy/demo:0123456789ab";

  async function archive(skip: number) {
    const save = syntheticSave({ tag: TAG, layers: ["base\n", "deps\n", "code\n"] });
    const saved = await unpackSave(Readable.from([save.archive]));
    try {
      return { save, saved, entries: await readArchive(layerArchive(saved, TAG, skip).pipe(createGunzip())) };
    } finally {
      saved.dispose();
    }
  }
  const blob = (digest: string) => `blobs/sha256/${digest.slice("sha256:".length)}`;
  const json = (entries: Map<string, Buffer>, name: string) => JSON.parse(entries.get(name)?.toString() ?? "null");

  test("skip 1: every layer is listed, only the last two are included, plus the config", async () => {
    const { save, saved, entries } = await archive(1);
    const blobs = [...entries.keys()].filter((k) => k.startsWith("blobs/sha256/") && entries.get(k)!.length > 0).sort();
    const manifestBlob = blobs.find((b) => ![save.configDigest, ...save.diffIds].map(blob).includes(b));
    assert.deepEqual(blobs, [blob(save.configDigest), blob(save.diffIds[1]), blob(save.diffIds[2]), manifestBlob].sort(), "the config, the two layers from skip on, and the OCI manifest");
    for (const [i, l] of saved.layers.entries()) if (i >= 1) assert.equal(entries.get(blob(l.diffId))!.length, l.size, `layer ${i} is the uncompressed tar`);

    assert.deepEqual(json(entries, "manifest.json"), [{ Config: blob(save.configDigest), RepoTags: [TAG], Layers: save.diffIds.map(blob) }], "manifest.json (classic store) lists every layer and the tag");
    assert.deepEqual(json(entries, "oci-layout"), { imageLayoutVersion: "1.0.0" }, "an OCI layout");

    const ociManifest = entries.get(manifestBlob!)!;
    assert.equal(`sha256:${createHash("sha256").update(ociManifest).digest("hex")}`, `sha256:${manifestBlob!.slice("blobs/sha256/".length)}`, "the OCI manifest is stored under its digest");
    assert.deepEqual(
      JSON.parse(ociManifest.toString()),
      {
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: save.configDigest, size: entries.get(blob(save.configDigest))!.length },
        layers: saved.layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: l.diffId, size: l.size })),
      },
      "the OCI manifest lists every layer, uncompressed (digest = diffID)",
    );
    assert.deepEqual(
      json(entries, "index.json"),
      {
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [
          {
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            digest: `sha256:${manifestBlob!.slice("blobs/sha256/".length)}`,
            size: ociManifest.length,
            annotations: { "io.containerd.image.name": `docker.io/${TAG}`, "org.opencontainers.image.ref.name": "0123456789ab" },
          },
        ],
      },
      "index.json (containerd store) names the image fully qualified, and its tag",
    );
  });

  test("skip 0 includes every layer; skip 3 none", async () => {
    const all = await archive(0);
    for (const d of all.save.diffIds) assert.ok(all.entries.get(blob(d))?.length, `layer ${d} is included`);
    const none = await archive(3);
    for (const d of none.save.diffIds) assert.ok(!none.entries.get(blob(d))?.length, `layer ${d} is left out`);
    assert.equal(json(none.entries, "manifest.json")[0].Layers.length, 3, "but still listed");
  });

  test("the same layer twice in an image is included once", async () => {
    const save = syntheticSave({ tag: TAG, layers: ["same\n", "same\n"] });
    assert.equal(save.diffIds[0], save.diffIds[1], "two identical layers");
    const saved = await unpackSave(Readable.from([save.archive]));
    try {
      const entries = await readArchive(layerArchive(saved, TAG, 0).pipe(createGunzip()));
      assert.equal(entries.get(blob(save.diffIds[0]))!.length, saved.layers[0].size, "one blob for both");
    } finally {
      saved.dispose();
    }
  });
});
