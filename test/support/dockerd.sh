#!/usr/bin/env bash
# Start or stop a Docker daemon for the end-to-end client tests.
#
#   test/support/dockerd.sh start   # no-op when a daemon already answers `docker info`
#   test/support/dockerd.sh stop    # stops only a daemon this script started (pidfile)
#   test/support/dockerd.sh status
#
# The daemon keeps its images under BERTH_DOCKER_ROOT (default /tmp/berth-docker) so it
# never touches a system install's /var/lib/docker. It listens on the default socket so
# the plain `docker` CLI finds it. Flags that work on a CI machine:
# no iptables, no bridge (the tests only talk to 127.0.0.1), overlay2 with a vfs fallback.
# Registries on 127.0.0.0/8 are insecure by default (HTTP allowed), so no
# insecure-registries setting is needed for the test targets.
# dockerd 20.10 starts and supervises its own containerd when none listens on
# /run/containerd/containerd.sock, so we do not start one.
set -euo pipefail

ROOT=${BERTH_DOCKER_ROOT:-/tmp/berth-docker}
PIDFILE="$ROOT/dockerd.pid"
LOG="$ROOT/dockerd.log"
TIMEOUT=${BERTH_DOCKER_TIMEOUT:-60}

answers() { docker info >/dev/null 2>&1; }

wait_ready() {
  local pid=$1 deadline=$((SECONDS + TIMEOUT))
  while ((SECONDS < deadline)); do
    if answers; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.5
  done
  return 1
}

launch() {
  local driver=$1
  mkdir -p "$ROOT/data"
  echo "dockerd.sh: starting dockerd (storage driver $driver, data root $ROOT/data, log $LOG)" >&2
  # setsid: the daemon must outlive the shell that started it and not get its signals.
  setsid dockerd \
    --storage-driver="$driver" \
    --iptables=false --ip-masq=false --bridge=none \
    --data-root="$ROOT/data" \
    --pidfile="$PIDFILE" \
    >>"$LOG" 2>&1 </dev/null &
  local pid=$!
  if wait_ready "$pid"; then
    echo "$pid" >"$PIDFILE.ours"
    echo "dockerd.sh: dockerd ready (pid $pid, driver $driver)" >&2
    return 0
  fi
  echo "dockerd.sh: dockerd with $driver did not come up; last log lines:" >&2
  tail -n 15 "$LOG" >&2 || true
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
  return 1
}

start() {
  if answers; then
    echo "dockerd.sh: a Docker daemon already answers; not starting another" >&2
    return 0
  fi
  command -v dockerd >/dev/null || { echo "dockerd.sh: dockerd not installed" >&2; return 1; }
  mkdir -p "$ROOT"
  # A stale pidfile from a killed run makes dockerd refuse to start.
  if [[ -f $PIDFILE ]] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then rm -f "$PIDFILE"; fi
  launch overlay2 || launch vfs || { echo "dockerd.sh: could not start dockerd" >&2; return 1; }
}

stop() {
  local ours="$PIDFILE.ours"
  if [[ ! -f $ours ]]; then
    echo "dockerd.sh: no daemon started by this script; nothing to stop" >&2
    return 0
  fi
  local pid
  pid=$(cat "$ours")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    # dockerd shuts its containerd down too; give it time to unmount cleanly.
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "dockerd.sh: dockerd $pid ignored SIGTERM for 30 s; killing" >&2
      kill -9 "$pid" || true
    fi
  fi
  rm -f "$ours" "$PIDFILE"
  echo "dockerd.sh: dockerd stopped" >&2
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if answers; then echo running; else echo stopped; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
