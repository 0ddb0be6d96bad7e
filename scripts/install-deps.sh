#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Installs the Debian 12 packages xdp-lb needs to build and test, if any is
# missing. Safe to run again: it only calls apt-get when something is absent.
set -eu
packages=(
	clang llvm gcc make pkg-config           # compilers
	libbpf-dev libxdp-dev libelf-dev zlib1g-dev libyaml-dev bpftool   # libraries, skeletons
	xdp-tools iproute2 util-linux procps      # xdp-loader, ip, nsenter/setpriv, pkill
	linux-libc-dev                            # kernel UAPI headers for the BPF build
	libpng-dev                                # make demo's bar chart (tests/tools/bar_chart.c)
	libclang-rt-14-dev                        # libFuzzer and the sanitizers (tests/fuzz/)
	qemu-system-x86 busybox-static kmod socat ethtool   # VM suites (tests/vm/)
	mmdebstrap xz-utils                       # the Debian 13 and unstable guests' roots
)
# `install-deps.sh bench` (make bench) adds the report's: its plot (gnuplot without X)
# and the script that writes it (Python's standard library only).
if [[ ${1:-} == bench ]]; then
	packages+=(gnuplot-nox python3)
fi
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0
if [[ $(id -u) -ne 0 ]]; then
	echo "Missing packages: ${missing[*]}" >&2
	echo "Install them as root: sudo apt-get install ${missing[*]} (or: sudo make deps)" >&2
	exit 1
fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
