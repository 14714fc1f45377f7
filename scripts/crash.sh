#!/usr/bin/env bash
# The kill -9 loop at length: the real binary, killed with SIGKILL at a
# random moment (1-5 s into its life) while API clients book callbacks,
# change an agent's state and replace a prompt, SIP callers call the IVR
# and leave voicemail, and a password guesser gets banned, CYCLES times
# (default 100); after each kill bbolt's check must be clean, and every
# acknowledged record there once (CDRs and bans, written behind, once
# 500 ms old). Then the same kills while callbacks and a campaign's
# contacts are dialled through a SIP carrier: no one is called twice.
# The suite runs 4 cycles of the same test (cmd/jinyin/crash_test.go).
set -euo pipefail
cd "$(dirname "$0")/.."
JINYIN_CRASH_CYCLES=${1:-100} go test -count=1 -timeout 30m -run '^TestKill9' -v ./cmd/jinyin | grep -E 'cycles|^(---|ok|FAIL)'
