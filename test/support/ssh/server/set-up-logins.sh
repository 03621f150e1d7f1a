#!/bin/sh
# Usage: set-up-logins.sh   (run once while building a test server image, as root)
# Key-only logins. root's login shell is dash, so every command line is also checked under sh;
# `deploy` may use Docker, `nodocker` may not (the deploy must say so, not fail obscurely).
set -eu
mkdir -p /run/sshd
printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUseDNS no\n' \
  > /etc/ssh/sshd_config.d/pydeploy-test.conf
usermod -s /bin/sh root
useradd --create-home --shell /bin/sh --groups docker deploy
useradd --create-home --shell /bin/bash nodocker
