#!/usr/bin/env bash
# beam-swallow's worker image, built with podman from nothing an image registry serves.
#
#   image.sh tools   install podman, runc and debootstrap with apt-get when missing (root)
#   image.sh base    debootstrap a minimal Debian rootfs and import it as BASE_IMAGE (once)
#   image.sh boot    build Beam's SDK boot program at BEAM_VERSION from the Go module proxy and
#                    import it as BOOT_IMAGE (/opt/apache/beam/boot, as Beam's SDK images hold it)
#   image.sh shim    write IMAGE_DIR/bin/docker: podman with this directory's containers.conf,
#                    for Beam's DOCKER environment, which runs `docker` from PATH
#   image.sh build   templates/dataflow/Dockerfile's worker stage on those two images, as IMAGE
#   image.sh all     the four steps above, each timed
#
# Settings come from the environment (the Makefile sets them): BEAM_VERSION (the boot program's
# and the image's Beam), IMAGE, IMAGE_DIR (the cache: rootfs, boot binary, shim), WHEELS (a folder
# of wheels the image may install from, such as llama-cpp-python's), EXTRAS (beam-swallow's
# extras in the image), DEBIAN_SUITE, DEBIAN_MIRROR, CA_BUNDLE (the host's, mounted into the
# build's steps that reach the package index).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
: "${BEAM_VERSION:?set BEAM_VERSION, e.g. 2.62.0}"
IMAGE="${IMAGE:-localhost/beam-swallow-worker:$BEAM_VERSION}"
IMAGE_DIR="${IMAGE_DIR:-$ROOT/.cache/image}"
WHEELS="${WHEELS:-$ROOT/.cache/wheels-x86-64-v3}"
EXTRAS="${EXTRAS:-embedded}"
DEBIAN_SUITE="${DEBIAN_SUITE:-bookworm}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
BASE_IMAGE="localhost/beam-swallow-base:$DEBIAN_SUITE"
BOOT_IMAGE="localhost/beam-swallow-boot:$BEAM_VERSION"
export CONTAINERS_CONF="$HERE/containers.conf"

tools() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  command -v runc >/dev/null || missing+=(runc)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  [ ${#missing[@]} -eq 0 ] && return 0
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# The rootfs is kept: a later `base` only re-imports it when podman lost the image.
base() {
  local rootfs="$IMAGE_DIR/rootfs-$DEBIAN_SUITE"
  if [ ! -f "$rootfs/.complete" ]; then
    rm -rf "$rootfs.tmp"
    debootstrap --variant=minbase "$DEBIAN_SUITE" "$rootfs.tmp" "$DEBIAN_MIRROR"
    rm -rf "$rootfs" && mv "$rootfs.tmp" "$rootfs" && touch "$rootfs/.complete"
  fi
  podman image exists "$BASE_IMAGE" && return 0
  tar -C "$rootfs" --exclude=./.complete --exclude='./var/cache/apt/archives/*.deb' -c . |
    podman import - "$BASE_IMAGE"
}

# The boot program is a static Go binary: `go install` at the SDK's tag, cached per version.
boot() {
  local bin="$IMAGE_DIR/boot-$BEAM_VERSION"
  if [ ! -x "$bin/container" ]; then
    GOBIN="$bin" go install "github.com/apache/beam/sdks/v2/python/container@v$BEAM_VERSION"
  fi
  podman image exists "$BOOT_IMAGE" && return 0
  local layer="$IMAGE_DIR/boot-layer-$BEAM_VERSION"
  rm -rf "$layer" && mkdir -p "$layer/opt/apache/beam"
  cp "$bin/container" "$layer/opt/apache/beam/boot"
  tar -C "$layer" -c . | podman import - "$BOOT_IMAGE"
  rm -rf "$layer"
}

shim() {
  mkdir -p "$IMAGE_DIR/bin"
  cat >"$IMAGE_DIR/bin/docker" <<EOF
#!/bin/sh
# Written by templates/image/image.sh: Beam's DOCKER environment runs \`docker\`; this is podman.
# A container it runs gets STORAGE_EMULATOR_HOST when set (gs:// against a GCS emulator), and
# the credentials file GOOGLE_APPLICATION_CREDENTIALS names, mounted read-only at the same path
# (the tests' offline credentials: without any, Beam retries google-auth for ~22 s per process).
if [ "\$1" = run ]; then
  shift
  if [ -n "\${GOOGLE_APPLICATION_CREDENTIALS:-}" ]; then
    set -- --env GOOGLE_APPLICATION_CREDENTIALS \\
      --volume "\$GOOGLE_APPLICATION_CREDENTIALS:\$GOOGLE_APPLICATION_CREDENTIALS:ro" "\$@"
  fi
  if [ -n "\${STORAGE_EMULATOR_HOST:-}" ]; then
    set -- --env STORAGE_EMULATOR_HOST "\$@"
  fi
  set -- run "\$@"
fi
CONTAINERS_CONF='$CONTAINERS_CONF' exec podman "\$@"
EOF
  chmod +x "$IMAGE_DIR/bin/docker"
}

build() {
  local wheels=()
  if [ -d "$WHEELS" ]; then
    wheels=(--volume "$WHEELS:/wheels:ro" --build-arg FIND_LINKS=/wheels)
  fi
  podman build --network host --target worker --tag "$IMAGE" \
    --file "$ROOT/templates/dataflow/Dockerfile" \
    --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg BOOT_IMAGE="$BOOT_IMAGE" \
    --build-arg BEAM_VERSION="$BEAM_VERSION" --build-arg EXTRAS="$EXTRAS" \
    --volume "$CA_BUNDLE:/run/host-ca-bundle.crt:ro" \
    --build-arg PIP_CERT=/run/host-ca-bundle.crt \
    --build-arg SSL_CERT_FILE=/run/host-ca-bundle.crt \
    "${wheels[@]}" "$ROOT"
  podman image inspect --format '{{.Size}}' "$IMAGE" |
    awk -v image="$IMAGE" '{ printf "%s: %.0f MB\n", image, $1 / 1e6 }'
}

timed() {
  local start=$SECONDS
  "$@"
  echo "image.sh $1: $((SECONDS - start)) s" >&2
}

case "${1:-}" in
  tools | base | boot | shim | build) timed "$1" ;;
  all) for step in tools base boot shim build; do timed "$step"; done ;;
  *) echo "usage: $0 tools|base|boot|shim|build|all" >&2; exit 2 ;;
esac
