#!/usr/bin/env bash
# Builds the static jinyin binaries (CGO_ENABLED=0) into dist/:
#   dist/jinyin-linux-arm (ARMv7), dist/jinyin-linux-arm64, dist/jinyin-linux-amd64
# and prints their sizes. VERSION overrides the version string, DIST the folder.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
commit=$(git rev-parse --verify -q HEAD 2>/dev/null || echo unknown)
dist=${DIST:-dist}
mkdir -p "$dist"
for target in arm arm64 amd64; do
  out=$dist/jinyin-linux-$target
  CGO_ENABLED=0 GOOS=linux GOARCH=$target GOARM=7 \
    go build -trimpath -ldflags "-s -w -X main.version=$version -X main.commit=$commit" -o "$out" ./cmd/jinyin
  printf '%-24s %6.1f MiB\n' "$out" "$(awk "BEGIN{print $(stat -c %s "$out")/1048576}")"
done
