#!/usr/bin/env bash
# SIP load benchmark on loopback: SIPp (Debian sip-tester) against
# `jinyin run`, then against a bare sipgo UAS for the signalling ceiling.
#   1: N concurrent IVR calls (default 3,000): the prompt plays, SIPp echoes
#      it back (-rtp_echo) and the box runs in-band DTMF detection on it
#   2: 1,000 calls/s, each answered, 1 s of prompt, hung up
#   3: a 5,000 INVITE/s flood with 200 calls up: 503 + Retry-After beyond
#      the admitted rate, the calls up stay clean
#   4: the same flood against a bare sipgo UAS (no media, no admission)
#   5: the floor: floor/floor.c doing only the sockets' work of step 1's
#      calls (a packet per call per 20 ms by sendto, an epoll receive poll)
#   6: the peer: step 1's load against a playback server on diago v0.42.1
#      (diago/, a module of its own), the same prompt
#   then jinyin / floor and jinyin / diago for step 1's CPU per call-second,
#   memory per call and p99 gap: the yardsticks run in the same invocation,
#   as absolute figures do not travel between machines
# Prints calls completed/failed/refused, CPU per call-second and memory per
# call (from /proc), RSS, and the p99 gap between RTP packets the box sends
# (a probe call of the script's own). SIPp shares the two cores.
# Options are passed on: --calls N --cps N --flood N --flood-seconds N --only 1,5,6
set -euo pipefail
cd "$(dirname "$0")/.."
command -v sipp >/dev/null || { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get update -qq && $sudo apt-get install -y -qq sip-tester >/dev/null; }
work=$(mktemp -d)
trap 'rm -rf "$work"; pkill -P $$ sipp 2>/dev/null || true' EXIT
go build -o "$work/jinyin" ./cmd/jinyin
go build -o "$work/bareuas" ./scripts/bench-sip/bareuas
go build -o "$work/bench-sip" ./scripts/bench-sip
command -v gcc >/dev/null || { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get update -qq && $sudo apt-get install -y -qq gcc >/dev/null; }
gcc -O2 -o "$work/floor" scripts/bench-sip/floor/floor.c
(cd scripts/bench-sip/diago && CGO_ENABLED=0 go build -o "$work/diago-ivr" .)
peer=()
if [[ " $* " == *" --soak "* || " $* " == *" -soak "* ]]; then
  # The soak's PRI calls come from libpri (the tests' peer program).
  pkg-config --exists libpri 2>/dev/null && [ -e /usr/include/spandsp.h ] ||
    { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get update -qq && $sudo apt-get install -y -qq libpri-dev libspandsp-dev gcc >/dev/null; }
  gcc -O1 -o "$work/pri-peer" pri/libpritest/csrc/peer.c -lpri -lspandsp -lm
  peer=(-pri-peer "$work/pri-peer")
fi
"$work/bench-sip" -jinyin "$work/jinyin" -bareuas "$work/bareuas" -floor "$work/floor" -diago "$work/diago-ivr" "${peer[@]}" "$@"
