#!/usr/bin/env bash
# Makes a base image equivalent to `node:20-bookworm-slim` from Debian packages, for machines that
# can reach a Debian mirror and the npm registry but no registry of container images:
#
#   deploy/base-image.sh [NAME]          # default localhost/torpedo-node-base:trixie
#   deploy/build-image.sh --debian-base  # or let build-image.sh call this script
#
# What it holds, as the official image does: a minimal Debian (mmdebstrap --variant=minbase),
# Node 20 and ca-certificates from Debian 13 (trixie: Debian 12's nodejs is 18, too old), and npm
# from its own release tarball in /usr/local (the official image bundles npm the same way).
# Debian's `npm` package would do too, but it pulls in node-gyp and 300-odd node-* packages
# (+160 MB) that end up in every stage built from the base.
#
# An image of that name made by this same script (its hash is the label torpedo.base-recipe) is
# reused, also across runs: `--force` makes it again (e.g. for Debian's security updates). Needs
# root (mmdebstrap, podman import), about a minute, a Debian mirror (TORPEDO_DEBIAN_MIRROR,
# default deb.debian.org) and the npm registry.
set -euo pipefail
# shellcheck source=deploy/podman-flags.sh
. "$(dirname "$0")/podman-flags.sh"

force=0
name=localhost/torpedo-node-base:trixie
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "base-image.sh: unknown option $arg" >&2; exit 2 ;;
    *) name=$arg ;;
  esac
done

# The version of npm that Node 20.19's own tarball bundles.
NPM_VERSION=10.8.2
SUITE=trixie
recipe=$(sha256sum "$0" | cut -c1-16)

if [ "$force" -eq 0 ] && podman image exists "$name" \
  && [ "$(podman image inspect --format '{{index .Labels "torpedo.base-recipe"}}' "$name")" = "$recipe" ]; then
  echo "base-image.sh: reusing $name (made by this script)" >&2
  exit 0
fi
for tool in mmdebstrap podman npm; do
  if ! command -v "$tool" > /dev/null; then
    echo "base-image.sh: $tool is missing (apt-get install mmdebstrap podman; npm comes with Node)" >&2
    exit 1
  fi
done

work=$(mktemp -d /tmp/torpedo-base-XXXXXX)
trap 'rm -rf "$work"' EXIT
started=$(date +%s)
# npm pack: the registry's tarball of npm itself (bundled dependencies included), checked against
# its integrity by npm.
(cd "$work" && npm pack "npm@$NPM_VERSION" --silent > /dev/null)
npm_tgz="$work/npm-$NPM_VERSION.tgz"

mirror=()
if [ -n "${TORPEDO_DEBIAN_MIRROR:-}" ]; then mirror=("$TORPEDO_DEBIAN_MIRROR"); fi
hook=$(cat << EOF
set -e
mkdir -p "\$1/usr/local/lib/node_modules/npm" "\$1/usr/local/bin"
tar -xzf '$npm_tgz' --no-same-owner --strip-components=1 -C "\$1/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "\$1/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "\$1/usr/local/bin/npx"
cat > "\$1/etc/apt/apt.conf.d/docker-clean" << 'CLEAN'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CLEAN
rm -f "\$1"/var/cache/apt/*.bin "\$1"/var/cache/apt/archives/*.deb
EOF
)
# As Debian's slim images: no documentation, manuals or translations, now or in later installs
# (mmdebstrap keeps --dpkgopt in the image's /etc/dpkg/dpkg.cfg.d/); no downloaded packages left
# behind by apt (docker-clean, the same file as theirs; with it, mmdebstrap's own removal of apt's
# cache would leave 80 MB of it, so the hook removes the cache instead).
exclude=()
for path in doc/'*' man/'*' groff/'*' info/'*' lintian/'*' linda/'*' locale/'*'; do
  exclude+=("--dpkgopt=path-exclude=/usr/share/$path")
done
mmdebstrap --quiet --variant=minbase --include=nodejs,ca-certificates --skip=cleanup/apt/cache \
  "${exclude[@]}" --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --customize-hook="$hook" "$SUITE" "$work/base.tar" "${mirror[@]}"

podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "LABEL torpedo.base-recipe=$recipe" \
  --change 'CMD ["node"]' \
  "$work/base.tar" "$name" > /dev/null
echo "base-image.sh: made $name (Debian $SUITE, $(podman "${podman_global[@]}" run --rm --network none \
  "${podman_limits[@]}" "$name" sh -c 'echo node $(node --version), npm $(npm --version)')) in $(($(date +%s) - started)) s" >&2
