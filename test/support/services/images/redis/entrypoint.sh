#!/bin/sh
# Usage: docker-entrypoint.sh [redis-server [CONFIG-FILE] [--OPTION VALUE...] | COMMAND...]
# The official redis image's entrypoint (docker-library/redis 7.0/debian/docker-entrypoint.sh):
# options or a *.conf first mean redis-server; as root, every file in the working directory
# (/data) not owned by redis becomes redis's, then it starts again as redis; umask 0077; exec.
# One addition: the official image compiles redis with protected mode off by default (its
# Dockerfile patches config.c), Debian's binary has it on, so `--protected-mode no` goes right
# after redis-server (or after the config file, when the file does not set protected-mode):
# what a config file or a later option says still wins, as it would over the compiled default.
set -e

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

if [ "$1" = redis-server ]; then
  shift
  if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
    # A config file: redis-server takes it only as the first argument.
    config=$1
    shift
    if grep -Eqi '^[[:space:]]*protected-mode[[:space:]]' "$config" 2>/dev/null; then
      set -- redis-server "$config" "$@"
    else
      set -- redis-server "$config" --protected-mode no "$@"
    fi
  else
    set -- redis-server --protected-mode no "$@"
  fi
fi

um=$(umask)
if [ "$um" = 0022 ]; then
  umask 0077
fi

exec "$@"
