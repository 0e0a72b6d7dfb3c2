# Sourced by the image and test scripts: picks the container engine and, for podman, the settings
# these machines need (runc, explicit ulimits, cgroupfs). Never run directly.
# Sets: ENGINE (docker|podman), CONTAINERS_CONF (podman), MC_PODMAN_SOCKET (podman).

MC_ROOT="${MC_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
MC_PODMAN_SOCKET="${MC_PODMAN_SOCKET:-/run/podman/podman.sock}"

# docker only when an engine answers (a bare docker client is common and useless here).
if [[ -z "${ENGINE:-}" ]]; then
  if command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; then
    ENGINE=docker
  elif command -v podman >/dev/null 2>&1; then
    ENGINE=podman
  else
    echo "no container engine: no docker daemon answers and podman is not installed" >&2
    echo "  install podman: sudo bash scripts/install-container-tools.sh" >&2
    return 1 2>/dev/null || exit 1
  fi
fi

if [[ "$ENGINE" == podman ]]; then
  # crun fails on hybrid cgroup hosts ("cgroups in hybrid mode not supported"); the default ulimits ask
  # for more than the hard limit, so every container would fail in setrlimit.
  mkdir -p "$MC_ROOT/.cache/podman"
  CONTAINERS_CONF="$MC_ROOT/.cache/podman/containers.conf"
  cat > "$CONTAINERS_CONF.new" <<CONF
# Written by scripts/container-env.sh; regenerated on every use.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  mv -f "$CONTAINERS_CONF.new" "$CONTAINERS_CONF"
  export CONTAINERS_CONF
fi
export ENGINE MC_PODMAN_SOCKET

# Seconds since the epoch, for step timings.
now() { date +%s; }
