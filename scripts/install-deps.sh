#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Installs the Debian 12 packages xdp-lb needs to build and test, if any is
# missing. Safe to run again: it only calls apt-get when something is absent.
set -eu
packages=(
	clang llvm gcc make pkg-config           # compilers
	libbpf-dev libxdp-dev libelf-dev zlib1g-dev libyaml-dev bpftool   # libraries, skeletons
	xdp-tools iproute2 util-linux             # xdp-loader, ip, nsenter/setpriv
	linux-libc-dev                            # kernel UAPI headers for the BPF build
)
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
