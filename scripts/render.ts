// `npm run render -- --stack <name> [--out <dir>]`: writes the generated build files for a
// stack's config without the Pulumi engine, and prints their paths (like `docker init`).
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../components/config/schema";
import { loadStackFile } from "../components/config/stackFile";
import { renderBuildFiles, writeBuildFiles } from "../components/image/buildFiles";

function main(): number {
  const { values } = parseArgs({
    options: { stack: { type: "string", short: "s" }, out: { type: "string", short: "o" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help || !values.stack) {
    console.error("usage: npm run render -- --stack <name> [--out <dir>]\n  Writes the Dockerfile, .dockerignore and entrypoint for Pulumi.<name>.yaml.\n  Default --out: the project's own directory (app.path), where `pulumi up` writes them too.");
    return values.help ? 0 : 2;
  }
  const projectDir = path.resolve(__dirname, "..");
  try {
    const config = loadStackFile(projectDir, values.stack);
    const out = values.out ? path.resolve(values.out) : config.app.path;
    for (const file of writeBuildFiles(out, renderBuildFiles(config.app))) console.log(file);
    return 0;
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : `render: ${(err as Error).message}`);
    return err instanceof ConfigError ? 2 : 1;
  }
}

process.exitCode = main();
