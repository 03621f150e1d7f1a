// Builds the example project's image with the generated build files, for tests that need a
// real app image. Changes the code in a temp copy, never in example/.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { AppConfig } from "../../../components/config/schema";
import { dockerfilePath, renderBuildFiles, writeBuildFiles } from "../../../components/image/buildFiles";
import { docker, EXAMPLE_DIR } from "./localEngine";

export interface ExampleImageOptions {
  /** Local tag to build, e.g. "pydeploy-e2e-1a2b/demo:v1". */
  tag: string;
  /** The app config the files are generated from (its path is replaced by the temp copy). */
  app: AppConfig;
  /** Replaces demo.__version__. */
  version?: string;
  /** What /health answers (e.g. 503 for an app that never becomes healthy). */
  healthStatus?: number;
}

export interface BuiltImage {
  image: string;
  /** `docker image inspect --format {{.Id}}`: sha256:<hex>, what docker.Image reports as repoDigest locally. */
  imageId: string;
}

export async function buildExampleImage(o: ExampleImageOptions): Promise<BuiltImage> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pydeploy-example-"));
  try {
    fs.cpSync(EXAMPLE_DIR, dir, { recursive: true, filter: (src) => !/[/\\](\.pydeploy|\.dockerignore)$/.test(src) });
    if (o.version !== undefined) replaceIn(path.join(dir, "demo", "__init__.py"), /^__version__ = .*$/m, `__version__ = ${JSON.stringify(o.version)}`);
    if (o.healthStatus !== undefined) {
      replaceIn(path.join(dir, "demo", "web.py"), 'self._reply(200, "ok\\n")', `self._reply(${o.healthStatus}, "health ${o.healthStatus}\\n")`);
    }
    const app = { ...o.app, path: dir };
    writeBuildFiles(dir, renderBuildFiles(app));
    await docker(["build", "--quiet", "-t", o.tag, "-f", dockerfilePath(app), dir], {
      env: { ...process.env, DOCKER_BUILDKIT: "0" },
      timeoutMs: 10 * 60_000,
    });
    const { stdout } = await docker(["image", "inspect", "--format", "{{.Id}}", o.tag]);
    return { image: o.tag, imageId: stdout.trim() };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function replaceIn(file: string, pattern: string | RegExp, replacement: string): void {
  const text = fs.readFileSync(file, "utf8");
  const changed = text.replace(pattern, replacement);
  if (changed === text) throw new Error(`could not change ${pattern} in ${file}`);
  fs.writeFileSync(file, changed);
}
