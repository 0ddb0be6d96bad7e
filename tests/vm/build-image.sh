#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds what the VM suites boot (tests/vm/run.sh):
#
#   tests/vm/build-image.sh kernel DIR      DIR/kernel/: Debian 12's linux-image-amd64 kernel
#                                           and its modules, unpacked (never installed: a
#                                           kernel package would run the host's boot hooks)
#   tests/vm/build-image.sh rootfs RELEASE DIR
#                                           DIR/rootfs/: a Debian RELEASE (trixie, sid) root
#                                           filesystem with its own kernel, toolchain and
#                                           libraries, built with mmdebstrap
#   tests/vm/build-image.sh initramfs DIR   DIR/initramfs.cpio.gz: busybox, the modules that
#                                           mount the 9p shares, and tests/vm/init as /init;
#                                           the kernel comes from DIR/kernel or DIR/rootfs
# The Makefile calls kernel and initramfs for Debian 12 (make vm-image); run.sh builds the
# other releases' images when they are missing. Downloads stay in DIR: a rebuild of the
# initramfs is offline.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# What mounts the 9p shares; each comes with its dependencies from modules.dep, or not
# at all where the kernel has it built in (docs/kernels.md).
BOOT_MODULES="virtio_pci 9pnet_virtio 9p"
# Debian packages of a release's own root: its kernel, what builds xdp-lb, what the
# guest tests run (test_dispatcher.sh, scripts/topology.sh, tests/integration/lib.sh).
ROOTFS_PACKAGES=linux-image-amd64,kmod,busybox-static,clang,llvm,gcc,make,pkg-config,libc6-dev
ROOTFS_PACKAGES+=,libbpf-dev,libxdp-dev,libelf-dev,zlib1g-dev,libyaml-dev,libjson-c-dev,bpftool,xdp-tools
# xdp-lbd (the health checks through the tunnel): libmicrohttpd and libmnl.
ROOTFS_PACKAGES+=,libmicrohttpd-dev,libmnl-dev
ROOTFS_PACKAGES+=,iproute2,ethtool,socat,procps
# mmdebstrap may hang on a dead mirror: a guest that cannot be built fails, loudly.
ROOTFS_TIMEOUT=${VM_ROOTFS_TIMEOUT:-900}

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

# The Debian mirror this machine's apt uses (VM_MIRROR overrides it).
debian_mirror() {
	if [[ -n ${VM_MIRROR:-} ]]; then
		echo "$VM_MIRROR"
		return
	fi
	apt-cache policy | awk '$2 ~ /^https?:/ && $3 ~ /^[a-z]+\/main$/ &&
				$3 !~ /-(updates|security|backports)\// { print $2; exit }'
}

# What rootfs.stamp records: a root built from anything else is built again.
rootfs_recipe() {
	echo "release=$1 mirror=$2 packages=$ROOTFS_PACKAGES"
}

# True when DIR/rootfs was built from today's recipe for release $1.
rootfs_current() {
	local release=$1 dir=$2 mirror
	mirror=$(debian_mirror)
	[[ -d $dir/rootfs && -f $dir/rootfs.stamp ]] &&
		[[ $(cat "$dir/rootfs.stamp") == "$(rootfs_recipe "$release" "$mirror")" ]]
}

build_rootfs() {
	local release=$1 dir=$2 mirror opts=()
	mirror=$(debian_mirror)
	[[ -n $mirror ]] || { echo "build-image: no Debian mirror in apt's sources" >&2; exit 1; }
	command -v mmdebstrap >/dev/null ||
		{ echo "build-image: mmdebstrap missing (make deps)" >&2; exit 1; }
	# The archive may serve unstable's Release file past its Valid-Until date
	# (docs/kernels.md); the other releases keep apt's check.
	[[ $release == sid || $release == unstable ]] &&
		opts+=(--aptopt='Acquire::Check-Valid-Until "false"')
	mkdir -p "$dir"
	rm -rf "$dir/rootfs" "$dir/rootfs.new" "$dir/rootfs.stamp"
	# Documentation and translations: nothing in the guest reads them.
	if ! timeout "$ROOTFS_TIMEOUT" mmdebstrap --quiet --variant=apt \
		--include="$ROOTFS_PACKAGES" "${opts[@]}" \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		"$release" "$dir/rootfs.new" "$mirror" >"$dir/rootfs.log" 2>&1; then
		tail -n 20 "$dir/rootfs.log" >&2
		echo "build-image: mmdebstrap could not build $release from $mirror (is the" \
			"mirror reachable?); its log: $dir/rootfs.log" >&2
		rm -rf "$dir/rootfs.new"
		exit 1
	fi
	# The kernel package made an initramfs for a real disk; the guest boots its own.
	rm -f "$dir"/rootfs.new/boot/initrd.img-*
	mv "$dir/rootfs.new" "$dir/rootfs"
	rootfs_recipe "$release" "$mirror" >"$dir/rootfs.stamp"
}

# The directory holding the guest's boot/ and lib/modules/: DIR/rootfs or DIR/kernel.
kernel_root() {
	if [[ -d $1/rootfs ]]; then
		echo "$1/rootfs"
	else
		echo "$1/kernel"
	fi
}

# BOOT_MODULES and their dependencies, in load order, as paths in modules.dep ($1).
boot_module_paths() {
	local modules=$1 m line deps i
	local -A seen
	for m in $BOOT_MODULES; do
		line=$(grep -E "(^|/)$m\.ko(\.[a-z]+)?:" "$modules/modules.dep" || true)
		if [[ -z $line ]]; then
			grep -qE "(^|/)$m\.ko\$" "$modules/modules.builtin" ||
				{ echo "build-image: module $m neither in nor built into" \
					"$(basename "$modules")" >&2; exit 1; }
			continue
		fi
		# modules.dep names a module's dependencies, the last to load first.
		read -r -a deps <<<"${line#*:}"
		for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
			[[ -n ${seen[${deps[i]}]:-} ]] || { seen[${deps[i]}]=1; echo "${deps[i]}"; }
		done
		line=${line%%:*}
		[[ -n ${seen[$line]:-} ]] || { seen[$line]=1; echo "$line"; }
	done
}

build_initramfs() {
	local dir=$1 kroot version modules path name
	kroot=$(kernel_root "$dir")
	version=$(ls "$kroot/lib/modules")
	staging=$(mktemp -d)
	trap 'rm -rf "$staging"' EXIT
	mkdir -p "$staging"/{bin,dev,proc,sys,newroot,modules}
	cp /bin/busybox "$staging/bin/busybox"
	cp "$HERE/init" "$staging/init"
	modules=$kroot/lib/modules/$version
	for path in $(boot_module_paths "$modules"); do
		name=$(basename "$path")
		name=${name%%.ko*}
		# busybox's insmod takes plain modules: the releases after 12 compress theirs.
		case $path in
		*.ko) cp "$modules/$path" "$staging/modules/$name.ko" ;;
		*.ko.xz) xz -dc "$modules/$path" >"$staging/modules/$name.ko" ;;
		*) echo "build-image: cannot unpack $path" >&2; exit 1 ;;
		esac
		echo "$name" >>"$staging/modules/order"
	done
	# busybox's cpio: one package less; it reports its block count on stderr.
	(cd "$staging" && find . | busybox cpio -o -H newc 2>/dev/null) |
		gzip -1 >"$dir/initramfs.cpio.gz.tmp"
	mv "$dir/initramfs.cpio.gz.tmp" "$dir/initramfs.cpio.gz"
}

case ${1:-} in
kernel) build_kernel "$2" ;;
rootfs) build_rootfs "$2" "$3" ;;
rootfs-current) rootfs_current "$2" "$3" ;;
initramfs) build_initramfs "$2" ;;
*) echo "usage: $0 kernel DIR | rootfs RELEASE DIR | rootfs-current RELEASE DIR |" \
	"initramfs DIR" >&2; exit 2 ;;
esac
