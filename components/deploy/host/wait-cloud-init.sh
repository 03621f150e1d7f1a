#!/usr/bin/env bash
# Usage: wait-cloud-init.sh
# Waits until the server has finished booting (cloud-init, where there is one) and says so.
# Exit 0: ready (cloud-init done, degraded, or absent); 1: cloud-init failed.
set -euo pipefail

if command -v cloud-init >/dev/null 2>&1; then
  status=0
  cloud-init status --wait >/dev/null 2>&1 || status=$?
  cloud-init status 2>&1 || true
  case $status in
    0) ;;
    2) echo "pydeploy: cloud-init finished with recoverable errors; carrying on" ;;
    *)
      echo "pydeploy: error: cloud-init failed (exit $status); see /var/log/cloud-init-output.log on the server" >&2
      exit 1
      ;;
  esac
fi
echo "pydeploy: server ready: $(uname -sr), user $(id -un)"
