#!/usr/bin/env bash
# bench-hdlc.sh: hal/hdlc's software HDLC against spandsp's, in one run:
# a second of a busy D-channel (frames of 120 octets back to back) encoded
# and decoded, CPU time per second of channel, and the ratio.
# Needs gcc, libspandsp-dev and libosmocore-dev (the interop peer).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
gcc -O2 -o "$tmp/peer" hal/hdlc/testdata/peer.c $(pkg-config --cflags --libs spandsp libosmocore) -lm
for run in 1 2 3; do
  ours=$(go test -run '^$' -bench '^BenchmarkDChannel$' -benchtime 2s ./hal/hdlc | awk '/^BenchmarkDChannel/ {print $3}')
  theirs=$("$tmp/peer" bench 600 | awk '{print $4}')
  awk -v o="$ours" -v t="$theirs" -v r="$run" 'BEGIN { printf "run %d: jinyin %.0f ns, spandsp %.0f ns per second of D-channel: jinyin/spandsp %.2f\n", r, o, t, o / t }'
done
