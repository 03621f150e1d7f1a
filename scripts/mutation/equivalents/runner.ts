// Equivalent mutants of the "runner" mutation group (stryker.config.mjs), with why.
import type { EquivalentMutant } from "../equivalentMutant";

const WALL_CLOCK =
  "a bound on the wall clock, checked between polls: `<` and `<=` (or `>=` and `>`) differ only when the elapsed time equals the bound " +
  "to the millisecond at the moment of the check, which no test can arrange (the fake host answers at once, polls are milliseconds apart).";

export const runnerEquivalents: EquivalentMutant[] = [
  {
    file: "components/deploy/runner/certificates.ts",
    mutator: "EqualityOperator",
    original: "Date.now() - started >= o.timeoutSeconds * 1000",
    replacement: "Date.now() - started > o.timeoutSeconds * 1000",
    why: WALL_CLOCK,
  },
  {
    file: "components/deploy/runner/remove.ts",
    mutator: "ConditionalExpression",
    original: 'case "everything":\n      break;',
    replacement: 'case "everything":',
    why: "removeApp's switch on the removal scope: everything is its last case, so without the break it falls off the end of the switch, as the break does.",
  },
  {
    file: "components/deploy/runner/remove.ts",
    mutator: "StringLiteral",
    original: '"everything"',
    replacement: '""',
    why: "removeApp's switch: a scope of everything then matches no case and the switch ends, as its own case (a bare break) does.",
  },
  {
    file: "components/deploy/runner/release.ts",
    mutator: "ConditionalExpression",
    original: "c.name !== name",
    replacement: "true",
    why:
      "bootRole: the running containers of the role other than the new one; the new one is never among them, since bootRole returned " +
      "already when it runs (existing?.running) and a stopped one is not running.",
  },
  {
    file: "components/deploy/runner/release.ts",
    mutator: "ConditionalExpression",
    original: "done.code === 0",
    replacement: "true",
    why: "the release command's marker: a failed `cat` of a missing marker writes nothing on stdout, so stdout.trim() === key (a non-empty hash) is false either way.",
  },
  {
    file: "components/deploy/runner/release.ts",
    mutator: "ConditionalExpression",
    original: "current",
    replacement: "true",
    why: "pruneImages runs only after a successful release, whose containers were started from spec.image: the host has that image, so current is always defined.",
  },
  {
    file: "components/deploy/runner/release.ts",
    mutator: "ConditionalExpression",
    original: "current",
    replacement: "false",
    why: "pruneImages: every role's new container runs spec.image, so its ID is already in `used` through the containers; adding it again changes nothing.",
  },
  { file: "components/deploy/runner/release.ts", mutator: "EqualityOperator", original: "Date.now() - started < releaseCommand.timeoutSeconds * 1000", replacement: "Date.now() - started <= releaseCommand.timeoutSeconds * 1000", why: WALL_CLOCK },
  { file: "components/deploy/runner/release.ts", mutator: "EqualityOperator", original: "elapsed() >= runningSeconds", replacement: "elapsed() > runningSeconds", why: WALL_CLOCK },
  { file: "components/deploy/runner/release.ts", mutator: "EqualityOperator", original: "elapsed() >= timeout", replacement: "elapsed() > timeout", why: WALL_CLOCK },
  {
    file: "components/deploy/runner/ship.ts",
    mutator: "ArrayDeclaration",
    original: "[]",
    replacement: '["Stryker was here"]',
    why:
      "hostImageLayers, for a host without images and for an image without RootFS.Layers: presentPrefix then reads the string as " +
      "layers (its characters), none of which is a sha256 diffID, so the host holds no layer of ours either way.",
  },
  {
    file: "components/deploy/runner/sshHost.ts",
    mutator: "ConditionalExpression",
    original: "err instanceof HostKeyError",
    replacement: "true",
    why: "parseHostKey: parseHostKeyLine (components/config/hostKey.ts) throws only HostKeyError, so the re-throw of anything else is a guard against future changes.",
  },
  {
    file: "components/deploy/runner/sshHost.ts",
    mutator: "Regex",
    original: "/=+$/",
    replacement: "/=+/",
    why: "fingerprint: a SHA-256 digest is 32 bytes, whose base64 is 44 characters with exactly one '=', at the end: the first run of '=' is the trailing one.",
  },
  {
    file: "components/deploy/runner/sshHost.ts",
    mutator: "Regex",
    original: "/=+$/",
    replacement: "/=$/",
    why: "fingerprint: the base64 of a 32-byte SHA-256 digest ends in exactly one '=', so removing one removes them all.",
  },
  {
    file: "components/deploy/runner/sshHost.ts",
    mutator: "ArrayDeclaration",
    original: '["ssh-ed25519"]',
    replacement: "[]",
    why:
      "an empty algorithm list is ssh2's default list (generateAlgorithmList), which starts with ssh-ed25519 where Node has EdDSA: a server " +
      "with the pinned ed25519 key presents it either way, and hostVerifier still refuses any other key.",
  },
  { file: "components/deploy/runner/sshHost.ts", mutator: "EqualityOperator", original: "Date.now() - lastReport > 30_000", replacement: "Date.now() - lastReport >= 30_000", why: WALL_CLOCK },
];
