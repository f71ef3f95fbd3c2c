#!/usr/bin/env bash
# Before the image test: buildah, debootstrap and redis-server from Debian when missing, then the
# stand-in for the base image that the Dockerfile pins (built once per machine, see
# stand-in-base.sh), with the project's Node 24 from the `node` devDependency (npm ci first).
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
command -v buildah >/dev/null 2>&1 || missing+=(buildah)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing from Debian: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The official base the Dockerfile pins (ARG NODE_IMAGE's default), and the stand-in's name as
# base-image.ts derives it: localhost/stand-in/ and the image's last name component and tag.
pinned=$(sed -n 's/^ARG NODE_IMAGE=//p' Dockerfile)
[ -n "$pinned" ] || { echo "the Dockerfile has no ARG NODE_IMAGE=<base image>" >&2; exit 1; }
name=${pinned%@*}
stand_in="localhost/stand-in/${name##*/}"
node_bin=node_modules/node/bin/node
[ -x "$node_bin" ] || { echo "$node_bin is missing: run npm ci first" >&2; exit 1; }
export CONTAINERS_STORAGE_CONF="$PWD/test/container/storage.conf"
# Working containers a crashed run left behind; this storage is the image test's alone.
buildah rm --all >/dev/null
bash test/container/stand-in-base.sh "$stand_in" "$pinned" "$node_bin"
