#!/usr/bin/env bash
# SIP load benchmark on loopback: SIPp (Debian sip-tester) against
# `jinyin run`, then against a bare sipgo UAS for the signalling ceiling.
#   1: N concurrent IVR calls (default 3,000): the prompt plays, SIPp echoes
#      it back (-rtp_echo) and the box runs in-band DTMF detection on it
#   2: 1,000 calls/s, each answered, 1 s of prompt, hung up
#   3: a 5,000 INVITE/s flood with 200 calls up: 503 + Retry-After beyond
#      the admitted rate, the calls up stay clean
#   4: the same flood against a bare sipgo UAS (no media, no admission)
# Prints calls completed/failed/refused, CPU per call-second and memory per
# call (from /proc), RSS, and the p99 gap between RTP packets the box sends
# (a probe call of the script's own). SIPp shares the two cores.
# Options are passed on: --calls N --cps N --flood N --flood-seconds N --only 1,2
set -euo pipefail
cd "$(dirname "$0")/.."
command -v sipp >/dev/null || { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get update -qq && $sudo apt-get install -y -qq sip-tester >/dev/null; }
work=$(mktemp -d)
trap 'rm -rf "$work"; pkill -P $$ sipp 2>/dev/null || true' EXIT
go build -o "$work/jinyin" ./cmd/jinyin
go build -o "$work/bareuas" ./scripts/bench-sip/bareuas
go build -o "$work/bench-sip" ./scripts/bench-sip
peer=()
if [[ " $* " == *" --soak "* || " $* " == *" -soak "* ]]; then
  # The soak's PRI calls come from libpri (the tests' peer program).
  pkg-config --exists libpri 2>/dev/null && [ -e /usr/include/spandsp.h ] ||
    { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get update -qq && $sudo apt-get install -y -qq libpri-dev libspandsp-dev gcc >/dev/null; }
  gcc -O1 -o "$work/pri-peer" pri/libpritest/csrc/peer.c -lpri -lspandsp -lm
  peer=(-pri-peer "$work/pri-peer")
fi
"$work/bench-sip" -jinyin "$work/jinyin" -bareuas "$work/bareuas" "${peer[@]}" "$@"
