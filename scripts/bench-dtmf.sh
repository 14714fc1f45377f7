#!/usr/bin/env bash
# Scores jinyin's DTMF receiver against spandsp's (Debian libspandsp-dev) on
# the same corpus -- the ITU-T Q.24 accept/reject table plus the talk-off
# set (espeak-ng speech in Mandarin and English; vibrato, glides, chords,
# bells, noise) -- and prints each receiver's result per condition, the
# talk-off hits file by file, the kernel speed ratio (samples per second,
# jinyin / spandsp) on one core, and end to end: `jinyin dtmf` against a
# spandsp program streaming the same WAV recordings from disk, CPU and
# peak memory, as a ratio.
#
#   bash scripts/bench-dtmf.sh                      # 4 recordings of 10 min
#   bash scripts/bench-dtmf.sh -files 4 -minutes 30 # the 2-hour run
#   REPEATS=1 bash scripts/bench-dtmf.sh -minutes 1 # what the test suite runs
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for p in libspandsp-dev pkg-config gcc espeak-ng sox; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -O2 -o "$work/dtmf_rx" scripts/spandsp/dtmf_rx.c $(pkg-config --cflags --libs spandsp)
gcc -O2 -o "$work/dtmf_wav" scripts/spandsp/dtmf_wav.c $(pkg-config --cflags --libs spandsp)
go build -o "$work/bench-dtmf" ./scripts/bench-dtmf
CGO_ENABLED=0 go build -trimpath -o "$work/jinyin" ./cmd/jinyin
# One core for each, as the figures are per core.
taskset -c 0 "$work/bench-dtmf" -spandsp "$work/dtmf_rx" -spandsp-wav "$work/dtmf_wav" -jinyin "$work/jinyin" \
  -repeats "${REPEATS:-5}" "$@"
