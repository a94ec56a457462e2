#!/usr/bin/env bash
# Builds the torpedo image from deploy/Dockerfile with podman, without npm, and reports its size
# and how long the build took:
#
#   deploy/build-image.sh [--tag NAME] [--base IMAGE | --debian-base] [--quiet]
#
#   --tag NAME       the image's name (default localhost/torpedo:dev)
#   --base IMAGE     build FROM IMAGE (--build-arg NODE_IMAGE=IMAGE); default: the Dockerfile's node:20
#   --debian-base    build from a base made of Debian packages by deploy/base-image.sh (made
#                    once, then reused; named --base IMAGE if given, else
#                    localhost/torpedo-node-base:trixie), for machines that reach no registry
#                    of base images
#   --quiet          print only the summary line (and the build's last lines if it fails)
#
# The last line it prints is the summary: `image NAME: SIZE MB, built in SECONDS s (from BASE)`,
# with --debian-base also the seconds the base took (0 when it was reused).
#
# The host's CA bundle ($TORPEDO_BUILD_CA_FILE, else $SSL_CERT_FILE, else
# /etc/ssl/certs/ca-certificates.crt, when it exists) is passed as the build secret
# `ca-certificates` (see the Dockerfile's deps stage): mounted while npm installs, never stored in
# the image. Rebuilds reuse podman's layer cache: with unchanged package-lock.json the npm step is
# not run again, with unchanged sources nothing is.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=deploy/podman-flags.sh
. deploy/podman-flags.sh

tag=localhost/torpedo:dev
base=''
debian_base=0
quiet=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag=$2; shift ;;
    --base) base=$2; shift ;;
    --debian-base) debian_base=1 ;;
    --quiet) quiet=1 ;;
    -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if ! command -v podman > /dev/null; then
  echo 'build-image.sh: podman is missing (apt-get install podman runc)' >&2
  exit 1
fi
base_note=''
if [ "$debian_base" -eq 1 ]; then
  base=${base:-localhost/torpedo-node-base:trixie}
  base_started=$(date +%s)
  if [ "$quiet" -eq 1 ]; then deploy/base-image.sh "$base" 2> /dev/null; else deploy/base-image.sh "$base"; fi
  base_note=", made in $(($(date +%s) - base_started)) s"
fi

args=(-f deploy/Dockerfile -t "$tag" --layers "${podman_limits[@]}")
if [ -n "$base" ]; then args+=(--build-arg "NODE_IMAGE=$base"); fi
ca=${TORPEDO_BUILD_CA_FILE:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}
if [ -s "$ca" ]; then args+=(--secret "id=ca-certificates,src=$ca"); fi

previous=$(podman image inspect --format '{{.Id}}' "$tag" 2> /dev/null || true)
started=$(date +%s%N)
if [ "$quiet" -eq 1 ]; then
  log=$(mktemp /tmp/torpedo-build-XXXXXX.log)
  if ! podman "${podman_global[@]}" build "${args[@]}" . > "$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "build-image.sh: the build failed; its whole log is $log" >&2
    exit 1
  fi
  rm -f "$log"
else
  podman "${podman_global[@]}" build "${args[@]}" . >&2
fi
tenths=$((($(date +%s%N) - started) / 100000000))
bytes=$(podman image inspect --format '{{.Size}}' "$tag")
# The image this one replaced under the tag, unless containers still use it (its layers stay
# cached for the next build either way).
if [ -n "$previous" ] && [ "$previous" != "$(podman image inspect --format '{{.Id}}' "$tag")" ]; then
  podman rmi "$previous" > /dev/null 2>&1 || true
fi
echo "image $tag: $((bytes / 1000000)) MB, built in $((tenths / 10)).$((tenths % 10)) s (from ${base:-the Dockerfile’s node:20}$base_note)"
