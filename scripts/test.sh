#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine: installs the real peers the
# tests talk to (SIPp, baresip, libpri, spandsp, socat, qemu, espeak-ng, sox),
# then gofmt, go vet, staticcheck, go mod tidy, the static ARM build, and
# go test -race over every package. A missing peer fails the run here
# (JINYIN_REQUIRE_PEERS=1); a bare `go test ./...` skips those tests instead.
# Last, every fuzz target runs for a few seconds over its committed corpus
# (testdata/fuzz); `--fuzztime 10m` fuzzes each longer, `--fuzztime 0`
# skips that step.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=3s
while (($#)); do
  case "$1" in
    --fuzztime) fuzztime=$2; shift 2 ;;
    --fuzztime=*) fuzztime=${1#*=}; shift ;;
    *) echo "usage: $0 [--fuzztime DURATION]"; exit 2 ;;
  esac
done

pkgs=(sip-tester baresip libpri-dev libspandsp-dev libosmocore-dev linux-libc-dev pkg-config gcc socat qemu-user-static espeak-ng sox file sipvicious fail2ban chromium
  qemu-system-arm mtools dosfstools fdisk e2fsprogs cpio # the image and its QEMU boot test (appliance)
  nats-server kamailio postgresql) # headquarters: the fleet link's end, the dispatcher in front of boxes, the fleet's database (fleet, box, hq)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
export JINYIN_REQUIRE_PEERS=1

step() { echo "== $*"; }
step gofmt
bad=$(gofmt -s -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$bad" ]; then echo "gofmt -s would change: $bad"; exit 1; fi
step go vet
go vet ./...
step staticcheck
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
step go mod tidy
go mod tidy -diff
step static ARMv7 build
CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 go build -o /dev/null ./cmd/jinyin
# hal/alsa's structs as the 32-bit ARM kernel lays them out, under qemu.
CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 go test -count=1 -exec qemu-arm-static -run 'Layout|TDM' ./hal/alsa
step go test
go test -race -timeout 20m -count=1 ./...
if [ "$fuzztime" != 0 ]; then
  step "go test -fuzz, $fuzztime each"
  grep -l '^func Fuzz' $(git ls-files '*_test.go' 2>/dev/null || find . -name '*_test.go') | sort | while read -r f; do
    for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f"); do
      echo "   $(dirname "$f") $target"
      fuzz() { go test -run '^$' -fuzz "^$target\$" -fuzztime "$fuzztime" "./$(dirname "$f")" >/tmp/fuzz.$$ 2>&1; }
      # Go's fuzz coordinator sometimes ends a -fuzztime with "context
      # deadline exceeded" and no failing input: a race at the deadline
      # (golang/go#75804, fixed in Go 1.27; this is 1.26), not a finding.
      # That alone is run again, once.
      fuzz || { grep -q 'context deadline exceeded' /tmp/fuzz.$$ && ! grep -q 'Failing input' /tmp/fuzz.$$ && fuzz; } || { cat /tmp/fuzz.$$; rm -f /tmp/fuzz.$$; exit 1; }
    done
  done
  rm -f /tmp/fuzz.$$
fi
