# Sourced by deploy/base-image.sh and deploy/build-image.sh: the podman options this kind of host
# needs, in the arrays podman_global (before the subcommand) and podman_limits (run and build).
#  - The OCI runtime: $TORPEDO_PODMAN_RUNTIME, else runc when installed. crun, podman's default,
#    fails on hosts with hybrid cgroups ("cgroups in hybrid mode not supported"); runc works on
#    every host.
#  - Resource limits at or below this shell's hard limits: podman's defaults (nofile 1048576) are
#    above them on some hosts, and every container then fails with "setrlimit … operation not
#    permitted". nproc is also kept at 16384 or less: on a host whose hard limit was 96362, runc
#    refused anything above 32768.
podman_global=()
if [ -n "${TORPEDO_PODMAN_RUNTIME:-}" ]; then
  podman_global=(--runtime "$TORPEDO_PODMAN_RUNTIME")
elif command -v runc > /dev/null; then
  podman_global=(--runtime "$(command -v runc)")
elif [ -x /usr/sbin/runc ]; then
  podman_global=(--runtime /usr/sbin/runc)
fi
podman_limit() { # NAME HARD CAP: --ulimit=NAME=N:N with N the smaller of HARD and CAP
  local n=$3
  if [ "$2" != unlimited ] && [ "$2" -lt "$3" ]; then n=$2; fi
  echo "--ulimit=$1=$n:$n"
}
podman_limits=("$(podman_limit nofile "$(ulimit -Hn)" 65536)" "$(podman_limit nproc "$(ulimit -Hu)" 16384)")
