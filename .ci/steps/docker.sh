#!/usr/bin/env bash
# Container smoke test (issue 5), run by .ci/run as root on a fresh or reused machine.
#
#  1. install Debian's docker.io + debootstrap (skipped when present)
#  2. start a private dockerd (vfs, no iptables, no bridge); stopped by pid on exit
#  3. base image without a registry: debootstrap bookworm + `docker import` (cached)
#  4. wheelhouse by `pip download` of the .[service] closure (cached by hash) -> build context
#  5. `docker build --network=none` with BASE_IMAGE=losscore-base:bookworm
#  6. create the container (--network none), time `docker start` -> first /healthz 200
#     (polled every 0.1 s in the container's network namespace), wait until healthy, call
#     the API inside it, `docker stop` -> exit 0 in < 5 s, `docker start` again (timed too)
#  7. print the image size (total, system files, venv) against issue 16's goal (400 MB) and the
#     start-to-healthy times; fail above LOSSCORE_CI_MAX_IMAGE_MB (650: a regression guard;
#     the 400 MB goal is not reached, the venv's shared libraries alone (LLVM for numba,
#     Arrow, BLAS) are 405 MB: bench/RESULTS.md "Issue 16: image size") or
#     LOSSCORE_CI_MAX_START_S (10: the goal is 3 s on an idle 2-core machine, CI machines
#     are loaded)
#
# Cache (reused on the same machine): $LOSSCORE_CI_CACHE (default /var/cache/losscore-ci)
# holds dockerd's data-root (images, build cache) and the wheelhouses. Point it at
# an empty directory to measure a cold run.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

CACHE=${LOSSCORE_CI_CACHE:-/var/cache/losscore-ci}
BASE_IMAGE=${LOSSCORE_CI_BASE_IMAGE:-losscore-base:bookworm}
IMAGE=${LOSSCORE_CI_IMAGE:-losscore:ci}
SUITE=bookworm
BASE_RECIPE=2                        # bump when the rootfs recipe below changes (rebuilds the base)
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
WHEEL_CTX=.ci/docker/wheels          # wheelhouse inside the build context
HEALTH_TIMEOUT=${LOSSCORE_CI_HEALTH_TIMEOUT:-90}
STOP_LIMIT=5                         # seconds allowed for `docker stop`
MAX_IMAGE_MB=${LOSSCORE_CI_MAX_IMAGE_MB:-650}  # image size limit (a regression guard), 10^6 bytes
GOAL_IMAGE_MB=400                               # issue 16's goal, printed against the size
MAX_START_S=${LOSSCORE_CI_MAX_START_S:-10}     # docker run/start -> /healthz 200 limit, seconds
DOCKER=/usr/bin/docker               # CLI of Debian's docker.io, same version as dockerd
NAME=losscore-ci-$$
VOLUME=losscore-ci-data-$$

t0=$(date +%s)
log() { printf '[docker.sh %4ss] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }
fail() { log "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || fail "must run as root (installs packages, starts dockerd)"

# -- 1. packages ----------------------------------------------------------------
if [ -x /usr/sbin/dockerd ] && [ -x "$DOCKER" ] && command -v debootstrap >/dev/null; then
  log "docker.io and debootstrap already installed"
else
  log "installing docker.io and debootstrap (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io debootstrap >/dev/null
fi
python3 -m pip --version >/dev/null 2>&1 || {
  log "installing python3-pip (for pip download)"
  apt-get install -y -qq python3-pip >/dev/null
}

# One run at a time per cache directory (dockerd owns its data-root exclusively).
mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
flock -w 900 9 || fail "another run holds $CACHE/lock"

RUN_DIR=$(mktemp -d /tmp/losscore-ci.XXXXXX)
DOCKERD_PID=
OK=0

cleanup() {
  local rc=$?
  set +e
  if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    if [ "$OK" != 1 ] && "$DOCKER" container inspect "$NAME" >/dev/null 2>&1; then
      log "---- container state"
      "$DOCKER" container inspect --format \
        'status={{.State.Status}} exit={{.State.ExitCode}} health={{if .State.Health}}{{.State.Health.Status}}{{end}}' "$NAME"
      "$DOCKER" container inspect --format \
        '{{if .State.Health}}{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{end}}{{end}}' "$NAME" | tail -n 20
      log "---- container logs (last 200 lines)"
      "$DOCKER" logs --tail 200 "$NAME" 2>&1
    fi
    "$DOCKER" rm -f "$NAME" >/dev/null 2>&1
    "$DOCKER" volume rm -f "$VOLUME" >/dev/null 2>&1
    log "stopping dockerd (pid $DOCKERD_PID)"
    kill -TERM "$DOCKERD_PID"
    for _ in $(seq 1 60); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$DOCKERD_PID" 2>/dev/null; then
      log "dockerd still running after 30 s, sending SIGKILL"
      kill -KILL "$DOCKERD_PID"
    fi
    wait "$DOCKERD_PID" 2>/dev/null
  fi
  if [ "$rc" != 0 ] && [ -f "$RUN_DIR/dockerd.log" ]; then
    log "---- dockerd log (last 30 lines)"
    tail -n 30 "$RUN_DIR/dockerd.log"
  fi
  find "$ROOT/$WHEEL_CTX" -mindepth 1 ! -name README.md -delete 2>/dev/null
  rm -rf "$RUN_DIR"
  if [ "$rc" = 0 ]; then log "OK"; else log "FAILED (exit $rc)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# -- 2. private dockerd -----------------------------------------------------------
SOCK=$RUN_DIR/docker.sock
export DOCKER_HOST=unix://$SOCK
export DOCKER_BUILDKIT=1
export DOCKER_CONFIG=$RUN_DIR/docker-config   # no credential helpers, no user config
mkdir -p "$CACHE/docker" "$RUN_DIR/exec" "$DOCKER_CONFIG"
log "starting dockerd (data-root $CACHE/docker)"
dockerd --data-root "$CACHE/docker" --exec-root "$RUN_DIR/exec" \
  --pidfile "$RUN_DIR/dockerd.pid" -H "unix://$SOCK" \
  --storage-driver vfs --iptables=false --ip6tables=false --bridge=none \
  >"$RUN_DIR/dockerd.log" 2>&1 9>&- &   # 9>&-: the lock belongs to this script only
DOCKERD_PID=$!
for _ in $(seq 1 120); do
  "$DOCKER" version >/dev/null 2>&1 && break
  kill -0 "$DOCKERD_PID" 2>/dev/null || fail "dockerd exited during start-up"
  sleep 0.5
done
"$DOCKER" version >/dev/null 2>&1 || fail "dockerd did not answer on $SOCK within 60 s"
log "dockerd $("$DOCKER" version --format '{{.Server.Version}}') up (pid $DOCKERD_PID)"

# -- 3. base image ----------------------------------------------------------------
base_recipe=$("$DOCKER" image inspect --format '{{index .Config.Labels "org.losscore.base-recipe"}}' \
  "$BASE_IMAGE" 2>/dev/null || true)
if [ "$base_recipe" = "$BASE_RECIPE" ]; then
  log "base image $BASE_IMAGE cached"
else
  log "debootstrap $SUITE (minbase + python3, python3-venv) from $MIRROR"
  rootfs=$RUN_DIR/rootfs
  debootstrap --variant=minbase --include=python3,python3-venv "$SUITE" "$rootfs" "$MIRROR" \
    >"$RUN_DIR/debootstrap.log" 2>&1 || { tail -n 30 "$RUN_DIR/debootstrap.log"; fail "debootstrap"; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/*
  # what nothing in the image reads (issue 16; about 50 MB): documentation (the copyright
  # files stay), manual and info pages, message translations (the image runs with
  # LANG=C.UTF-8; locale.alias stays)
  find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
  pyver=$(chroot "$rootfs" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  log "importing rootfs as $BASE_IMAGE (python $pyver)"
  tar -C "$rootfs" -c . | "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change "LABEL org.losscore.python=$pyver org.losscore.suite=$SUITE org.losscore.base-recipe=$BASE_RECIPE" \
    --change 'CMD ["python3"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
fi
PYVER=$("$DOCKER" image inspect --format '{{index .Config.Labels "org.losscore.python"}}' "$BASE_IMAGE")
[ -n "$PYVER" ] || fail "$BASE_IMAGE has no org.losscore.python label"

# -- 4. wheelhouse ----------------------------------------------------------------
ARCH=$(uname -m)
key=$( { cat constraints.txt; python3 .ci/docker/service_requirements.py pyproject.toml;
         echo "py=$PYVER arch=$ARCH recipe=1"; } | sha256sum | cut -c1-16 )
WHEELS=$CACHE/wheels/$key
if [ -f "$WHEELS/.complete" ]; then
  log "wheelhouse cached ($WHEELS)"
else
  log "pip download: .[service] closure for cp${PYVER/./} $ARCH -> $WHEELS"
  rm -rf "$WHEELS.tmp" && mkdir -p "$WHEELS.tmp"
  python3 .ci/docker/service_requirements.py pyproject.toml >"$RUN_DIR/requirements.txt"
  # Wheels only, for the base image's interpreter and glibc (bookworm: 2.36).
  platforms=()
  for minor in $(seq 36 -1 17); do platforms+=(--platform "manylinux_2_${minor}_$ARCH"); done
  platforms+=(--platform "manylinux2014_$ARCH")
  PIP_FIND_LINKS= python3 -m pip download --quiet --disable-pip-version-check --no-cache-dir \
    --only-binary=:all: --python-version "$PYVER" --implementation cp "${platforms[@]}" \
    -c constraints.txt -r "$RUN_DIR/requirements.txt" 'setuptools>=77' -d "$WHEELS.tmp" \
    >"$RUN_DIR/pip.log" 2>&1 || { grep -v 'WARNING: Location' "$RUN_DIR/pip.log" | tail -n 40; fail "pip download"; }
  touch "$WHEELS.tmp/.complete"
  rm -rf "$WHEELS" && mv "$WHEELS.tmp" "$WHEELS"
  # Keep only the three newest wheelhouses.
  ls -1dt "$CACHE"/wheels/*/ 2>/dev/null | tail -n +4 | xargs -r rm -rf
fi
log "wheelhouse: $(ls "$WHEELS"/*.whl | wc -l) wheels, $(du -sh "$WHEELS" | cut -f1)"
find "$WHEEL_CTX" -mindepth 1 ! -name README.md -delete
cp -l "$WHEELS"/*.whl "$WHEEL_CTX"/ 2>/dev/null || cp "$WHEELS"/*.whl "$WHEEL_CTX"/

# -- 5. build ---------------------------------------------------------------------
# the playground page and offline docs ship in the image: built here (npm registry, Java),
# since the image build itself has no network (a no-op when make test built them already)
make --no-print-directory web >"$RUN_DIR/web.log" 2>&1 || { tail -n 40 "$RUN_DIR/web.log"; fail "make web"; }
log "docker build --network=none (BASE_IMAGE=$BASE_IMAGE, WHEELHOUSE=$WHEEL_CTX)"
build_start=$(date +%s)
"$DOCKER" build --network=none --progress=plain \
  --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg WHEELHOUSE="$WHEEL_CTX" \
  -t "$IMAGE" . >"$RUN_DIR/build.log" 2>&1 || { tail -n 60 "$RUN_DIR/build.log"; fail "docker build"; }
grep -E '^#[0-9]+ (\[|DONE|CACHED)|pip: ' "$RUN_DIR/build.log" | grep -E '\[|pip: ' | sed 's/^/    /' | tail -n 20 || true
log "built $IMAGE in $(( $(date +%s) - build_start ))s"
# what .ci/docker/slim_venv.py removed from the venv, rule by rule, and what
# .ci/docker/runtime_rootfs.py copied into the runtime root (a cached layer prints nothing)
sed -n -E 's/^#[0-9]+ [0-9.]+ (slim_venv: .*|  +[0-9.]+ MB .*|runtime_rootfs: .*)$/    \1/p' "$RUN_DIR/build.log"
find "$WHEEL_CTX" -mindepth 1 ! -name README.md -delete

# Static checks on the image configuration.
user=$("$DOCKER" image inspect --format '{{.Config.User}}' "$IMAGE")
case "$user" in ""|root|0|0:*) fail "image runs as root (User='$user')";; esac
"$DOCKER" image inspect --format '{{json .Config.Volumes}}' "$IMAGE" | grep -q '"/data"' || fail "no VOLUME /data"
"$DOCKER" image inspect --format '{{json .Config.Healthcheck}}' "$IMAGE" | grep -q healthz || fail "no HEALTHCHECK"

# -- 6. run, health, API calls, graceful stop ---------------------------------------
# Hardened like compose.yaml: tini init, read-only root fs, /tmp on tmpfs, no capabilities.
# The API is called from inside the container's network namespace (`docker exec`),
# as --network none publishes no port.
create_container() {  # name (with vfs, creating copies the whole image: timed apart from the start)
  "$DOCKER" create --name "$1" --init --network none --read-only --tmpfs /tmp \
    --cap-drop ALL --security-opt no-new-privileges \
    --health-interval 1s --health-timeout 5s --health-start-period 60s --health-retries 3 \
    -e WORKERS=2 -e LOG_LEVEL=info -v "$VOLUME:/data" "$IMAGE" >/dev/null
}
wait_healthy() {  # name
  local start status
  start=$(date +%s)
  while :; do
    status=$("$DOCKER" container inspect --format '{{.State.Status}}/{{.State.Health.Status}}' "$1")
    case "$status" in
      running/healthy) break ;;
      running/*) ;;
      *) fail "container $1 is $status before becoming healthy" ;;
    esac
    (( $(date +%s) - start < HEALTH_TIMEOUT )) || fail "$1 not healthy after ${HEALTH_TIMEOUT}s ($status)"
    sleep 0.5
  done
  log "$1 healthy after $(( $(date +%s) - start ))s"
}
time_to_healthz() {  # name t0_ns: seconds from t0 (before docker run/start) to /healthz 200
  local pid out
  pid=$("$DOCKER" container inspect --format '{{.State.Pid}}' "$1")
  out=$(PORT=8000 nsenter --net="/proc/$pid/ns/net" \
    python3 .ci/docker/smoke.py healthz-time "$2" "$HEALTH_TIMEOUT") || fail "$1: $out"
  printf '%s\n' "$out" | sed -n 's/^healthz_s=\([0-9.]*\).*/\1/p'
}
started_after() {  # name t0_ns: seconds from t0 until the container's process started
  local at
  at=$("$DOCKER" container inspect --format '{{.State.StartedAt}}' "$1")
  awk -v a="$(date -d "$at" +%s%N)" -v b="$2" 'BEGIN { printf "%.2f", (a - b) / 1e9 }'
}
smoke() {  # name phase [args...]   (SMOKE_PORT: the service port inside the namespace)
  "$DOCKER" exec -i -e PORT="${SMOKE_PORT:-8000}" "$1" python - "${@:2}" <.ci/docker/smoke.py
}

log "docker create + start --network none $IMAGE (WORKERS=2, volume $VOLUME on /data)"
t_create=$(date +%s%N)
create_container "$NAME"
t_run=$(date +%s%N)
log "docker create: $(awk -v a="$t_run" -v b="$t_create" 'BEGIN { printf "%.1f", (a - b) / 1e9 }') s (the vfs storage driver copies the image)"
"$DOCKER" start "$NAME" >/dev/null
START_RUN=$(time_to_healthz "$NAME" "$t_run")
log "start to healthy (docker start -> /healthz 200): ${START_RUN} s (process started after $(started_after "$NAME" "$t_run") s)"
wait_healthy "$NAME"
smoke "$NAME" calls | tee "$RUN_DIR/smoke.out"
model_id=$(sed -n 's/^model_id=//p' "$RUN_DIR/smoke.out")
# the compiled training kernels: seeded from the image (no compile at start-up), one line per worker
for _ in $(seq 120); do  # both workers (WORKERS=2), within 60 s
  warm=$("$DOCKER" logs "$NAME" 2>&1 | grep -E "kernels .*ready in" || true)
  [ "$(printf '%s' "$warm" | grep -c ready)" -ge 2 ] && break
  sleep 0.5
done
[ "$(printf '%s' "$warm" | grep -c ready)" -ge 2 ] || fail "not every worker reported its training kernels ready"
printf '%s\n' "$warm" | sed 's/^/  /'
if printf '%s\n' "$warm" | grep -q "(0 cache files seeded)" && ! printf '%s\n' "$warm" | grep -qv "(0 cache files seeded)"; then
  fail "no numba cache file was seeded from the image"
fi
# seeded kernels load in well under a second; a compile (the image's cache not matching the
# installed sources) takes 10 s or more on this machine
slow=$(printf '%s\n' "$warm" | awk '{for (i = 1; i < NF; i++) if ($i == "in" && $(i+1) + 0 > 5) print}')
[ -z "$slow" ] || fail "training kernels were compiled at start-up instead of loaded from the image's cache"
# what slim_venv.py left must still import and work: every module of the service, losscore and
# the Dask scheduler/worker, each solver family, Parquet through pyarrow.dataset and Dask
log "imports and features of the slimmed venv (.ci/docker/image_check.py)"
"$DOCKER" exec -i "$NAME" python - <.ci/docker/image_check.py || fail "image check"

# -- 7. a dataset fit through a Dask scheduler and a worker started from the same image ----
# All in the first container's network namespace (--network none has no other network): a
# scheduler, a worker and a second service (port 8001) configured to use them, the dataset
# mounted read-only at the same path in each.
DATASETS=$RUN_DIR/datasets
mkdir -p "$DATASETS"
python3 .ci/docker/smoke.py write-dataset "$DATASETS/events.csv"
chmod -R a+rX "$DATASETS"
DASK_COMMON=(--network "container:$NAME" --read-only --tmpfs /tmp --cap-drop ALL
  --security-opt no-new-privileges -v "$DATASETS:/datasets:ro")
log "dask scheduler, dask worker and a service on port 8001 from $IMAGE"
"$DOCKER" run -d --name "$NAME-scheduler" "${DASK_COMMON[@]}" "$IMAGE" \
  dask scheduler --host 127.0.0.1 --port 8786 --no-dashboard >/dev/null
"$DOCKER" run -d --name "$NAME-worker" "${DASK_COMMON[@]}" "$IMAGE" \
  dask worker tcp://127.0.0.1:8786 --nthreads 1 --no-dashboard --local-directory /tmp \
  --name ci-worker >/dev/null
"$DOCKER" run -d --name "$NAME-dask" "${DASK_COMMON[@]}" --no-healthcheck -e PORT=8001 \
  -e WORKERS=1 -e LOSSCORE_DATA_DIR=/tmp/models -e LOSSCORE_DATASET_ROOTS=/datasets \
  -e LOSSCORE_DASK_SCHEDULER=tcp://127.0.0.1:8786 "$IMAGE" >/dev/null
SMOKE_PORT=8001 smoke "$NAME" dataset /datasets/events.csv \
  || { for c in scheduler worker dask; do "$DOCKER" logs "$NAME-$c" 2>&1 | tail -n 20; done; fail "dataset fit through the Dask containers"; }
"$DOCKER" rm -f "$NAME-dask" "$NAME-worker" "$NAME-scheduler" >/dev/null

stop_and_check() {  # name: SIGTERM while a request is in flight
  local start end code ms out=$RUN_DIR/inflight.out client
  # The client runs on the host inside the container's network namespace
  # (nsenter), so it outlives the server process and can read the answer.
  local pid
  pid=$("$DOCKER" container inspect --format '{{.State.Pid}}' "$1")
  INFLIGHT_DELAY=1.0 PORT=8000 nsenter --net="/proc/$pid/ns/net" \
    python3 .ci/docker/smoke.py inflight >"$out" 2>&1 &
  client=$!
  for _ in $(seq 1 120); do grep -q '^ready' "$out" && break; kill -0 "$client" 2>/dev/null || break; sleep 0.25; done
  grep -q '^ready' "$out" || { cat "$out"; fail "in-flight client did not start"; }
  log "request in flight (half the body sent); docker stop $1"
  start=$(date +%s%N)
  "$DOCKER" stop "$1" >/dev/null
  end=$(date +%s%N)
  wait "$client" || { cat "$out"; fail "in-flight request did not complete across SIGTERM"; }
  sed -n 's/^/  /; /^  inflight ok/p' "$out"
  code=$("$DOCKER" container inspect --format '{{.State.ExitCode}}' "$1")
  ms=$(( (end - start) / 1000000 ))
  log "docker stop $1: exit code $code in ${ms} ms (includes finishing the in-flight request)"
  [ "$code" = 0 ] || fail "container exited with $code after SIGTERM (expected 0)"
  (( ms < STOP_LIMIT * 1000 )) || fail "docker stop took ${ms} ms (limit ${STOP_LIMIT} s)"
  "$DOCKER" logs "$1" >"$RUN_DIR/server.log" 2>&1
  grep -Eq 'Shutting down|Finished server process|Stopping parent process' "$RUN_DIR/server.log" \
    || fail "no uvicorn shutdown message in the container logs"
}
stop_and_check "$NAME"

if [ -n "$model_id" ]; then
  # Root fs is read-only and /tmp a tmpfs: only the /data volume keeps state.
  log "docker start $NAME again: model $model_id must still be served from the volume"
  t_start=$(date +%s%N)
  "$DOCKER" start "$NAME" >/dev/null
  START_AGAIN=$(time_to_healthz "$NAME" "$t_start")
  log "start to healthy again (docker start -> /healthz 200): ${START_AGAIN} s (process started after $(started_after "$NAME" "$t_start") s)"
  wait_healthy "$NAME"
  smoke "$NAME" persisted "$model_id"
fi
log "removing the container and its volume"
"$DOCKER" rm -f "$NAME" >/dev/null
"$DOCKER" volume rm "$VOLUME" >/dev/null

# Bound the cache: with vfs every build step is a full copy (~0.5 GB each), so keep
# only about one build's worth of BuildKit cache (least recently used goes first).
prune_start=$(date +%s)
"$DOCKER" image prune -f >/dev/null
"$DOCKER" volume prune -f >/dev/null
"$DOCKER" builder prune -f --keep-storage "${LOSSCORE_CI_KEEP_CACHE:-1500MB}" >/dev/null
log "pruned dangling images and old build cache in $(( $(date +%s) - prune_start ))s"

size=$("$DOCKER" image inspect --format '{{.Size}}' "$IMAGE")
# the runtime stage is FROM scratch: its layers are the system files (runtime_rootfs.py), the
# /data directory and the venv
layer_size() {  # bytes of the image layer whose Dockerfile step contains $1
  "$DOCKER" history --no-trunc --human=false --format '{{.Size}}	{{.CreatedBy}}' "$IMAGE" \
    | awk -F'\t' -v step="$1" 'index($2, step) { s += $1 } END { print s + 0 }'
}
system_size=$(layer_size "/rootfs/")
venv_size=$(layer_size "/opt/venv /opt/venv")
log "image $IMAGE: $size bytes ($(( size / 1000000 )) MB; system files $(( system_size / 1000000 )) MB, venv $(( venv_size / 1000000 )) MB; goal ${GOAL_IMAGE_MB} MB: $( (( size <= GOAL_IMAGE_MB * 1000000 )) && echo met || echo 'not met')), limit ${MAX_IMAGE_MB} MB"
log "start to healthy (docker start -> /healthz 200, WORKERS=2): ${START_RUN} s, ${START_AGAIN:-n/a} s at the restart (limit ${MAX_START_S} s)"
(( size <= MAX_IMAGE_MB * 1000000 )) || fail "image is $(( size / 1000000 )) MB, over the ${MAX_IMAGE_MB} MB limit"
for s in "$START_RUN" ${START_AGAIN:+"$START_AGAIN"}; do
  awk -v s="$s" -v m="$MAX_START_S" 'BEGIN { exit !(s <= m) }' \
    || fail "start to healthy took $s s, over the ${MAX_START_S} s limit"
done
OK=1
log "docker smoke test passed in $(( $(date +%s) - t0 ))s"
