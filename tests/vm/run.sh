#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The vm-dispatcher suite, host side: boots Debian 12's own kernel under QEMU, where
# tests/vm/init runs tests/vm/test_dispatcher.sh; streams the guest's test output and
# ends with its summary line and exit status. Needs `make vm-image` (make test-vm does it).
#   VM_ONLY=name      run only the guest tests whose name contains name
#   VM_TIMEOUT=secs   kill a guest still running after that long (default 600)
#   VM_SHELL=1        console on this terminal and a shell in the guest after the tests
# Files in $OUTPUT/vm: console.log (kernel and init), guest.log (the tests), guest.status.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUTPUT=${OUTPUT:-build}
[[ $OUTPUT = /* ]] || OUTPUT=$ROOT/$OUTPUT
VM_DIR=$OUTPUT/vm
SUITE=vm-dispatcher
TIMEOUT=${VM_TIMEOUT:-600}

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

if [[ $(id -u) -ne 0 ]]; then
	echo "ok - $SUITE # SKIP needs root (the guest shares the host's root read-only)"
	echo "$SUITE: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
command -v qemu-system-x86_64 >/dev/null || give_up "qemu-system-x86_64 missing (make deps)"
[[ -s $VM_DIR/initramfs.cpio.gz ]] || give_up "no VM image in $VM_DIR (make vm-image)"
# Paths travel on the kernel command line, which splits at spaces.
[[ $ROOT$OUTPUT != *' '* ]] || give_up "the work tree's path must not contain spaces"

version=$(cat "$VM_DIR/kernel/version")
cmdline="console=ttyS0 panic=-1 quiet vmroot=$ROOT vmoutput=$OUTPUT vmdir=$VM_DIR"
cmdline+=" vmonly=${VM_ONLY:-} vmshell=${VM_SHELL:-0}"
qemu=(qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 1024 -nodefaults -display none
      -no-reboot
      -kernel "$VM_DIR/kernel/boot/vmlinuz-$version" -initrd "$VM_DIR/initramfs.cpio.gz"
      -append "$cmdline"
      -fsdev "local,id=hostroot,path=/,security_model=passthrough,readonly=on,multidevs=remap"
      -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
      -fsdev "local,id=vmdir,path=$VM_DIR,security_model=passthrough,multidevs=remap"
      -device virtio-9p-pci,fsdev=vmdir,mount_tag=vmdir)

# One guest at a time per build dir: another run waits (they share these files).
exec 9>"$VM_DIR/run.lock"
flock -n 9 || { echo "$SUITE: waiting for another VM run in $VM_DIR"; flock 9; }
rm -f "$VM_DIR/guest.status"
: >"$VM_DIR/guest.log"
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
echo "$SUITE: guest ran $((SECONDS - start)) s; console log: $VM_DIR/console.log"

status=$(cat "$VM_DIR/guest.status" 2>/dev/null)
if [[ -z $status ]]; then
	console_tail
	((vm_status == 124 || vm_status == 137)) &&
		give_up "guest stopped after ${TIMEOUT} s (VM_TIMEOUT)"
	give_up "the guest stopped before the tests finished (QEMU status $vm_status)"
fi
if ((status != 0)); then
	console_tail
	# The summary goes last again, for tests/run.sh.
	grep -E "^$SUITE: [0-9]+ passed" "$VM_DIR/guest.log" | tail -n 1
fi
exit "$status"
