#!/usr/bin/env bash
# Before the image test: buildah, debootstrap and redis-server from Debian when missing, then the
# stand-in for the base image that the Dockerfile names (built once per machine, see
# stand-in-base.sh).
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

base=$(awk 'toupper($1) == "FROM" { print $2; exit }' Dockerfile)
export CONTAINERS_STORAGE_CONF="$PWD/test/container/storage.conf"
# Working containers a crashed run left behind; this storage is the image test's alone.
buildah rm --all >/dev/null
bash test/container/stand-in-base.sh "$base"
