#!/usr/bin/env bash
# The soak: `jinyin run` under a steady mix for a set time (default 10
# minutes; `bash scripts/soak.sh 2h` for longer): SIPp callers through the
# IVR at 5 calls/s (10 s each, audio echoed so DTMF detection runs), SIPp
# callers into the general queue answered by four SIPp agents, SIPp
# callers leaving voicemail, libpri calling the IVR over the PRI span, a
# callback booked over the API every 20 s (dialled out over the span to
# libpri), the analog phone on the FXS port dialling the IVR and the
# exchange calling in over the FXO port (both ports on the socket driver),
# a password guesser on a source of its own. Samples RSS,
# goroutines, open files and the database's size every 10 s and prints
# each one's slope per hour with the calls completed and failed; a leak
# (goroutines left after the calls drain, the live heap growing more than
# 10 MiB an hour) or a failed call fails it. Needs SIPp, libpri and spandsp.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash scripts/bench-sip.sh --soak "${1:-10m}" "${@:2}"
