#!/bin/sh
# Installs AUTHORIZED_KEY for every login user, starts dockerd, then runs sshd in the foreground.
set -eu
: "${AUTHORIZED_KEY:?AUTHORIZED_KEY (an OpenSSH public key) is required}"
for user in root deploy nodocker; do
  home=$(getent passwd "$user" | cut -d: -f6)
  mkdir -p "$home/.ssh"
  printf '%s\n' "$AUTHORIZED_KEY" > "$home/.ssh/authorized_keys"
  chmod 700 "$home/.ssh"
  chmod 600 "$home/.ssh/authorized_keys"
  chown -R "$user:" "$home/.ssh"
done
/usr/local/bin/start-dockerd.sh
exec /usr/sbin/sshd -D -e
