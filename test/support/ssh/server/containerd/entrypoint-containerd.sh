#!/bin/sh
# The containerd-store server: containerd first, then the classic server's entrypoint
# (authorized keys, dockerd, sshd in the foreground).
set -eu
/usr/local/bin/start-containerd.sh
exec /usr/local/bin/entrypoint.sh
