#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The Debian 12 packages xdp-lb needs, by purpose.
#   install-deps.sh [GROUP...]           install what is missing (root; `make deps`)
#   install-deps.sh --check [GROUP...]   only say what is missing and exit 1 if anything is
#                                        (make test, demo, fuzz and bench run this first)
# GROUP: build, test, demo, bench, install; none = all of them. Safe to run again: apt-get runs
# only when something is absent, so `make deps test` costs nothing once installed.
set -eu
check_only=0
if [[ ${1:-} == --check ]]; then
	check_only=1
	shift
fi
groups=("$@")
((${#groups[@]})) || groups=(build test demo bench install)

packages=()
for group in "${groups[@]}"; do
	case $group in
	build) packages+=(
		clang llvm gcc make pkg-config           # compilers
		libbpf-dev libxdp-dev libelf-dev zlib1g-dev libyaml-dev bpftool   # libraries, skeletons
		libjson-c-dev                            # lbctl --json
		linux-libc-dev                           # kernel UAPI headers for the BPF build
		libmicrohttpd-dev                        # xdp-lbd's metrics endpoint (runtime: libmicrohttpd12)
		libmnl-dev                               # xdp-lbd's VIP routes over rtnetlink (runtime: libmnl0)
	) ;;
	test) packages+=(
		xdp-tools iproute2 util-linux procps     # xdp-loader, ip, nsenter/setpriv, pkill
		python3-jsonschema                       # lbctl's JSON against docs/lbctl.schema.json
		gnuplot-nox pngcheck file                # the demo's chart and its check (test_demo.sh)
		libclang-rt-14-dev                       # libFuzzer and the sanitizers (tests/fuzz/)
		qemu-system-x86 busybox-static kmod socat ethtool   # VM suites (tests/vm/)
		mmdebstrap xz-utils                      # the Debian 13 and unstable guests' roots
		python3 man-db groff-base systemd        # test_service.sh: man pages, the unit
		prometheus curl                          # the daemon suite: promtool check metrics, scrapes
		bird2                                    # the ECMP suite: BGP on the router and balancers
	) ;;
	# make man / make install: the man pages are written by scripts/gen-man.py
	# (Python's standard library only).
	install) packages+=(python3) ;;
	demo) packages+=(
		xdp-tools iproute2 util-linux procps ethtool
		gnuplot-nox                              # make demo's chart (scripts/distribution.gp)
		bird2                                    # make demo-ecmp: BGP on the router and balancers
	) ;;
	# make bench's report: its plot (gnuplot without X) and the script that writes it
	# (Python's standard library only).
	bench) packages+=(gnuplot-nox python3 iproute2 ethtool) ;;
	*)
		echo "install-deps: unknown group '$group' (build, test, demo, bench, install)" >&2
		exit 2
		;;
	esac
done

missing=()
for p in $(printf '%s\n' "${packages[@]}" | sort -u); do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0
if ((check_only)); then
	echo "Missing Debian packages: ${missing[*]}" >&2
	echo "Install them first, as root: make deps   (it runs apt-get install for what is missing)" >&2
	exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "Missing packages: ${missing[*]}" >&2
	echo "Install them as root: sudo make deps (or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
