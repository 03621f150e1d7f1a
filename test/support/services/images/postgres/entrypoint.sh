#!/usr/bin/env bash
# Usage: docker-entrypoint.sh [postgres [OPTION...] | COMMAND...]
# The official postgres image's entrypoint, reduced to what pydeploy relies on (read from
# docker-library/postgres 15/bookworm/docker-entrypoint.sh): as root, make PGDATA postgres's and
# start again as postgres; on a data directory without PG_VERSION, initdb with POSTGRES_USER as
# the superuser and POSTGRES_PASSWORD as its password, `host all all all <password_encryption>`
# appended to pg_hba.conf, POSTGRES_DB created; then exec postgres (PID 1, so it gets the stop
# signal). A data directory with PG_VERSION is used as it is. Not supported: *_FILE variables,
# /docker-entrypoint-initdb.d, POSTGRES_INITDB_WALDIR, an arbitrary --user without a passwd entry.
set -Eeo pipefail

# A first argument that is an option is an option of postgres.
if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi

wants_help() {
  local arg
  for arg; do
    case "$arg" in
      -'?' | --help | --describe-config | -V | --version) return 0 ;;
    esac
  done
  return 1
}

if [ "$1" != postgres ] || wants_help "$@"; then
  exec "$@"
fi

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${POSTGRES_PASSWORD:=}"
: "${POSTGRES_INITDB_ARGS:=}"
: "${POSTGRES_HOST_AUTH_METHOD:=}"
export POSTGRES_USER POSTGRES_DB POSTGRES_PASSWORD POSTGRES_INITDB_ARGS POSTGRES_HOST_AUTH_METHOD

mkdir -p "$PGDATA"
chmod 700 "$PGDATA" || :
mkdir -p /var/run/postgresql || :
chmod 3775 /var/run/postgresql || :

if [ "$(id -u)" = 0 ]; then
  # A volume made by root (or copied from elsewhere) becomes postgres's; then start again as postgres.
  find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
  find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
  HOME=/var/lib/postgresql exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ -s "$PGDATA/PG_VERSION" ]; then
  printf '\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n'
  exec "$@"
fi

if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
  cat >&2 <<'EOE'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".
EOE
  exit 1
fi

# initdb's own pg_hba.conf (trust for the socket and for 127.0.0.1/::1) as in the official image;
# the password file keeps the password off the command line (a trailing newline: initdb refuses an empty file).
# shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of options, split on purpose
initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS

# Every other host authenticates with the method the server hashes passwords with (scram-sha-256
# on 15), unless POSTGRES_HOST_AUTH_METHOD says otherwise.
shift # postgres
method=${POSTGRES_HOST_AUTH_METHOD:-$(postgres -C password_encryption "$@")}
printf '\nhost all all all %s\n' "$method" >> "$PGDATA/pg_hba.conf"

# A server on the socket only, to create the database; stopped again before the real start.
pg_ctl -D "$PGDATA" -o "$(printf '%q ' "$@" -c listen_addresses='' -p "${PGPORT:-5432}")" -w start
sql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc --dbname postgres)
exists=$(PGHOST='' PGHOSTADDR='' "${sql[@]}" --set db="$POSTGRES_DB" --tuples-only <<<"SELECT 1 FROM pg_database WHERE datname = :'db';")
if [ -z "$exists" ]; then
  PGHOST='' PGHOSTADDR='' "${sql[@]}" --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
fi
pg_ctl -D "$PGDATA" -m fast -w stop
printf '\nPostgreSQL init process complete; ready for start up.\n\n'

exec postgres "$@"
