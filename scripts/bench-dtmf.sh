#!/usr/bin/env bash
# Scores jinyin's DTMF receiver against spandsp's (Debian libspandsp-dev) on
# the same corpus -- the ITU-T Q.24 accept/reject table plus talk-off speech
# (espeak-ng, Mandarin and English) and music -- and prints each receiver's
# result per condition, the talk-off hits, and the speed ratio
# (samples per second, jinyin / spandsp) on one core.
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
go build -o "$work/bench-dtmf" ./scripts/bench-dtmf
# One core for each, as the figures are per core.
taskset -c 0 "$work/bench-dtmf" -spandsp "$work/dtmf_rx" -repeats "${REPEATS:-5}" "$@"
