#!/usr/bin/env bash
# A local stand-in for the Dockerfile's base image, built once per machine: no container registry
# is reachable here, so the official `node:24-bookworm-slim` the Dockerfile pins by digest cannot be
# pulled. It has what the official image has and the Dockerfile relies on: Debian bookworm, Node 24
# and npm on the PATH, the `node` user (uid 1000) and an entrypoint that execs its command. It is a
# test fixture only, under a name of its own (a digest names exact bytes, which no local build can
# reproduce): the image test builds the unmodified Dockerfile on it with `--build-arg NODE_IMAGE`,
# users build on the official image.
#
# usage: stand-in-base.sh <image name> <image it stands in for> <node binary>
#        (needs root, buildah and debootstrap)
set -euo pipefail
usage='usage: stand-in-base.sh <image name> <image it stands in for> <node binary>'
base=${1:?$usage}
stands_in_for=${2:?$usage}
node_bin=${3:?$usage}
export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}
node_version=$("$node_bin" --version)

# Rebuilt when this recipe, the base it stands in for, the node binary or npm, or the CA bundle
# changes; reused otherwise.
recipe="$( (cat "$0" /etc/ssl/certs/ca-certificates.crt; echo "$stands_in_for"; echo "$node_version"; npm --version) | sha256sum | cut -c1-16)"
label=fal-gateway.stand-in-recipe
if [ "$(buildah inspect --type image --format "{{index .OCIv1.Config.Labels \"$label\"}}" "$base" 2>/dev/null)" = "$recipe" ]; then
  echo "stand-in base $base is up to date ($recipe)"
  exit 0
fi

work=$(mktemp -d)
container=
cleanup () {
  if [ -n "$container" ]; then buildah umount "$container" >/dev/null 2>&1 || true; buildah rm "$container" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

mirror=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
echo "debootstrap bookworm from $mirror (about 90 s)"
root="$work/root"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 20 "$work/debootstrap.log"; exit 1; }

# The project's Node (the npm registry's `node` package, the release the official image carries)
# and this machine's npm, where the official image keeps them.
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
install -D -m 0755 "$node_bin" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
chroot "$root" useradd --create-home --uid 1000 --user-group --shell /bin/bash node

# Like the official image's entrypoint: a first argument that is a flag or a script runs under node;
# anything else is exec'd, so the command replaces the shell and receives signals itself.
cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
if [ "${1#-}" != "$1" ] || [ -f "$1" ]; then set -- node "$@"; fi
exec "$@"
EOF
chmod 0755 "$root/usr/local/bin/docker-entrypoint.sh"

# This machine reaches the npm registry through a TLS-inspecting proxy whose CA npm must trust.
install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/usr/local/share/host-ca/ca-certificates.crt"
rm -rf "$root/var/cache/apt/archives"/*.deb "$root/var/lib/apt/lists"/*

container=$(buildah from scratch)
mountpoint=$(buildah mount "$container")
cp -a "$root/." "$mountpoint/"
buildah umount "$container" >/dev/null
buildah config \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_VERSION="${node_version#v}" \
  --env NODE_EXTRA_CA_CERTS=/usr/local/share/host-ca/ca-certificates.crt \
  --env npm_config_cafile=/usr/local/share/host-ca/ca-certificates.crt \
  --entrypoint '["docker-entrypoint.sh"]' --cmd node \
  --label "$label=$recipe" \
  --label "fal-gateway.stand-in-for=$stands_in_for" \
  "$container"
buildah commit --quiet --rm "$container" "$base" >/dev/null
container=
echo "stand-in base $base (node $node_version) built ($recipe), standing in for $stands_in_for"
