#!/usr/bin/env bash
# Writes an overlay's secrets: random values, in files that git ignores and kustomize's
# secretGenerator reads (OVERLAY/secrets/manager.env and database.env). Existing files are kept
# unless --force is given, so running it again changes nothing.
#
#   deploy/kubernetes/generate-secrets.sh local
#   deploy/kubernetes/generate-secrets.sh production --database-url 'postgres://user:pw@db.example:5432/torpedo'
#   deploy/kubernetes/generate-secrets.sh production --force     # new values (see below)
#
# OVERLAY is a name under overlays/ or the path of an overlay directory.
#
# --force replaces the files. Beware: PostgreSQL takes POSTGRES_PASSWORD only when it creates its
# database, so after the first start a new password locks the managers out until you also change
# it in the database (ALTER USER torpedo PASSWORD '…'); a new TORPEDO_JWT_SECRET signs every user
# out; and TORPEDO_ADMIN_PASSWORD is read only when the manager creates the admin account, at its
# very first start, so a new one changes nothing for an existing installation.
# TORPEDO_METRICS_TOKEN is the bearer token Prometheus sends to GET /metrics (docs/kubernetes.md).
set -euo pipefail

usage() {
  echo "usage: $0 [--force] [--database-url URL] OVERLAY" >&2
  exit 2
}

force=0
database_url=''
overlay=''
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    --database-url)
      [ $# -ge 2 ] || usage
      database_url="$2"
      shift
      ;;
    --database-url=*) database_url="${1#--database-url=}" ;;
    -h | --help) usage ;;
    -*) echo "unknown option: $1" >&2; usage ;;
    *)
      [ -z "$overlay" ] || usage
      overlay="$1"
      ;;
  esac
  shift
done
[ -n "$overlay" ] || usage

here="$(cd "$(dirname "$0")" && pwd)"
if [ -f "$here/overlays/$overlay/kustomization.yaml" ]; then
  dir="$here/overlays/$overlay"
elif [ -f "$overlay/kustomization.yaml" ]; then
  dir="$(cd "$overlay" && pwd)"
else
  echo "no overlay '$overlay': expected $here/overlays/$overlay/kustomization.yaml or $overlay/kustomization.yaml" >&2
  exit 2
fi

if [ -n "$database_url" ]; then
  case "$database_url" in
    postgres://* | postgresql://*) ;;
    *) echo "--database-url must start with postgres:// or postgresql://" >&2; exit 2 ;;
  esac
  case "$database_url" in
    *$'\n'* | *$'\r'*) echo "--database-url must be one line" >&2; exit 2 ;;
  esac
fi

# N random bytes as 2N hex digits: safe in env files and in URLs without escaping.
random_hex() {
  if command -v openssl > /dev/null; then
    openssl rand -hex "$1"
  else
    head -c "$1" /dev/urandom | od -An -v -tx1 | tr -d ' \n'
    echo
  fi
}

secrets="$dir/secrets"
umask 077
mkdir -p "$secrets"

# write FILE: the content on stdin, unless FILE exists and --force was not given.
write() {
  local file="$secrets/$1" tmp
  if [ -e "$file" ] && [ "$force" -eq 0 ]; then
    echo "kept $file (exists; --force replaces it)"
    cat > /dev/null
    return 0
  fi
  tmp="$(mktemp "$secrets/.$1.XXXXXX")"
  cat > "$tmp"
  mv -f "$tmp" "$file"
  echo "wrote $file"
}

if [ -n "$database_url" ] && [ -e "$secrets/database.env" ] && [ "$force" -eq 0 ]; then
  echo "$secrets/database.env exists: add --force to replace it with --database-url" >&2
  exit 1
fi

write manager.env <<ENV
TORPEDO_JWT_SECRET=$(random_hex 32)
TORPEDO_ADMIN_PASSWORD=$(random_hex 12)
TORPEDO_METRICS_TOKEN=$(random_hex 32)
ENV

# A manager.env written before TORPEDO_METRICS_TOKEN existed gets one, and keeps everything else.
if ! grep -q '^TORPEDO_METRICS_TOKEN=' "$secrets/manager.env"; then
  echo "TORPEDO_METRICS_TOKEN=$(random_hex 32)" >> "$secrets/manager.env"
  echo "added TORPEDO_METRICS_TOKEN to $secrets/manager.env"
fi

if [ -n "$database_url" ]; then
  write database.env <<ENV
DATABASE_URL=$database_url
ENV
else
  password="$(random_hex 24)"
  write database.env <<ENV
POSTGRES_PASSWORD=$password
DATABASE_URL=postgres://torpedo:$password@torpedo-postgres:5432/torpedo
ENV
fi

echo "The first admin's password (user admin) is TORPEDO_ADMIN_PASSWORD in $secrets/manager.env;"
echo "in the cluster: kubectl -n torpedo get secret torpedo-manager -o jsonpath='{.data.TORPEDO_ADMIN_PASSWORD}' | base64 -d"
