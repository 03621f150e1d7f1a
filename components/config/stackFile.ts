// Reads Pulumi.<stack>.yaml without the Pulumi engine (for `npm run render` and the tests).
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { parseStackConfig, RawStackConfig, StackConfig } from "./schema";

// Encrypted values cannot be read here; stand-ins of the right shape let the rest validate.
const SECRET_STAND_INS: Record<string, string> = {
  sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\n(encrypted in the stack file)\n-----END OPENSSH PRIVATE KEY-----\n",
};
const SECRET_STAND_IN = "(encrypted in the stack file)";

export function readStackFile(projectDir: string, stack: string): RawStackConfig {
  const projectFile = path.join(projectDir, "Pulumi.yaml");
  const project = (parseYaml(fs.readFileSync(projectFile, "utf8")) as { name?: string })?.name;
  if (!project) throw new Error(`${projectFile}: expected a project name`);
  const stackFile = path.join(projectDir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(stackFile)) {
    const known = fs.readdirSync(projectDir).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).map((f) => f.slice(7, -5));
    throw new Error(`no stack file ${stackFile}; known stacks: ${known.join(", ") || "none"}`);
  }
  const doc = (parseYaml(fs.readFileSync(stackFile, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const values: Record<string, unknown> = {};
  const providerConfig: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc.config ?? {})) {
    if (k.startsWith(`${project}:`)) {
      const name = k.slice(project.length + 1);
      values[name] = replaceSecure(v, SECRET_STAND_INS[name] ?? SECRET_STAND_IN);
    } else {
      providerConfig[k] = replaceSecure(v, SECRET_STAND_IN);
    }
  }
  return { project, stack, values, providerConfig, baseDir: projectDir };
}

function replaceSecure(v: unknown, standIn: string): unknown {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 1 && entries[0][0] === "secure") return standIn;
    return Object.fromEntries(entries.map(([k, x]) => [k, replaceSecure(x, standIn)]));
  }
  if (Array.isArray(v)) return v.map((x) => replaceSecure(x, standIn));
  return v;
}

export function loadStackFile(projectDir: string, stack: string): StackConfig {
  return parseStackConfig(readStackFile(projectDir, stack));
}
