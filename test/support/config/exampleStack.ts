// Stack configs for tests: the committed `local` stack with overrides, through the real schema.
import { parseStackConfig, StackConfig } from "../../../components/config/schema";
import { readStackFile } from "../../../components/config/stackFile";
import { BASE_IMAGE, REPO_ROOT } from "../docker/localEngine";

export interface StackOverrides {
  /** Merged over the stack's `app` (top-level keys replace: `roles` replaces all roles). */
  app?: Record<string, unknown>;
  deploy?: Record<string, unknown>;
  secretEnv?: Record<string, string>;
}

/** The example project's stack, built FROM the local base image (no registry is reachable in tests). */
export function exampleStack(o: StackOverrides = {}): StackConfig {
  const raw = readStackFile(REPO_ROOT, "local");
  const app = { ...(raw.values.app as Record<string, unknown>), baseImage: BASE_IMAGE, ...o.app };
  return parseStackConfig({ ...raw, values: { ...raw.values, app, deploy: o.deploy ?? {}, secretEnv: o.secretEnv ?? {} } });
}
