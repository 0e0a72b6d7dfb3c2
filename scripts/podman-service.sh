#!/usr/bin/env bash
# The Docker-compatible API testcontainers talks to, served by podman (no Docker engine here).
#   scripts/podman-service.sh start   # idempotent; prints the DOCKER_HOST to export
#   scripts/podman-service.sh stop    # stops the service this script started, removes leftover test containers
# Ryuk (testcontainers' reaper) cannot be pulled: run with TESTCONTAINERS_RYUK_DISABLED=true; `stop` cleans up.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/container-env.sh"
PIDFILE="$MC_ROOT/.cache/podman/service.pid"
LOG="$MC_ROOT/.cache/podman/service.log"
SOCKET="$MC_PODMAN_SOCKET"

answers() { curl -fsS --max-time 5 --unix-socket "$SOCKET" http://d/_ping >/dev/null 2>&1; }

case "${1:-}" in
  start)
    if ! answers; then
      mkdir -p "$(dirname "$SOCKET")"
      # --time=0: never exit for idleness; setsid: not tied to the caller's terminal or process group.
      setsid podman system service --time=0 "unix://$SOCKET" >"$LOG" 2>&1 < /dev/null &
      echo $! > "$PIDFILE"
      for _ in $(seq 1 100); do answers && break; sleep 0.1; done
      answers || { echo "podman service did not answer on $SOCKET" >&2; tail -20 "$LOG" >&2; exit 1; }
    fi
    echo "DOCKER_HOST=unix://$SOCKET"
    ;;
  stop)
    podman ps -aq --filter label=mc-controller.test=true | xargs -r podman rm -f -t 0 >/dev/null
    if [[ -f "$PIDFILE" ]]; then
      pid="$(cat "$PIDFILE")"
      # Only the process this script started, and only if it still is a podman service.
      if [[ "$(ps -o args= -p "$pid" 2>/dev/null)" == "podman system service"* ]]; then kill "$pid"; fi
      rm -f "$PIDFILE"
    fi
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
