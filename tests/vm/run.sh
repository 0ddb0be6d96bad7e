#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The VM suites, host side: boots a Debian release's own kernel under QEMU, where
# tests/vm/init runs tests/vm/test_dispatcher.sh; streams the guest's test output and
# ends with its summary line and exit status.
#   tests/vm/run.sh [GUEST]
#     debian12 (default)  suite vm-dispatcher: Debian 12's kernel (make vm-image) with the
#                         host's root and binaries
#     trixie              suite vm-trixie: Debian 13's own root filesystem, xdp-lb built
#                         in the guest
#     sid                 suite vm-sid: Debian unstable's, the same way
#   VM_ONLY=name      run only the guest tests whose name contains name
#   VM_TIMEOUT=secs   kill a guest still running after that long (default 1500)
#   VM_SHELL=1        console on this terminal and a shell in the guest after the tests
#   VM_MIRROR=url     the Debian mirror for the root filesystems (default: apt's own)
# Files in the guest's directory ($OUTPUT/vm, $OUTPUT/vm/trixie, $OUTPUT/vm/sid):
# console.log (kernel and init), guest.log (the tests), guest.status, and for the releases
# with their own root: rootfs/ (kept between runs), rootfs.log, build.log (the build in
# the guest), source.tar (the work tree the guest builds).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUTPUT=${OUTPUT:-build}
[[ $OUTPUT = /* ]] || OUTPUT=$ROOT/$OUTPUT
GUEST=${1:-debian12}
TIMEOUT=${VM_TIMEOUT:-1500}
BUILD_IMAGE=$ROOT/tests/vm/build-image.sh

# expect: how lb-load attaches there. Debian 13's libxdp (1.5.4) has dispatcher slots
# that do not change packet data, and its kernel (6.12.26 and later) refuses an freplace
# program that does, as our tail-calling parse stage: lb-load falls back to
# single-program mode (docs/kernels.md).
case $GUEST in
debian12) SUITE=vm-dispatcher VM_DIR=$OUTPUT/vm KIND=host EXPECT=dispatcher ;;
trixie) SUITE=vm-trixie VM_DIR=$OUTPUT/vm/trixie KIND=own EXPECT=fallback ;;
sid) SUITE=vm-sid VM_DIR=$OUTPUT/vm/sid KIND=own EXPECT=dispatcher ;;
*) echo "usage: $0 [debian12|trixie|sid]" >&2; exit 2 ;;
esac

# A closing line when the guest gave none: what finished counts, plus one failure.
give_up() {
	local log=$VM_DIR/guest.log passed skipped failed
	echo "$SUITE: $*"
	skipped=$(grep -c '^ok - .*# SKIP' "$log" 2>/dev/null)
	passed=$(($(grep -c '^ok - ' "$log" 2>/dev/null) - skipped))
	failed=$(($(grep -c '^not ok - ' "$log" 2>/dev/null) + 1))
	echo "$SUITE: $passed passed, $failed failed, $skipped skipped"
	exit 1
}

console_tail() {
	echo "--- last 40 lines of $VM_DIR/console.log"
	tail -n 40 "$VM_DIR/console.log"
	echo "---"
}

# Seconds since $1 (a $SECONDS value).
took() {
	echo "$((SECONDS - $1)) s"
}

# A release's own root filesystem, its initramfs and the work tree's copy, each built
# when missing or older than what it is made from.
prepare_own_root() {
	local start
	if ! "$BUILD_IMAGE" rootfs-current "$GUEST" "$VM_DIR"; then
		echo "$SUITE: building the $GUEST root filesystem (mmdebstrap)"
		start=$SECONDS
		"$BUILD_IMAGE" rootfs "$GUEST" "$VM_DIR" ||
			give_up "cannot build the $GUEST root filesystem: the guest cannot run"
		echo "$SUITE: root filesystem built in $(took "$start"):" \
			"$(du -sh "$VM_DIR/rootfs" | cut -f1)"
	else
		echo "$SUITE: root filesystem from an earlier run ($VM_DIR/rootfs," \
			"built $(date -r "$VM_DIR/rootfs.stamp" '+%F %R'))"
	fi
	if [[ ! $VM_DIR/initramfs.cpio.gz -nt $VM_DIR/rootfs.stamp ||
	      $ROOT/tests/vm/init -nt $VM_DIR/initramfs.cpio.gz ||
	      $BUILD_IMAGE -nt $VM_DIR/initramfs.cpio.gz ]]; then
		"$BUILD_IMAGE" initramfs "$VM_DIR" || give_up "cannot build the initramfs"
	fi
	# What the guest builds: the work tree without its builds and git's files.
	local exclude=(--exclude-vcs --exclude=./build --exclude=./lb-load --exclude=./lbctl
		--exclude=./xdp-lbd)
	[[ $OUTPUT == "$ROOT"/* ]] && exclude+=("--exclude=./${OUTPUT#"$ROOT"/}")
	tar -C "$ROOT" "${exclude[@]}" -cf "$VM_DIR/source.tar" . ||
		give_up "cannot copy the work tree into $VM_DIR/source.tar"
}

if [[ $(id -u) -ne 0 ]]; then
	echo "ok - $SUITE # SKIP needs root (QEMU shares root-owned files over 9p)"
	echo "$SUITE: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
mkdir -p "$VM_DIR"
# One guest at a time for all of them: they share two CPUs, and a guest's files.
exec 9>"$OUTPUT/vm/run.lock"
flock -n 9 || { echo "$SUITE: waiting for another VM run in $OUTPUT/vm"; flock 9; }
rm -f "$VM_DIR/guest.status"
: >"$VM_DIR/guest.log"
command -v qemu-system-x86_64 >/dev/null || give_up "qemu-system-x86_64 missing (make deps)"
# Paths travel on the kernel command line, which splits at spaces.
[[ $ROOT$OUTPUT != *' '* ]] || give_up "the work tree's path must not contain spaces"

memory=1024
shares=(-fsdev "local,id=vmdir,path=$VM_DIR,security_model=passthrough,multidevs=remap"
	-device virtio-9p-pci,fsdev=vmdir,mount_tag=vmdir)
if [[ $KIND == host ]]; then
	[[ -s $VM_DIR/initramfs.cpio.gz ]] || give_up "no VM image in $VM_DIR (make vm-image)"
	kroot=$VM_DIR/kernel
	shares+=(-fsdev "local,id=hostroot,path=/,security_model=passthrough,readonly=on,multidevs=remap"
		 -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot)
else
	prepare_own_root
	kroot=$VM_DIR/rootfs
	# The compiler runs in the guest, and the build lives in its memory (tmpfs).
	memory=2048
	shares+=(-fsdev "local,id=guestroot,path=$kroot,security_model=passthrough,readonly=on,multidevs=remap"
		 -device virtio-9p-pci,fsdev=guestroot,mount_tag=guestroot)
fi

version=$(ls "$kroot/lib/modules")
cmdline="console=ttyS0 panic=-1 quiet vmroot=$ROOT vmoutput=$OUTPUT vmdir=$VM_DIR"
cmdline+=" vmguest=$KIND vmsuite=$SUITE vmexpect=$EXPECT"
cmdline+=" vmonly=${VM_ONLY:-} vmshell=${VM_SHELL:-0}"
qemu=(qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m "$memory" -nodefaults -display none
      -no-reboot
      -kernel "$kroot/boot/vmlinuz-$version" -initrd "$VM_DIR/initramfs.cpio.gz"
      -append "$cmdline" "${shares[@]}")

if [[ ${VM_SHELL:-0} == 1 ]]; then
	exec "${qemu[@]}" -serial mon:stdio
fi

: >"$VM_DIR/console.log"
start=$SECONDS
# KVM guests hang on this machine (docs/kernels.md): TCG, and a hard time-out.
timeout -k 10 "$TIMEOUT" "${qemu[@]}" -serial "file:$VM_DIR/console.log" &
vm_pid=$!
# The guest writes its test output straight into the share: show it as it comes.
tail -n +1 -f --pid="$vm_pid" "$VM_DIR/guest.log" &
tail_pid=$!
trap 'kill "$vm_pid" "$tail_pid" 2>/dev/null' INT TERM
wait "$vm_pid"
vm_status=$?
wait "$tail_pid"
echo "$SUITE: guest ($GUEST, $version) ran $(took "$start"); console log: $VM_DIR/console.log"

status=$(cat "$VM_DIR/guest.status" 2>/dev/null)
if [[ -z $status ]]; then
	console_tail
	((vm_status == 124 || vm_status == 137)) &&
		give_up "guest stopped after ${TIMEOUT} s (VM_TIMEOUT)"
	give_up "the guest stopped before the tests finished (QEMU status $vm_status)"
fi
# No closing line from the suite: the build in the guest failed, or the suite crashed.
grep -qE "^$SUITE: [0-9]+ passed" "$VM_DIR/guest.log" ||
	give_up "no result from the guest's tests (status $status)"
if ((status != 0)); then
	console_tail
	# The summary goes last again, for tests/run.sh.
	grep -E "^$SUITE: [0-9]+ passed" "$VM_DIR/guest.log" | tail -n 1
fi
exit "$status"
