// The tests' PostgreSQL and Redis images: stand-ins for the official postgres and redis images
// (no registry is reachable), built from Debian packages by scripts/ensure-service-images.sh
// from the Dockerfiles and entrypoints in images/.
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { BASE_IMAGE, REPO_ROOT } from "../docker/localEngine";

/** PostgreSQL 15 (Debian bookworm's) with the official postgres image's interface. */
export const TEST_POSTGRES_IMAGE = process.env.PYDEPLOY_TEST_POSTGRES_IMAGE ?? "pydeploy-test/postgres:15";
/** Redis 7.0 (Debian bookworm's) with the official redis image's interface. */
export const TEST_REDIS_IMAGE = process.env.PYDEPLOY_TEST_REDIS_IMAGE ?? "pydeploy-test/redis:7";

export interface ServiceImages {
  postgres: string;
  redis: string;
}

/**
 * Builds the two images when they are missing or their build files (or the base image) changed,
 * and returns their names. The first build takes about a minute (apt from Debian's mirror).
 */
export function ensureServiceImages(): ServiceImages {
  execFileSync("bash", [path.join(REPO_ROOT, "scripts", "ensure-service-images.sh")], {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, PYDEPLOY_BASE_IMAGE: BASE_IMAGE, PYDEPLOY_TEST_POSTGRES_IMAGE: TEST_POSTGRES_IMAGE, PYDEPLOY_TEST_REDIS_IMAGE: TEST_REDIS_IMAGE },
  });
  return { postgres: TEST_POSTGRES_IMAGE, redis: TEST_REDIS_IMAGE };
}
