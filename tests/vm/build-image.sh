#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds what the VM suite boots: Debian 12's own kernel and a busybox initramfs.
#
#   tests/vm/build-image.sh kernel DIR      DIR/kernel/: the linux-image-amd64 kernel and
#                                           its modules, unpacked (never installed: a kernel
#                                           package would run the host's boot hooks)
#   tests/vm/build-image.sh initramfs DIR   DIR/initramfs.cpio.gz: busybox, the modules that
#                                           mount the 9p shares, and tests/vm/init as /init
# The Makefile calls both (make vm-image); the .deb stays in DIR, so a rebuild is offline.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# Loaded in this order by /init: PCI transport, then 9p over virtio (docs/kernels.md).
BOOT_MODULES="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
	      9pnet 9pnet_virtio netfs fscache 9p"

# The versioned image package the metapackage points at, e.g. linux-image-6.1.0-56-amd64.
image_package() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

# Downloads the image package into $1 (as root: apt's sandbox user cannot write there).
download_image() {
	local pkg
	pkg=$(image_package)
	[[ -n $pkg ]] && (cd "$1" && apt-get download -q -o APT::Sandbox::User=root "$pkg")
}

build_kernel() {
	local dir=$1 deb version
	mkdir -p "$dir/download"
	deb=$(ls "$dir"/download/linux-image-*.deb 2>/dev/null | head -n 1 || true)
	if [[ -z $deb ]]; then
		# Package lists may be missing or older than the archive: refresh once.
		if ! download_image "$dir/download"; then
			apt-get update -q
			download_image "$dir/download" ||
				{ echo "build-image: no kernel package to download" >&2; exit 1; }
		fi
		deb=$(ls "$dir"/download/linux-image-*.deb | head -n 1)
	fi
	rm -rf "$dir/kernel"
	dpkg-deb -x "$deb" "$dir/kernel"
	version=$(ls "$dir/kernel/lib/modules")
	# modules.dep, so that modprobe -d finds the guest's modules and their dependencies.
	depmod -b "$dir/kernel" "$version"
	echo "$version" >"$dir/kernel/version"
}

build_initramfs() {
	local dir=$1 version modules m path
	version=$(cat "$dir/kernel/version")
	staging=$(mktemp -d)
	trap 'rm -rf "$staging"' EXIT
	mkdir -p "$staging"/{bin,dev,proc,sys,newroot,modules}
	cp /bin/busybox "$staging/bin/busybox"
	cp "$HERE/init" "$staging/init"
	modules=$dir/kernel/lib/modules/$version
	for m in $BOOT_MODULES; do
		path=$(grep -E "(^|/)$m\.ko:" "$modules/modules.dep" | cut -d: -f1)
		[[ -n $path ]] || { echo "build-image: module $m not in $version" >&2; exit 1; }
		cp "$modules/$path" "$staging/modules/"
		echo "$m" >>"$staging/modules/order"
	done
	# busybox's cpio: one package less; it reports its block count on stderr.
	(cd "$staging" && find . | busybox cpio -o -H newc 2>/dev/null) |
		gzip -1 >"$dir/initramfs.cpio.gz.tmp"
	mv "$dir/initramfs.cpio.gz.tmp" "$dir/initramfs.cpio.gz"
}

case ${1:-} in
kernel) build_kernel "$2" ;;
initramfs) build_initramfs "$2" ;;
*) echo "usage: $0 kernel|initramfs DIR" >&2; exit 2 ;;
esac
