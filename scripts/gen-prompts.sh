#!/usr/bin/env bash
# Renders the default prompt set, media/prompt/prompts.tsv, with espeak-ng
# (Mandarin voice cmn, English voice en) and sox into 8 kHz mono A-law WAV
# files under media/prompt/zh and media/prompt/en, which the binary embeds.
# Word prompts (digits, numbers, units) are trimmed of leading and trailing
# silence so that read-back by concatenation sounds continuous. With ids as
# arguments it renders only those (the others keep their files: espeak-ng
# releases differ, so re-rendering everything changes every file).
# other-language is spoken in the other language: the Mandarin set offers
# English in English, the English set offers Mandarin in Mandarin.
set -euo pipefail
cd "$(dirname "$0")/../media/prompt"
for p in espeak-ng sox; do command -v $p >/dev/null || { echo "need $p (apt-get install espeak-ng sox)"; exit 1; }; done
only=" $* "
[ $# -eq 0 ] && rm -f zh/*.wav en/*.wav
while IFS=$'\t' read -r id zh en; do
  case "$id" in ''|'#'*) continue ;; esac
  [ $# -gt 0 ] && [[ "$only" != *" $id "* ]] && continue
  for lang in zh en; do
    if [ "$lang" = zh ]; then text=$zh voice=cmn; else text=$en voice=en; fi
    if [ "$id" = other-language ]; then [ "$lang" = zh ] && voice=en || voice=cmn; fi
    [ "$text" = "-" ] && continue
    trim=()
    case "$id" in d?|n*|star|hash|hundred|thousand|wan|yi|million|two-measure|hour*|minute*|second*|and|yuan|jiao|fen|year|month|day|m?|m1?)
      trim=(silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse) ;;
    esac
    espeak-ng -v "$voice" -s 160 --stdout "$text" |
      sox -t wav - -r 8000 -c 1 -e a-law -b 8 "$lang/$id.wav" "${trim[@]}" gain -n -3
  done
done < prompts.tsv
du -sh zh en
