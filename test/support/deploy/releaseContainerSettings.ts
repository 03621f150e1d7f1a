// A release of the app "demo" for the release logic's tests: the container settings they share,
// an image identity derived from the version; a web role with everything a role can have.
import type { ReleaseContainerSettings, RoleSettings } from "../../../components/deploy/containerSpec";

/** `version` also names the image identity (its hex characters, zero-padded to a sha256). */
export function demoReleaseContainerSettings(version: string, image: string, roles: RoleSettings[]): ReleaseContainerSettings {
  return {
    app: "demo",
    image,
    imageIdentity: `sha256:${version.padEnd(64, "0").slice(0, 64).replace(/[^0-9a-f]/g, "0")}`,
    roles,
    envFile: ".pydeploy/demo/app.env",
    logMaxSize: "10m",
    logMaxFiles: 3,
    stopGraceSeconds: 30,
    version,
  };
}

export const DEMO_IMAGE_ID = `sha256:${"4f1c2b3a9d8e".padEnd(64, "0")}`;

/** A web role with a published port, an HTTP gate and a healthcheck. */
export const DEMO_WEB_ROLE: RoleSettings = {
  role: "web",
  command: ["python", "-m", "demo.web"],
  ports: [{ host: 80, container: 8000 }],
  gate: { kind: "http", port: 8000, path: "/health" },
  healthcheck: { test: ["python", "-c", "import sys; sys.exit(0)"], intervalSeconds: 10, timeoutSeconds: 3, retries: 3, startPeriodSeconds: 5 },
  mounts: [],
  upstreams: [],
};
