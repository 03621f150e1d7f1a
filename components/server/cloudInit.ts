// ECS userData: a plain bash script (cloud-init runs any userData starting with "#!").
import { dockerInstallScript, FS_ROOT_ENV, type DockerInstallOptions } from "./dockerInstall";

export const CLOUD_INIT_LOG = "/var/log/pydeploy-cloud-init.log";

/**
 * The userData script, unencoded (the server component base64-encodes it). Output also goes to
 * cloud-init's own /var/log/cloud-init-output.log. `$PYDEPLOY_FS_ROOT` is a test seam, see FS_ROOT_ENV.
 */
export function renderCloudInit(o: DockerInstallOptions): string {
  return `#!/bin/bash
# pydeploy cloud-init: install and start Docker. Log: ${CLOUD_INIT_LOG}
set -euo pipefail
exec > >(tee -a "\${${FS_ROOT_ENV}:-}${CLOUD_INIT_LOG}") 2>&1
trap 'echo "pydeploy: cloud-init failed (exit $?) at line $LINENO" >&2' ERR
echo "pydeploy: cloud-init started at $(date -u +%Y-%m-%dT%H:%M:%SZ)"

${dockerInstallScript(o)}
echo "pydeploy: cloud-init finished at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
`;
}
