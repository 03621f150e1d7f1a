// A release of the app "demo" for the release logic's tests: the container settings they share,
// an image identity derived from the version.
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
