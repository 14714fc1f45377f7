#!/usr/bin/env bash
# Builds a flashable image of the box:
#
#   scripts/image.sh [--board cm4|qemu] [--key update.pub] [--out DIR] [--data DIR] [--set KEY=VALUE]...
#
# DIR/jinyin-BOARD.img is the whole disk (dd it to the SD card or, for a
# CM4 with eMMC, to the eMMC exposed by rpiboot); DIR/jinyin-BOARD.slot is
# one boot slot, the payload of an update (`jinyin update sign`).
#
# The layout (MBR):
#   1  FAT, 16 MiB   autoboot.txt: the Raspberry Pi firmware's tryboot A/B
#   2  FAT, 160 MiB  boot slot A: firmware, kernel, device tree, config.txt,
#                    cmdline.txt, and the initramfs whose /init is jinyin
#   3  FAT, 160 MiB  boot slot B (a copy of A until the first update)
#   4  ext4, 256 MiB DATA: bbolt, prompts, recordings; survives updates
#
# The root is the initramfs: nothing written outside DATA survives a
# reboot. The kernels and the Pi firmware are gokrazy's prebuilt ones from
# the Go module proxy (kernel.rpi for the CM4, kernel.arm64 for QEMU's
# virt machine). --key bakes the update key's public half into the slot
# (without it the box takes no updates); --data preloads DATA (the tests
# use it for a supervisor account); --set changes the config the image
# runs (the box's own defaults for the board otherwise). VERSION sets the
# version.
#
# Needs: go, mtools, dosfstools, fdisk (sfdisk), e2fsprogs, cpio, gzip.
set -euo pipefail
cd "$(dirname "$0")/.."
board=cm4 key="" out=dist data="" sets=()
while [ $# -gt 0 ]; do
  case $1 in
    --board) board=$2; shift 2 ;;
    --key) key=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --set) sets+=(--set "$2"); shift 2 ;;
    *) echo "usage: $0 [--board cm4|qemu] [--key update.pub] [--out DIR] [--data DIR] [--set KEY=VALUE]..."; exit 2 ;;
  esac
done
case $board in cm4|qemu) ;; *) echo "board $board: cm4 or qemu"; exit 2 ;; esac
for t in go mcopy mkfs.vfat sfdisk mkfs.ext4 cpio gzip; do
  command -v "$t" >/dev/null || { echo "image.sh needs $t (Debian: mtools dosfstools fdisk e2fsprogs cpio gzip)"; exit 1; }
done
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
commit=$(git rev-parse --verify -q HEAD 2>/dev/null || echo unknown)
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The prebuilt kernels and firmware, pinned, from the module proxy.
kernel_arm64=github.com/gokrazy/kernel.arm64@v0.0.0-20260705071517-37841c4d6ff1
kernel_rpi=github.com/gokrazy/kernel.rpi@v0.0.0-20251127164438-9778ec0261de
firmware=github.com/gokrazy/firmware@v0.0.0-20260522070551-527ce0ed43cf
moddir() { (cd "$work" && [ -f go.mod ] || (cd "$work" && go mod init images >/dev/null 2>&1); cd "$work" && go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'); }

echo "== jinyin $version for $board (linux/arm64)"
CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -ldflags "-s -w -X main.version=$version -X main.commit=$commit" -o "$work/init" ./cmd/jinyin
go build -o "$work/jinyin-host" ./cmd/jinyin

# The initramfs: jinyin as /init, its config and the update key.
root=$work/root
mkdir -p "$root"/{etc/jinyin,proc,sys,dev,tmp,boot,data}
cp "$work/init" "$root/init"
console=/dev/ttyAMA0 # the CM4's PL011 with dtoverlay=disable-bt; QEMU virt's only UART
board_sets=()
if [ $board = cm4 ]; then
  # The demo's span and analog ports on the carrier's chips. The E1 with
  # PRI on a CM4 is an icE1usb under osmo-e1d (span driver osmo-e1d),
  # which this image does not carry: the DS26522 span comes up without
  # PRI (see board/cm4).
  board_sets=(--set span.0.driver=ds26522 --set port.0.driver=si3215 --set port.1.driver=si3050)
fi
"$work/jinyin-host" config show "${board_sets[@]}" --set box.board=$board --set sip.listen=0.0.0.0:5060 \
  --set console.device=$console --set box.name="jinyin-$board" "${sets[@]}" > "$root/etc/jinyin/jinyin.toml"
[ -n "$key" ] && cp "$key" "$root/etc/jinyin/update.pub"
[ -z "$key" ] && echo "warning: no --key: this image takes no updates"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible) | gzip -9n > "$work/jinyin.cpio.gz"

# One boot slot.
slot=$work/slot.vfat
rm -f "$slot"
mkfs.vfat -n JINYIN -C "$slot" $((160 * 1024)) >/dev/null
if [ $board = cm4 ]; then
  k=$(moddir $kernel_rpi) f=$(moddir $firmware)
  mcopy -i "$slot" "$f"/start4.elf "$f"/fixup4.dat "$k"/bcm2711-rpi-cm4.dtb ::
  mcopy -i "$slot" "$k"/vmlinuz ::vmlinuz
  mcopy -s -i "$slot" "$k"/overlays ::
  cat > "$work/config.txt" <<EOF
# jinyin $version: the CM4 line-card carrier
arm_64bit=1
kernel=vmlinuz
initramfs jinyin.cpio.gz followkernel
enable_uart=1
dtoverlay=disable-bt
dtparam=spi=on
dtparam=i2s=on
dtparam=watchdog=on
EOF
  echo "console=ttyAMA0,115200 quiet panic=10 jinyin.bootfs=/dev/mmcblk0p1 jinyin.data=/dev/mmcblk0p4 ip=dhcp" > "$work/cmdline.txt"
  mcopy -i "$slot" "$work/config.txt" ::config.txt
else
  k=$(moddir $kernel_arm64)
  mcopy -i "$slot" "$k"/vmlinuz ::vmlinuz
  # QEMU's user network: the guest is 10.0.2.15. The harness boots this
  # slot's kernel with this command line and jinyin.boot=N.
  echo "console=ttyAMA0 quiet panic=10 jinyin.bootfs=/dev/vda1 jinyin.data=/dev/vda4 ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off" > "$work/cmdline.txt"
fi
mcopy -i "$slot" "$work/cmdline.txt" ::cmdline.txt
mcopy -i "$slot" "$work/jinyin.cpio.gz" ::jinyin.cpio.gz
echo "jinyin $version $board" > "$work/VERSION"
mcopy -i "$slot" "$work/VERSION" ::VERSION

# The autoboot partition and DATA.
bootfs=$work/boot.vfat
mkfs.vfat -n AUTOBOOT -C "$bootfs" $((16 * 1024)) >/dev/null
printf '[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n' > "$work/autoboot.txt"
mcopy -i "$bootfs" "$work/autoboot.txt" ::autoboot.txt
datafs=$work/data.ext4
if [ -n "$data" ]; then
  mkfs.ext4 -q -L DATA -d "$data" "$datafs" 256M
else
  mkfs.ext4 -q -L DATA "$datafs" 256M
fi

# The disk.
img=$out/jinyin-$board.img
rm -f "$img"
truncate -s $((1 + 16 + 160 + 160 + 256 + 1))M "$img"
sfdisk -q "$img" <<EOF
label: dos
start=1MiB, size=16MiB, type=c
start=17MiB, size=160MiB, type=c
start=177MiB, size=160MiB, type=c
start=337MiB, size=256MiB, type=83
EOF
dd if="$bootfs" of="$img" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$slot" of="$img" bs=1M seek=17 conv=notrunc,sparse status=none
dd if="$slot" of="$img" bs=1M seek=177 conv=notrunc,sparse status=none
dd if="$datafs" of="$img" bs=1M seek=337 conv=notrunc,sparse status=none
cp "$slot" "$out/jinyin-$board.slot"
printf '%s: %d MiB (%d MiB written); boot slot %s: %d MiB, of which initramfs %.1f MiB\n' "$img" \
  $(($(stat -c %s "$img") >> 20)) $(($(du -k "$img" | cut -f1) >> 10)) "$out/jinyin-$board.slot" \
  $(($(stat -c %s "$slot") >> 20)) "$(awk "BEGIN{print $(stat -c %s "$work/jinyin.cpio.gz")/1048576}")"
