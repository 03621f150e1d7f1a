// The remote deployment steps as data: each step is one command line (create, and delete for
// `pulumi destroy`) that the SSH user's login shell runs. Pure: no I/O, no Pulumi. The Pulumi
// component and the end-to-end tests both run exactly these strings.
//
// Every step is a bash script wrapped as `bash -c '<script>'`, so the login shell may be sh,
// dash or bash. Scripts cd to $HOME first: the layout's relative paths (and docker's
// --env-file) resolve against the SSH user's home, like Kamal's ~/.kamal. Secrets only ever
// arrive on stdin (RemoteStep.stdin), never in a command line.
import * as path from "node:path";
import { quote } from "shell-quote";
import { singleQuote } from "../shell";
import {
  containerName,
  dockerRunArgs,
  HealthGate,
  IMAGE_ID,
  IMAGE_REF,
  LABEL_APP,
  LABEL_ROLE,
  ReleaseSpec,
  RoleSpec,
  SLUG,
  validateReleaseSpec,
} from "./containerSpec";

export interface RemoteStep {
  create: string;
  delete?: string;
  stdin?: "envFile" | "registryPassword";
}

export interface AppLayout {
  app: string;
  dir: string;
  envFile: string;
  incomingDir: string;
}

export interface DeployPlanInput {
  layout: AppLayout;
  dockerInstallScript: string;
  ship:
    | { mode: "copy"; imageId: string; image: string }
    | { mode: "registry"; registryServer: string; username: string; imageRef: string; image: string };
  release: ReleaseSpec;
}

export type PlannedStep =
  | { name: "wait" | "host" | "probe" | "load" | "pull" | "env" | "release"; step: RemoteStep }
  | { name: "upload"; upload: { remotePath: string } };

export type ShipMode = DeployPlanInput["ship"]["mode"];

/** A `running` gate passes when the container ran this long without exiting or restarting. */
export const RUNNING_GATE_SECONDS = 5;
/** Where prepareHost's delete finds the tags that loadImage / pullImage gave the app's images. */
export const TAGS_FILE = "image-tags";

const REGISTRY = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/;
// Words that need no quoting (Python's shlex set): they keep generated scripts readable.
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;
// Text that means the same inside double quotes: no $ ` \ " ! or line breaks.
const PLAIN_TEXT = /^[^$`\\"!\n\r']+$/;
const DOCKER_INSTALL_END = "PYDEPLOY_DOCKER_INSTALL";

export function appLayout(app: string, baseDir = ".pydeploy"): AppLayout {
  check(SLUG.test(app), `app name ${JSON.stringify(app)} must be lowercase letters, digits and inner dashes`);
  check(baseDir.length > 0 && !/[\0\n\r]/.test(baseDir), `remote base dir ${JSON.stringify(baseDir)} is not a usable path`);
  // Quoted paths are not tilde-expanded; relative paths already mean "in the SSH user's home".
  check(!baseDir.startsWith("~"), `remote base dir ${JSON.stringify(baseDir)}: write it relative to the home directory (e.g. .pydeploy), not with ~`);
  const dir = path.posix.join(baseDir, app);
  return { app, dir, envFile: `${dir}/app.env`, incomingDir: `${dir}/incoming` };
}

export function archiveRemotePath(layout: AppLayout, imageId: string): string {
  return `${layout.incomingDir}/${imageHex(imageId)}.tar.gz`;
}

/** The step names of deployPlan, in order, for a ship mode (the component creates one resource per name). */
export function planStepNames(mode: ShipMode): PlannedStep["name"][] {
  return mode === "copy"
    ? ["wait", "host", "probe", "upload", "load", "env", "release"]
    : ["wait", "host", "pull", "env", "release"];
}

export function deployPlan(i: DeployPlanInput): PlannedStep[] {
  const { layout, ship, release: spec } = i;
  validateReleaseSpec(spec);
  check(spec.app === layout.app, `release app ${spec.app} does not match the layout's app ${layout.app}`);
  check(spec.envFile === layout.envFile, `release envFile ${spec.envFile} is not the layout's env file ${layout.envFile}`);
  check(ship.image === spec.image, `the shipped image is tagged ${ship.image} but the release runs ${spec.image}`);
  if (ship.mode === "copy") {
    check(ship.imageId === spec.imageId, `the shipped image id ${ship.imageId} is not the release's ${spec.imageId}`);
  }
  const steps: Record<PlannedStep["name"], () => PlannedStep> = {
    wait: () => ({ name: "wait", step: waitForServer() }),
    host: () => ({ name: "host", step: prepareHost({ layout, dockerInstallScript: i.dockerInstallScript }) }),
    probe: () => ({ name: "probe", step: probeImage({ imageId: (ship as { imageId: string }).imageId }) }),
    upload: () => ({ name: "upload", upload: { remotePath: archiveRemotePath(layout, (ship as { imageId: string }).imageId) } }),
    load: () => ({ name: "load", step: loadImage({ layout, ...(ship as { imageId: string; image: string }) }) }),
    pull: () => ({ name: "pull", step: pullImage({ ...(ship as Extract<DeployPlanInput["ship"], { mode: "registry" }>), layout }) }),
    env: () => ({ name: "env", step: writeEnvFile({ layout }) }),
    release: () => ({ name: "release", step: release(spec) }),
  };
  return planStepNames(ship.mode).map((name) => steps[name]());
}

export function waitForServer(): RemoteStep {
  return {
    create: bashC(`
# pydeploy: wait until the server has finished booting (cloud-init, where there is one)
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
`),
  };
}

/**
 * `layout.dir/image-tags` lists the tags load/pull gave the app's images, for the delete.
 * The delete needs Docker to answer; it only skips the Docker part when Docker is not installed.
 */
export function prepareHost(o: { layout: AppLayout; dockerInstallScript: string }): RemoteStep {
  const { layout } = o;
  check(
    !o.dockerInstallScript.split("\n").includes(DOCKER_INSTALL_END),
    `the Docker install script contains the line ${DOCKER_INSTALL_END}, which ends its heredoc`,
  );
  const dirs = [layout.dir, layout.incomingDir].map(q).join(" ");
  const tagsFile = q(`${layout.dir}/${TAGS_FILE}`);
  return {
    create: bashC(`
cd "$HOME"
# pydeploy ${layout.app}: Docker installed and running, usable by this user; the app's folders

# The install snippet (components/server/dockerInstall.ts) runs as its own bash program.
IFS= read -r -d "" docker_install <<"${DOCKER_INSTALL_END}" || true
${o.dockerInstallScript.replace(/\n$/, "")}
${DOCKER_INSTALL_END}
bash -c "$docker_install" docker-install

user=$(id -un)
if ! command -v docker >/dev/null 2>&1; then
  echo "pydeploy: error: docker is not installed for user $user (not on PATH: $PATH)" >&2
  exit 1
fi
waited=0
until docker_answer=$(docker version --format "{{.Server.Version}}" 2>&1); do
  case $docker_answer in
    *"permission denied"*)
      echo "pydeploy: error: user $user cannot use Docker: add it to the docker group or connect as root ($docker_answer)" >&2
      exit 1
      ;;
  esac
  if [ "$waited" -ge 60 ]; then
    echo "pydeploy: error: the Docker daemon did not answer user $user within 60s: $docker_answer" >&2
    exit 1
  fi
  sleep 1
  waited=$((waited + 1))
done
echo "pydeploy: Docker $docker_answer is usable by $user"

umask 077
mkdir -p ${dirs}
chmod 700 ${dirs}
echo "pydeploy: app folder $(cd ${q(layout.dir)} && pwd) ready"
`),
    delete: bashC(`
cd "$HOME"
# pydeploy ${layout.app}: remove everything of the app: containers, images, env file, folder
app=${q(layout.app)}
if command -v docker >/dev/null 2>&1; then
  containers=$(docker ps --all --quiet --filter "label=${LABEL_APP}=$app")
  if [ -n "$containers" ]; then
    echo "pydeploy: removing containers: \${containers//[[:space:]]/ }"
    # shellcheck disable=SC2086 # container ids, one word each
    docker rm --force $containers >/dev/null
  fi
  if [ -f ${tagsFile} ]; then
    while IFS= read -r tag; do
      if [ -n "$tag" ] && docker image inspect "$tag" >/dev/null 2>&1; then
        echo "pydeploy: removing tag $tag"
        docker image rm "$tag" >/dev/null || echo "pydeploy: could not remove tag $tag" >&2
      fi
    done <${tagsFile}
  fi
  images=$(docker image ls --quiet --no-trunc --filter "label=${LABEL_APP}=$app" | sort -u)
  if [ -n "$images" ]; then
    echo "pydeploy: removing images: \${images//[[:space:]]/ }"
    # shellcheck disable=SC2086 # image ids, one word each
    docker image rm --force $images >/dev/null
  fi
fi
rm -f -- ${q(layout.envFile)}
rm -rf -- ${q(layout.dir)}
echo "pydeploy: app $app removed"
`),
  };
}

/** Prints exactly "present" or "missing" (no newline). */
export function probeImage(o: { imageId: string }): RemoteStep {
  imageHex(o.imageId);
  return {
    create: bashC(`
# pydeploy: is image ${o.imageId} on the server already? (then there is nothing to upload)
if docker image inspect ${q(o.imageId)} >/dev/null 2>&1; then
  printf present
else
  printf missing
fi
`),
  };
}

export function loadImage(o: { layout: AppLayout; imageId: string; image: string }): RemoteStep {
  checkImageRef(o.image);
  const archive = q(archiveRemotePath(o.layout, o.imageId));
  return {
    create: bashC(`
cd "$HOME"
# pydeploy ${o.layout.app}: load the uploaded image archive unless the image is there, then tag it
image_id=${q(o.imageId)}
image=${q(o.image)}
archive=${archive}
remove_archive() { rm -f -- "$archive"; }
trap remove_archive EXIT
if docker image inspect "$image_id" >/dev/null 2>&1; then
  echo "pydeploy: image $image_id is already on the server"
else
  if [ ! -f "$archive" ]; then
    echo "pydeploy: error: image $image_id is not on the server and its archive $archive was not uploaded" >&2
    exit 1
  fi
  gunzip --stdout "$archive" | docker load
  if ! docker image inspect "$image_id" >/dev/null 2>&1; then
    echo "pydeploy: error: $archive did not contain image $image_id (see the docker load output above)" >&2
    exit 1
  fi
fi
docker tag "$image_id" "$image"
${recordTag(o.layout)}
echo "pydeploy: $image is $image_id"
`),
    delete: bashC(`
cd "$HOME"
rm -f -- ${archive}
`),
  };
}

/** Logs in with a throwaway Docker config, so no credential stays on the server even if logout fails. */
export function pullImage(o: { registryServer: string; username: string; imageRef: string; image: string; layout?: AppLayout }): RemoteStep {
  check(REGISTRY.test(o.registryServer), `registry server ${JSON.stringify(o.registryServer)} must be a host name with an optional port`);
  check(o.username.length > 0 && !/[\0\n\r]/.test(o.username), "the registry user name must be one non-empty line");
  checkImageRef(o.imageRef);
  check(o.imageRef.includes("@sha256:"), `image reference ${o.imageRef} must be pinned by digest (repo@sha256:...)`);
  checkImageRef(o.image);
  return {
    stdin: "registryPassword",
    create: bashC(`
cd "$HOME"
# pydeploy: pull the image by digest; the registry password arrives on stdin
server=${q(o.registryServer)}
image_ref=${q(o.imageRef)}
image=${q(o.image)}
DOCKER_CONFIG=$(mktemp -d)
export DOCKER_CONFIG
forget_login() {
  docker logout "$server" >/dev/null 2>&1 || true
  rm -rf -- "$DOCKER_CONFIG"
}
trap forget_login EXIT
docker login --username ${q(o.username)} --password-stdin "$server"
docker pull "$image_ref"
docker tag "$image_ref" "$image"
${o.layout ? recordTag(o.layout) : ""}
echo "pydeploy: $image is $image_ref"
`),
  };
}

export function writeEnvFile(o: { layout: AppLayout }): RemoteStep {
  const envFile = q(o.layout.envFile);
  return {
    stdin: "envFile",
    // The content never reaches the output: only the path and the mode are printed.
    create: bashC(`
cd "$HOME"
# pydeploy ${o.layout.app}: write the env file from stdin, atomically, readable by this user only
umask 077
env_file=${envFile}
mkdir -p "$(dirname -- "$env_file")"
tmp=$(mktemp "$env_file.XXXXXX")
remove_tmp() { rm -f -- "$tmp"; }
trap remove_tmp EXIT
cat >"$tmp"
chmod 600 "$tmp"
mv -f -- "$tmp" "$env_file"
trap - EXIT
echo "pydeploy: wrote $env_file (mode 600)"
`),
    delete: bashC(`
cd "$HOME"
rm -f -- ${envFile}
`),
  };
}

/** A gate in words, as failure messages and logs name it. */
export function describeGate(gate: HealthGate): string {
  switch (gate.kind) {
    case "http":
      return `GET :${gate.port}${gate.path}`;
    case "tcp":
      return `TCP :${gate.port}`;
    case "running":
      return `running for ${RUNNING_GATE_SECONDS}s`;
  }
}

export function release(spec: ReleaseSpec): RemoteStep {
  validateReleaseSpec(spec);
  const names = spec.roles.map((r) => containerName(spec.app, r.role, spec.version));
  const roleBlocks = spec.roles.map((role) => roleBlock(spec, role)).join("\n");
  return {
    create: bashC(`
cd "$HOME"
# pydeploy: release ${spec.version} of app ${spec.app}
#   image ${spec.image} (${spec.imageId})
# Each role in order: stop the running container (kept for rollback), start the new one, gate it.
# If a gate fails: show the new container's logs, remove the new containers of this release
# and start the previous ones again.
app=${q(spec.app)}
version=${q(spec.version)}
image=${q(spec.image)}
health_timeout=${spec.healthTimeoutSeconds}
keep_images=${spec.keepImages}
roles=(${spec.roles.map((r) => q(r.role)).join(" ")})

created=()   # containers this release created: removed on rollback
restarted=() # stopped containers of this version it started again: stopped on rollback
previous=()  # containers it stopped: started again on rollback
failure=""

say() { echo "pydeploy: $*"; }
warn() { echo "pydeploy: $*" >&2; }
# Splits the ids in $2 into the array named $1 (empty input: empty array).
split_into() { read -r -d "" -a "$1" <<<"$2" || true; }
names_of() { docker inspect --format "{{.Name}}" "$@" | tr -d / | paste -sd " " -; }

rollback() {
  local status=$?
  trap - EXIT
  [ "$status" -ne 0 ] || return 0
  if [ "\${#created[@]}" -gt 0 ]; then
    docker rm --force "\${created[@]}" >/dev/null 2>&1 || true
    warn "removed \${created[*]}"
  fi
  if [ "\${#restarted[@]}" -gt 0 ]; then
    docker stop "\${restarted[@]}" >/dev/null 2>&1 || true
    warn "stopped \${restarted[*]} again"
  fi
  if [ "\${#previous[@]}" -gt 0 ]; then
    if docker start "\${previous[@]}" >/dev/null; then
      warn "the previous version runs again: $(names_of "\${previous[@]}")"
    else
      warn "could not start the previous containers \${previous[*]}"
    fi
  fi
  warn "error: release $version of $app failed: \${failure:-exit status $status}"
  exit "$status"
}
trap rollback EXIT

# Container state as "<status> <restart count> <health>".
container_state() {
  docker inspect --format "{{.State.Status}} {{.RestartCount}} {{if .State.Health}}{{.State.Health.Status}}{{end}}" "$1"
}

# GET http://127.0.0.1:$1$2 answers 2xx or 3xx. Plain bash (/dev/tcp): servers may lack curl.
# Sets last_answer to the status line, for the failure message.
http_ok() {
  local status_line
  status_line=$(
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET %s HTTP/1.0\\r\\nHost: 127.0.0.1:%s\\r\\nConnection: close\\r\\n\\r\\n" "$2" "$1" >&3
    IFS= read -r -t 5 line <&3 || exit 1
    printf "%s" "$line"
  ) 2>/dev/null || status_line=""
  status_line=\${status_line%[[:space:]]} # the \\r of \\r\\n
  last_answer=\${status_line:-none}
  [[ $status_line =~ ^HTTP/[0-9.]+\\ [23][0-9][0-9] ]]
}

# Container $1 accepts TCP connections on its port $2. Not via the host port: Docker's
# proxy accepts connections there even when nothing listens behind it.
tcp_ok() {
  local ip
  ip=$(docker inspect --format "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}" "$1") || return 1
  ip=\${ip%% *}
  [ -n "$ip" ] && (exec 3<>"/dev/tcp/$ip/$2") 2>/dev/null
}

# The gate has watched the container for $1 seconds.
ran_for() { [ $((SECONDS - gate_start)) -ge "$1" ]; }

gate_failed() { # role container gate reason
  failure="role $1 did not become healthy: $4 (gate $3, timeout \${health_timeout}s)"
  warn "role $1: $4; last 100 log lines of $2:"
  docker logs --tail 100 "$2" 2>&1 | sed "s/^/  | /" >&2 || true
  exit 1
}

# gate <role> <container> <gate in words> <check...>: polls the check until it passes;
# fails when the container stops or restarts (it crashed), turns unhealthy, or time runs out.
gate() {
  local role=$1 name=$2 what=$3 status restarts health baseline
  shift 3
  gate_start=$SECONDS
  last_answer=""
  baseline=$(docker inspect --format "{{.RestartCount}}" "$name")
  while :; do
    read -r status restarts health < <(container_state "$name" || echo missing 0)
    case $status in
      exited | dead | missing) gate_failed "$role" "$name" "$what" "container $name $status" ;;
    esac
    if [ "$restarts" -gt "$baseline" ]; then
      gate_failed "$role" "$name" "$what" "container $name crashed and was restarted"
    fi
    if [ "$health" = unhealthy ]; then
      gate_failed "$role" "$name" "$what" "container $name is unhealthy (docker healthcheck)"
    fi
    if [ "$status" = running ] && "$@"; then
      say "role $role: $name passed $what"
      return 0
    fi
    if [ $((SECONDS - gate_start)) -ge "$health_timeout" ]; then
      gate_failed "$role" "$name" "$what" "timed out\${last_answer:+, last answer: $last_answer}"
    fi
    sleep 1
  done
}

# boot <role> <container> <run function> <gate in words> <check...>
boot() {
  local role=$1 name=$2 run=$3 what=$4 out running=()
  shift 4
  if [ "$(docker inspect --format "{{.State.Running}}" "$name" 2>/dev/null)" = true ]; then
    say "role $role: $name already runs"
    return 0
  fi
  out=$(docker ps --quiet --filter "label=${LABEL_APP}=$app" --filter "label=${LABEL_ROLE}=$role")
  split_into running "$out"
  if [ "\${#running[@]}" -gt 0 ]; then
    say "role $role: stopping $(names_of "\${running[@]}") (kept for rollback)"
    previous+=("\${running[@]}")
    docker stop "\${running[@]}" >/dev/null
  fi
  failure="role $role: could not start $name"
  if docker container inspect "$name" >/dev/null 2>&1; then
    say "role $role: starting the existing container $name again"
    restarted+=("$name")
    docker start "$name" >/dev/null
  else
    say "role $role: starting $name"
    created+=("$name")
    "$run" >/dev/null
  fi
  gate "$role" "$name" "$what" "$@"
}

# After a successful release: stop roles the app no longer has, keep the newest stopped
# container per role (the rollback), prune app images beyond keep_images.
stop_dropped_roles() {
  local id role
  docker ps --filter "label=${LABEL_APP}=$app" --format "{{.ID}} {{.Label \\"${LABEL_ROLE}\\"}}" |
    while read -r id role; do
      case " \${roles[*]} " in
        *" $role "*) ;;
        *)
          say "stopping $(names_of "$id"): role $role is no longer part of the app"
          docker stop "$id" >/dev/null
          ;;
      esac
    done
}

remove_old_containers() {
  local id role finished
  local -A kept=()
  while read -r _ role id; do
    if [ -n "\${kept[$role]:-}" ]; then
      say "removing old container $(names_of "$id")"
      docker rm "$id" >/dev/null
    else
      kept[$role]=$id
    fi
  done < <(
    docker ps --all --filter "label=${LABEL_APP}=$app" --filter status=exited --filter status=created --filter status=dead \\
      --format "{{.ID}} {{.Label \\"${LABEL_ROLE}\\"}}" |
      while read -r id role; do
        finished=$(docker inspect --format "{{.State.FinishedAt}}" "$id")
        echo "$(date -d "$finished" +%s%N) $role $id"
      done | sort -rn
  )
}

prune_images() {
  local current id used count=1 unused=()
  local -A seen=()
  current=$(docker image inspect --format "{{.Id}}" "$image")
  used=" $(docker ps --all --quiet | xargs -r docker inspect --format "{{.Image}}" | tr "\\n" " ") "
  while read -r id; do
    [ -z "\${seen[$id]:-}" ] || continue
    seen[$id]=1
    [ "$id" != "$current" ] || continue
    case $used in
      *" $id "*) count=$((count + 1)) ;; # a container uses it (e.g. the rollback): never removed
      *) unused+=("$id") ;;
    esac
  done < <(docker image ls --quiet --no-trunc --filter "label=${LABEL_APP}=$app")
  [ "\${#unused[@]}" -gt 0 ] || return 0
  # Newest first: unused images stay while there is room in keep_images.
  for id in "\${unused[@]}"; do
    if [ "$count" -lt "$keep_images" ]; then
      count=$((count + 1))
    else
      say "removing image $id"
      docker image rm --force "$id" >/dev/null
    fi
  done
}

${roleBlocks}
trap - EXIT
say "release $version of $app is live: ${names.join(" ")}"
stop_dropped_roles || warn "warning: could not stop the containers of dropped roles"
remove_old_containers || warn "warning: could not remove old containers"
prune_images || warn "warning: could not prune old images"
`),
    delete: bashC(`
# pydeploy: remove the containers of release ${spec.version} of app ${spec.app} unless they still run
containers=(${names.map(q).join(" ")})
for name in "\${containers[@]}"; do
  running=$(docker inspect --format "{{.State.Running}}" "$name" 2>/dev/null) || continue
  if [ "$running" = true ]; then
    echo "pydeploy: keeping $name: it still runs"
  else
    docker rm "$name" >/dev/null
    echo "pydeploy: removed $name"
  fi
done
`),
  };
}

/** The run function and boot line of one role. */
function roleBlock(spec: ReleaseSpec, role: RoleSpec): string {
  const name = containerName(spec.app, role.role, spec.version);
  const fn = `run_${role.role.replace(/-/g, "_")}`;
  const gate = role.gate;
  const check =
    gate.kind === "http"
      ? ["http_ok", String(gate.port), gate.path]
      : gate.kind === "tcp"
        ? ["tcp_ok", name, String(role.ports.find((p) => p.host === gate.port)!.container)]
        : ["ran_for", String(Math.min(RUNNING_GATE_SECONDS, spec.healthTimeoutSeconds))];
  return `# --- role ${role.role} ---
${fn}() {
${formatDockerRun(dockerRunArgs(spec, role))}
}
boot ${[role.role, name, fn, describeGate(gate), ...check].map(q).join(" ")}
`;
}

const FLAGS_WITH_VALUE = new Set([
  "--restart", "--name", "--env-file", "--log-opt", "--label", "-p",
  "--health-cmd", "--health-interval", "--health-timeout", "--health-retries", "--health-start-period",
]);

/** One option per line; the image and its command on the last. */
function formatDockerRun(argv: string[]): string {
  const lines = [argv.slice(0, 2).join(" ")];
  let i = 2;
  while (i < argv.length && argv[i].startsWith("-")) {
    const takesValue = FLAGS_WITH_VALUE.has(argv[i]);
    lines.push(argv.slice(i, takesValue ? i + 2 : i + 1).map(q).join(" "));
    i += takesValue ? 2 : 1;
  }
  lines.push(argv.slice(i).map(q).join(" "));
  return "  " + lines.join(" \\\n    ");
}

function recordTag(layout: AppLayout): string {
  const file = q(`${layout.dir}/${TAGS_FILE}`);
  return `grep -qxF -- "$image" ${file} 2>/dev/null || echo "$image" >>${file}`;
}

/** `bash -c '<script>'` for any POSIX login shell, `set -euo pipefail` first, readable as written. */
function bashC(script: string): string {
  return `bash -c ${singleQuote(`set -euo pipefail\n${script.replace(/^\n/, "")}`)}`;
}

/** shell-quote's quote, except for words that need no quotes or only double quotes (readability). */
function q(word: string): string {
  if (SAFE_WORD.test(word)) return word;
  if (PLAIN_TEXT.test(word)) return `"${word}"`;
  return quote([word]);
}

function imageHex(imageId: string): string {
  check(IMAGE_ID.test(imageId), `image id ${JSON.stringify(imageId)} must be sha256:<64 hex digits>`);
  return imageId.slice("sha256:".length);
}

function checkImageRef(ref: string): void {
  check(IMAGE_REF.test(ref), `image ${JSON.stringify(ref)} is not a valid image reference`);
}

function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(message);
}
