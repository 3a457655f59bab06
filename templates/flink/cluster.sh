#!/usr/bin/env bash
# A local Flink cluster (one JobManager, one TaskManager with 2 slots) from Flink's PyPI packages.
#
#   cluster.sh install   download and lay out the distribution under FLINK_HOME (once)
#   cluster.sh up        install, configure and start; wait until the REST API answers
#   cluster.sh down      stop every JobManager and TaskManager this FLINK_HOME started
#
# apache-flink-libraries holds the distribution (lib/, opt/, plugins/), apache-flink holds bin/
# and conf/. They are downloaded, not pip-installed: both pin old apache-beam releases.
# Settings come from the environment (the Makefile sets them): FLINK_VERSION, FLINK_HOME,
# FLINK_REST_PORT, FLINK_RPC_PORT (the JobManager's, default 6123), FLINK_SLOTS, PYTHON (whose pip
# downloads the packages).
set -euo pipefail

: "${FLINK_VERSION:?set FLINK_VERSION, e.g. 1.19.3}"
: "${FLINK_HOME:?set FLINK_HOME, the directory to install into}"
FLINK_REST_PORT="${FLINK_REST_PORT:-8081}"
FLINK_SLOTS="${FLINK_SLOTS:-2}"
FLINK_RPC_PORT="${FLINK_RPC_PORT:-6123}"
PYTHON="${PYTHON:-python3}"

install() {
  [ -x "$FLINK_HOME/bin/start-cluster.sh" ] && [ -d "$FLINK_HOME/lib" ] && return 0
  local downloads="$FLINK_HOME.downloads" staging="$FLINK_HOME.staging"
  mkdir -p "$downloads"
  "$PYTHON" -m pip download --quiet --no-deps --dest "$downloads" \
    "apache-flink==$FLINK_VERSION" "apache-flink-libraries==$FLINK_VERSION"
  rm -rf "$staging" && mkdir -p "$staging/wheel" "$staging/libraries"
  "$PYTHON" -m zipfile -e "$downloads"/apache_flink-"$FLINK_VERSION"-*.whl "$staging/wheel"
  tar xzf "$downloads/apache-flink-libraries-$FLINK_VERSION.tar.gz" -C "$staging/libraries"
  local deps="$staging/libraries/apache-flink-libraries-$FLINK_VERSION/deps"
  mkdir -p "$staging/home"
  mv "$staging/wheel/pyflink/bin" "$staging/wheel/pyflink/conf" "$staging/home/"
  mv "$deps/lib" "$deps/opt" "$deps/plugins" "$staging/home/"
  cp "$deps"/bin/*.jar "$staging/home/bin/"
  chmod +x "$staging/home"/bin/*
  mkdir -p "$staging/home/log"
  rm -rf "$FLINK_HOME" && mv "$staging/home" "$FLINK_HOME" && rm -rf "$staging"
}

# One TaskManager with FLINK_SLOTS slots and the parallelism to fill them, a small JobManager,
# network buffers for the ~90 tasks a Beam batch job of the code pipeline becomes (each blocking
# result takes sort-shuffle.min-buffers, 512 by default, which 2 slots cannot give them), restarts
# on failure (the fault test kills a TaskManager mid-job) for longer than the JobManager takes to
# notice a dead TaskManager (heartbeat.timeout, 50 s): until it does, restarted tasks are sent to
# the dead one's slots and fail at once, so 3 quick attempts ran out before a live one was used;
# 30 x 5 s outlast it however slowly the new TaskManager starts. Task off-heap memory for the gRPC
# buffers of Beam's data plane to the SDK workers (Flink reserves none by default, and a job of
# 80k documents failed with "OutOfMemoryError: Direct buffer memory"), and task heap for the
# elements it decodes (the default ~570 MB ran out at 80k documents, 1.5 GB at 500k). An error in
# any TaskManager thread (such as that OutOfMemoryError, in a gRPC thread) stops the TaskManager, so
# the job fails or restarts instead of hanging with one thread gone. These sizes bound the
# cluster's memory whatever the corpus size: Flink sorts and shuffles spill to disk past them
# (docs, A corpus bigger than memory). Pid files inside FLINK_HOME so `down` finds what `up`
# started. Metaspace of 1 GB (768 MB more than Flink's default, added to the TaskManager's 6 GB):
# each Beam job loads the job server's classes in a class loader of its own, and the Java harness
# that a Kafka read runs in the TaskManager does not let its loader go when the job ends, so the
# default 256 MB ran out ("OutOfMemoryError: Metaspace") on the fifth job of one TaskManager.
# Checkpoints and savepoints in files under FLINK_HOME: a streaming job stopped with
# drain writes its final savepoint there (docs, Streaming from Kafka). The shipped file keeps its Java 17 flags; Flink reads flat keys (`rest.port`) and nested
# ones alike.
configure() {
  local conf="$FLINK_HOME/conf/config.yaml"
  [ -f "$conf.orig" ] || cp "$conf" "$conf.orig"
  sed -e "s/^\(  numberOfTaskSlots:\) 1$/\1 $FLINK_SLOTS/" \
    -e "s/^\(  default:\) 1$/\1 $FLINK_SLOTS/" \
    -e "s/^\(      size:\) 1600m$/\1 1024m/" \
    -e "s/^\(      size:\) 1728m$/\1 6912m/" \
    "$conf.orig" >"$conf"
  cat >>"$conf" <<EOF

# beam-swallow's local cluster (templates/flink/cluster.sh)
env.pid.dir: $FLINK_HOME/run
rest.port: $FLINK_REST_PORT
jobmanager.rpc.port: $FLINK_RPC_PORT
taskmanager.memory.network.min: 320m
taskmanager.memory.network.max: 320m
taskmanager.memory.task.heap.size: 3072m
taskmanager.memory.managed.size: 1280m
taskmanager.memory.task.off-heap.size: 512m
taskmanager.network.sort-shuffle.min-buffers: 64
restart-strategy.type: fixed-delay
restart-strategy.fixed-delay.attempts: 30
restart-strategy.fixed-delay.delay: 5 s
cluster.uncaught-exception-handling: FAIL
taskmanager.memory.jvm-metaspace.size: 1024m
state.checkpoints.dir: file://$FLINK_HOME/checkpoints
state.savepoints.dir: file://$FLINK_HOME/savepoints
EOF
}

rest_up() {
  "$PYTHON" - "$FLINK_REST_PORT" <<'EOF'
import sys
import urllib.request

try:
    with urllib.request.urlopen(f"http://localhost:{sys.argv[1]}/taskmanagers", timeout=2) as r:
        sys.exit(0 if b'"slotsNumber"' in r.read() else 1)
except OSError:
    sys.exit(1)
EOF
}

up() {
  install
  configure
  mkdir -p "$FLINK_HOME/run" "$FLINK_HOME/log"
  if rest_up; then
    echo "Flink already answers on localhost:$FLINK_REST_PORT"
    return 0
  fi
  "$FLINK_HOME/bin/start-cluster.sh"
  for _ in $(seq 120); do
    if rest_up; then
      echo "Flink $FLINK_VERSION up: http://localhost:$FLINK_REST_PORT ($FLINK_SLOTS slots)"
      return 0
    fi
    sleep 1
  done
  echo "Flink did not answer on localhost:$FLINK_REST_PORT within 120 s; logs: $FLINK_HOME/log" >&2
  tail -n 30 "$FLINK_HOME"/log/*.log >&2 || true
  return 1
}

down() {
  [ -x "$FLINK_HOME/bin/taskmanager.sh" ] || return 0
  "$FLINK_HOME/bin/taskmanager.sh" stop-all || true
  "$FLINK_HOME/bin/jobmanager.sh" stop-all || true
}

case "${1:-}" in
  install) install ;;
  up) up ;;
  down) down ;;
  *) echo "usage: $0 install|up|down" >&2; exit 2 ;;
esac
