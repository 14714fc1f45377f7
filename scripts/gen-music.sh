#!/usr/bin/env bash
# Renders the default music on hold, media/music/hold.wav, with sox: eight
# plucked chords (C Am F G C Am Dm G, three seconds each, arpeggiated over
# a bass note), a little reverb, 24 s that loop back to the first chord;
# 8 kHz mono A-law, which the binary embeds (about 190 KB).
#
# It is low-passed at 1 kHz: the chords keep their warmth on a phone, and
# nothing is left in DTMF's high group (1209-1633 Hz), so no receiver can
# hear a digit in it (media/music's test runs the box's detector over the
# whole file). sox's pluck runs at 48 kHz; the result is resampled.
set -euo pipefail
cd "$(dirname "$0")/../media/music"
command -v sox >/dev/null || { echo "need sox (apt-get install sox)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# bass and three chord notes, plucked 0.35 s apart
chords=(
  "C3 C4 E4 G4"
  "A2 A3 C4 E4"
  "F2 F3 A3 C4"
  "G2 G3 B3 D4"
  "C3 E4 G4 C5"
  "A2 C4 E4 A4"
  "D3 D4 F4 A4"
  "G2 B3 D4 G4"
)
parts=()
for i in "${!chords[@]}"; do
  read -r b n1 n2 n3 <<<"${chords[$i]}"
  sox -r 48000 -c 4 -n "$tmp/$i.wav" synth 3 pluck "$b" pluck "$n1" pluck "$n2" pluck "$n3" \
    delay 0 0.35 0.7 1.05 remix - trim 0 3 fade 0.02 3 0.4
  parts+=("$tmp/$i.wav")
done
sox "${parts[@]}" "$tmp/all.wav"
sox "$tmp/all.wav" -r 8000 -c 1 -e a-law -b 8 hold.wav \
  rate 8000 reverb 30 50 60 sinc -1000 -t 150 gain -n -8
ls -l hold.wav
