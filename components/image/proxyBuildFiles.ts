// The reverse proxy's build files: a Dockerfile FROM the app's own base image, so the proxy
// shares the base layers the server already has and needs no other registry. Pure.
import { baseImageOf } from "../config/resolve";
import type { AppConfig } from "../config/schema";
import { LABEL_PROXY } from "./labels";
import { renderProxyDockerfile } from "./proxyDockerfile";
import { GENERATED_DIR, type GeneratedFile } from "./buildFiles";

/** The proxy's build context, inside the project's generated folder (which the app's context ignores). */
export const PROXY_BUILD_DIR = `${GENERATED_DIR}/proxy`;

export function proxyBuildFile(app: AppConfig): GeneratedFile {
  return {
    relativePath: `${PROXY_BUILD_DIR}/Dockerfile`,
    contents: renderProxyDockerfile({ baseImage: baseImageOf(app), labels: { [LABEL_PROXY]: app.name } }),
    mode: 0o644,
  };
}
