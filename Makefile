# SPDX-License-Identifier: GPL-2.0
# xdp-lb: everything builds into $(OUTPUT); lb-load and lbctl land at the top.
#   make            build the BPF stages, lb-load and lbctl
#   make deps       install the Debian packages everything below needs (root, apt-get)
#   make test       build and run every test suite (root: tests use BPF and netns)
#   make test TESTS=parse   run the suites whose name contains "parse"
#   make help       list the targets

# SANITIZE=1: userspace built with ASan and UBSan into build/sanitize/ (make sanitize).
ifeq ($(SANITIZE),1)
OUTPUT ?= build/sanitize
endif
OUTPUT ?= build
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc
PKG_CONFIG ?= pkg-config

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SUFFIXES:
# Keep intermediate objects (tools are linked from tests/tools/*.o).
.SECONDARY:

MULTIARCH := $(shell $(CC) -dumpmachine 2>/dev/null)
BPF_INCLUDES := -Ibpf/include -I/usr/include/$(MULTIARCH)
BPF_CFLAGS := -g -O2 -target bpf -Wall -Werror $(BPF_INCLUDES)

CFLAGS ?= -g -O2
CFLAGS += -Wall -Wextra -Werror -std=gnu11 -Ibpf/include -Iloader -I$(OUTPUT)/skel \
	  -I$(OUTPUT)/gen $(EXTRA_CFLAGS)
ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
.DEFAULT_GOAL := sanitize
endif
LIBS := $(shell $(PKG_CONFIG) --libs libxdp libbpf yaml-0.1 2>/dev/null || \
	  echo -lxdp -lbpf -lyaml) -lelf -lz
# lbctl's --json output.
JSON_LIBS := $(shell $(PKG_CONFIG) --libs json-c 2>/dev/null || echo -ljson-c)

# BPF stage programs: one object and one skeleton each. Every .bpf.c under
# bpf/lb/ and bpf/encap/ is a stage of the library (LB_POLICIES and
# LB_FORWARDING_STAGES in bpf/include/lb_consts_common.h list them;
# tests/unit/test_registry.c checks that the two agree).
BPF_STAGE_SRCS := $(sort $(wildcard bpf/lb/*.bpf.c bpf/encap/*.bpf.c))
# Not stages: xdp-lbd's LWT program for the health probes through the tunnel.
BPF_HEALTH_SRCS := $(sort $(wildcard bpf/health/*.bpf.c))
BPF_SRCS := bpf/parse/parse.bpf.c $(BPF_STAGE_SRCS) $(BPF_HEALTH_SRCS)
TEST_BPF_SRCS := tests/unit/sinks.bpf.c
BPF_HDRS := $(wildcard bpf/include/*.h bpf/*/*.bpf.h)

bpf_obj = $(OUTPUT)/bpf/$(notdir $(1:.bpf.c=.bpf.o))
skel = $(OUTPUT)/skel/$(notdir $(1:.bpf.c=.skel.h))
BPF_OBJS := $(foreach s,$(BPF_SRCS) $(TEST_BPF_SRCS),$(call bpf_obj,$(s)))
SKELS := $(foreach s,$(BPF_SRCS),$(call skel,$(s)))
TEST_SKELS := $(foreach s,$(TEST_BPF_SRCS),$(call skel,$(s)))

LOADER_LIB_SRCS := loader/config.c loader/yaml_reader.c loader/counter_names.c loader/pipeline.c \
		   loader/maps.c loader/map_sizes.c loader/pins.c loader/log.c loader/apply.c loader/stages.c loader/maglev.c \
		   loader/netdev.c loader/host.c loader/state.c loader/input.c loader/cli.c \
		   loader/stats.c loader/version.c loader/caps.c loader/health.c
LOADER_LIB_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(LOADER_LIB_SRCS))

TEST_LIB_SRCS := tests/lib/test_harness.c tests/lib/packet.c tests/lib/xdp_test_run.c \
		 tests/lib/stage_fixture.c
TEST_LIB_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(TEST_LIB_SRCS))

# Every tests/unit/test_<name>.c is a unit suite; tests/run.sh finds them the same way.
UNIT_TESTS := $(patsubst tests/unit/test_%.c,%,$(sort $(wildcard tests/unit/test_*.c)))
UNIT_TEST_BINS := $(patsubst %,$(OUTPUT)/tests/test_%,$(UNIT_TESTS))
CONFIG_TEST_BIN := $(OUTPUT)/tests/test_config
TOOL_BINS := $(OUTPUT)/tools/flow_send $(OUTPUT)/tools/ipip_capture $(OUTPUT)/bpf/xdp_pass.bpf.o
# Echo requests, ICMP errors, DF datagrams and an ICMP listener (no ping or tcpdump needed).
TOOL_BINS += $(OUTPUT)/tools/icmp_tool
# The receiver of plain UDP/TCP frames and a stand-in for a kernel that refuses
# live frames (tests/integration/test_senders.sh).
TOOL_BINS += $(OUTPUT)/tools/frame_capture $(OUTPUT)/tools/refuse_live.so
# Demo and benchmark tools: the live-frames sender (the demo's chart is gnuplot's).
TOOL_BINS += $(OUTPUT)/tools/xdp_send
# The VM suites (tests/vm/) boot Debian 12's own kernel, whose files live in $(VM_DIR),
# and Debian 13's and unstable's own root filesystems, in $(VM_DIR)/trixie and /sid.
VM_DIR := $(OUTPUT)/vm
VM_FILES := $(VM_DIR)/initramfs.cpio.gz $(OUTPUT)/bpf/xdp_port_count.bpf.o
# What a guest with its own root builds with its own toolchain (tests/vm/init): lb-load,
# lbctl and what the guest tests use.
VM_GUEST_FILES := $(OUTPUT)/tools/flow_send $(OUTPUT)/tools/ipip_capture $(OUTPUT)/tools/icmp_tool \
		  $(OUTPUT)/bpf/xdp_pass.bpf.o $(OUTPUT)/bpf/xdp_port_count.bpf.o

.PHONY: all
all: lb-load lbctl xdp-lbd

# --- BPF objects and skeletons -------------------------------------------------
# One rule for every BPF object, the stages' and the tests', tools' and
# benchmarks' alike: vpath finds its source, so object names must be unique
# across these folders (checked here).
BPF_SRC_DIRS := bpf/parse bpf/lb bpf/encap bpf/health tests/unit tests/tools tests/vm bench
BPF_OBJECT_NAMES := $(notdir $(wildcard $(addsuffix /*.bpf.c,$(BPF_SRC_DIRS))))
BPF_NAMES_TWICE := $(sort $(foreach n,$(BPF_OBJECT_NAMES), \
	$(if $(filter-out 1,$(words $(filter $(n),$(BPF_OBJECT_NAMES)))),$(n))))
ifneq ($(BPF_NAMES_TWICE),)
$(error Two .bpf.c files in $(BPF_SRC_DIRS) share a name: $(BPF_NAMES_TWICE))
endif
vpath %.bpf.c $(BPF_SRC_DIRS)
$(OUTPUT)/bpf/%.bpf.o: %.bpf.c $(BPF_HDRS) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# A stage's .rodata holds a struct lb_tunables, which its skeleton names but
# does not define: every skeleton includes the definition first.
$(OUTPUT)/skel/%.skel.h: $(OUTPUT)/bpf/%.bpf.o | $(OUTPUT)/skel
	$(call msg,SKEL,$@){ echo '#include "lb_tunables_common.h"'; \
	  $(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf; } > $@

# Every stage's skeleton, for the stage library (loader/stages.c), and the
# names of the objects built, for the registry test. Written again on every
# make but replaced only when it changes, so adding or removing a .bpf.c
# rebuilds what includes it, and nothing else does.
STAGE_OBJECT_NAMES := $(notdir $(BPF_STAGE_SRCS:.bpf.c=))
$(OUTPUT)/skel/stage_skels.h: $(foreach s,$(BPF_STAGE_SRCS),$(call skel,$(s))) FORCE
	$(Q){ echo '/* Generated by the Makefile: every stage skeleton. */'; \
	  $(foreach o,$(STAGE_OBJECT_NAMES),echo '#include "$(o).skel.h"';) \
	  echo '#define LB_BUILT_STAGE_OBJECTS "$(STAGE_OBJECT_NAMES)"'; } > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; echo '  GEN      $@'; fi
.PHONY: FORCE
FORCE:

# The version --version prints (loader/version.h): git describe of this tree
# (not of a repository it was unpacked in), else the first line of a VERSION
# file (a tree without .git), else "unknown";
# only characters a version string is made of. Written on every make, replaced
# only when it changes: a new commit recompiles version.c and relinks the tools.
$(OUTPUT)/gen/lb_version.h: FORCE
	@mkdir -p $(@D)
	$(Q)v=$$({ [ "$$(git -C $(CURDIR) rev-parse --show-toplevel 2>/dev/null)" = $(CURDIR) ] && \
	    git -C $(CURDIR) describe --always --dirty; } 2>/dev/null || \
	    head -n 1 VERSION 2>/dev/null || echo unknown); \
	  v=$$(printf '%s' "$$v" | tr -cd 'A-Za-z0-9.+~_-'); \
	  { echo '/* Generated by the Makefile: the version --version prints. */'; \
	    echo "#define LB_VERSION \"$${v:-unknown}\""; } > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; echo '  GEN      $@'; fi

# --- userspace -------------------------------------------------------------------
# Header dependencies come from -MMD; the skeletons an object includes are named
# below, so that one stage's build never waits on another's.
$(OUTPUT)/%.o: %.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -MMD -MP -Itests/lib -c $< -o $@

$(OUTPUT)/loader/pipeline.o $(OUTPUT)/loader/stages.o: $(SKELS) $(OUTPUT)/skel/stage_skels.h
$(OUTPUT)/loader/version.o: $(OUTPUT)/gen/lb_version.h
$(OUTPUT)/loader/lbd_tunnel.o: $(call skel,bpf/health/probe_encap.bpf.c)
$(OUTPUT)/tests/unit/test_parse.o: $(call skel,bpf/parse/parse.bpf.c) $(TEST_SKELS)
$(OUTPUT)/tests/unit/test_lb.o: $(call skel,bpf/lb/least_loaded.bpf.c) $(TEST_SKELS)
$(OUTPUT)/tests/unit/test_encap.o: $(call skel,bpf/encap/ipip.bpf.c) $(TEST_SKELS)
$(OUTPUT)/tests/unit/test_ipip6.o: $(call skel,bpf/encap/ipip.bpf.c) $(TEST_SKELS)
$(OUTPUT)/tests/unit/test_gue.o: $(call skel,bpf/encap/gue.bpf.c) $(TEST_SKELS)
$(OUTPUT)/tests/unit/test_gue6.o: $(call skel,bpf/encap/gue.bpf.c) $(TEST_SKELS)
$(OUTPUT)/tests/unit/test_nat.o: $(call skel,bpf/encap/nat.bpf.c) $(TEST_SKELS)
$(OUTPUT)/tests/unit/test_nat6.o: $(call skel,bpf/encap/nat.bpf.c) $(TEST_SKELS)
$(OUTPUT)/tests/unit/test_icmp.o: $(call skel,bpf/encap/icmp.bpf.c) $(TEST_SKELS)
$(OUTPUT)/tests/unit/test_icmp_nat.o: $(call skel,bpf/encap/icmp.bpf.c) $(TEST_SKELS)
$(OUTPUT)/tests/lib/stage_fixture.o: $(TEST_SKELS)
$(OUTPUT)/tests/unit/test_health_probe_encap.o: $(call skel,bpf/health/probe_encap.bpf.c)
# The policy tests build whole balancers with the loader's own library.
$(OUTPUT)/tests/unit/test_policies.o: $(SKELS) $(TEST_SKELS)
$(OUTPUT)/tests/test_policies: $(LOADER_LIB_OBJS)
# The metrics test renders made-up samples with the daemon's renderer.
$(OUTPUT)/tests/test_metrics: $(OUTPUT)/loader/lbd_metrics.o $(LOADER_LIB_OBJS)
# The registry test checks the stage library against the objects built.
$(OUTPUT)/tests/unit/test_registry.o: $(SKELS) $(OUTPUT)/skel/stage_skels.h
$(OUTPUT)/tests/test_registry: $(LOADER_LIB_OBJS)

# Not in $(VM_DIR): the guests' root filesystems are full of directories named *.d.
-include $(shell find $(OUTPUT) -path $(VM_DIR) -prune -o -name '*.d' -print 2>/dev/null)

lb-load: $(OUTPUT)/loader/lb_load.o $(LOADER_LIB_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

LBCTL_OBJS := $(patsubst %,$(OUTPUT)/loader/%.o,lbctl lbctl_stats lbctl_complete lbctl_status \
	      lbctl_flows lbctl_reset)
lbctl: $(LBCTL_OBJS) $(LOADER_LIB_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $^ $(LIBS) $(JSON_LIBS) -o $@

# The daemon (loader/lbd_*.c): metrics over HTTP with libmicrohttpd, and a textfile;
# the VIP announcement's routes over rtnetlink with libmnl.
LBD_SRCS := $(sort $(wildcard loader/lbd_*.c))
LBD_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(LBD_SRCS))
LBD_LIBS := $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
LBD_LIBS += $(shell $(PKG_CONFIG) --libs libmnl 2>/dev/null || echo -lmnl)
xdp-lbd: $(LBD_OBJS) $(LOADER_LIB_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $^ $(LIBS) $(LBD_LIBS) -o $@

# Unit tests link only what they test: the stage skeletons and the test library.
$(OUTPUT)/tests/test_%: $(OUTPUT)/tests/unit/test_%.o $(TEST_LIB_OBJS) $(OUTPUT)/loader/counter_names.o
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $^ $(LIBS) -o $@
# The health state machine is plain C of the loader's library.
$(OUTPUT)/tests/test_health: $(OUTPUT)/loader/health.o $(OUTPUT)/loader/maps.o
# The probes, against servers the test plays itself in a namespace of its own.
$(OUTPUT)/tests/test_probe: $(OUTPUT)/loader/lbd_probe.o
# The probes' LWT program, through a route made by xdp-lbd's netlink code.
$(OUTPUT)/tests/test_health_probe_encap: $(OUTPUT)/loader/lbd_routes.o
$(OUTPUT)/tests/test_health_probe_encap: LIBS += $(shell $(PKG_CONFIG) --libs libmnl 2>/dev/null || echo -lmnl)
# The encap stage tests share their network, backends and case runner.
$(OUTPUT)/tests/test_encap $(OUTPUT)/tests/test_gue $(OUTPUT)/tests/test_nat \
$(OUTPUT)/tests/test_nat6 $(OUTPUT)/tests/test_ipip6 $(OUTPUT)/tests/test_gue6 \
$(OUTPUT)/tests/test_icmp_nat: \
	$(OUTPUT)/tests/unit/encap_fixture.o

$(CONFIG_TEST_BIN): $(OUTPUT)/tests/config/test_config.o $(TEST_LIB_OBJS) \
		    $(OUTPUT)/loader/config.o $(OUTPUT)/loader/yaml_reader.o \
		    $(OUTPUT)/loader/counter_names.o
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

$(OUTPUT)/tools/%: $(OUTPUT)/tests/tools/%.o $(OUTPUT)/tests/lib/packet.o
	@mkdir -p $(@D)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $^ -o $@
# The two capture tools count frames per flow the same way.
$(OUTPUT)/tools/ipip_capture $(OUTPUT)/tools/frame_capture: $(OUTPUT)/tests/lib/flow_tally.o

# xdp_send embeds its XDP program (skeleton) and has one file per method.
XDP_SEND_OBJS := $(patsubst %,$(OUTPUT)/tests/tools/%.o,xdp_send xdp_send_live xdp_send_afxdp \
		   xdp_send_packet)
$(OUTPUT)/tests/tools/xdp_send_live.o: $(OUTPUT)/skel/xdp_send.skel.h
$(OUTPUT)/tools/xdp_send: $(XDP_SEND_OBJS) $(OUTPUT)/tests/lib/packet.o $(OUTPUT)/loader/netdev.o
	@mkdir -p $(@D)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $^ $(LIBS) -lpthread -o $@
$(OUTPUT)/tools/refuse_live.so: tests/tools/refuse_live.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -shared -fPIC $< -o $@

$(OUTPUT)/bpf $(OUTPUT)/skel:
	$(Q)mkdir -p $@

# --- tests -------------------------------------------------------------------------
.PHONY: test test-build deps demo
test-build: all $(UNIT_TEST_BINS) $(CONFIG_TEST_BIN) $(TOOL_BINS)

# TESTS=substring picks suites by name; see tests/run.sh.
test:
	$(Q)scripts/install-deps.sh --check build test
	$(Q)$(MAKE) --no-print-directory test-build vm-image
	$(Q)OUTPUT=$(OUTPUT) tests/run.sh $(TESTS)

# The VM suites alone (tests/vm/run.sh; VM_ONLY=name picks guest tests, see docs/testing.md).
.PHONY: test-vm vm-image vm-guest-build
test-vm:
	$(Q)scripts/install-deps.sh --check build test
	$(Q)$(MAKE) --no-print-directory test-build vm-image
	$(Q)OUTPUT=$(OUTPUT) tests/run.sh $(or $(TESTS),vm-)

vm-image: $(VM_FILES)

# xdp-lbd too: the guests run the health checks through the tunnel (tests/vm/health_tunnel.sh).
vm-guest-build: lb-load lbctl xdp-lbd $(VM_GUEST_FILES)

# The kernel package is downloaded once (apt-get download, never installed) and kept.
$(VM_DIR)/kernel/version:
	$(call msg,KERNEL,$(VM_DIR)/kernel)tests/vm/build-image.sh kernel $(VM_DIR)

$(VM_DIR)/initramfs.cpio.gz: tests/vm/init tests/vm/build-image.sh $(VM_DIR)/kernel/version
	$(call msg,INITRD,$@)tests/vm/build-image.sh initramfs $(VM_DIR)

# The main job on a local lab of network namespaces (see scripts/demo.sh).
# It needs lb-load, lbctl and the traffic tools (the chart is gnuplot's), not the test suites.
demo:
	$(Q)scripts/install-deps.sh --check build demo
	$(Q)$(MAKE) --no-print-directory all tools
	$(Q)OUTPUT=$(OUTPUT) scripts/demo.sh

# Several balancers behind an ECMP router with BIRD (scripts/demo_ecmp.sh,
# docs/scale-out.md).
.PHONY: demo-ecmp
demo-ecmp:
	$(Q)scripts/install-deps.sh --check build demo
	$(Q)$(MAKE) --no-print-directory all tools
	$(Q)OUTPUT=$(OUTPUT) scripts/demo_ecmp.sh

.PHONY: tools
tools: $(TOOL_BINS)

# Installs the Debian packages the build, the tests, the demo and the benchmarks need,
# if any is missing (apt-get, as root). It is a step of its own: test, demo, fuzz and
# bench only check and name what is missing. `make deps test` does both.
deps:
	$(Q)scripts/install-deps.sh

# --- benchmarks (bench/, docs/performance.md): as root, not part of make test -------
BENCH_BIN := $(OUTPUT)/bench/prog_cost
BENCH_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,bench/prog_cost.c bench/cost_cases.c \
		bench/cost_run.c bench/cost_pipeline.c)
BENCH_TRIAL := $(OUTPUT)/bench/veth_trial
BENCH_FILES := $(BENCH_BIN) $(BENCH_TRIAL) $(OUTPUT)/tools/xdp_send $(OUTPUT)/bpf/xdp_tx_floor.bpf.o \
		$(OUTPUT)/bpf/xdp_pass.bpf.o
$(OUTPUT)/bench/prog_cost.o: $(call skel,bench/xdp_tx_floor.bpf.c) $(TEST_SKELS)
$(OUTPUT)/bench/cost_pipeline.o $(OUTPUT)/bench/cost_cases.o: $(SKELS) $(TEST_SKELS)
$(BENCH_BIN): $(BENCH_OBJS) $(LOADER_LIB_OBJS) $(TEST_LIB_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $^ $(LIBS) -lpthread -o $@
$(OUTPUT)/bench/veth_trial.o: $(call skel,bench/backend_sink.bpf.c)
$(BENCH_TRIAL): $(OUTPUT)/bench/veth_trial.o
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

.PHONY: bench bench-build
bench-build: all $(BENCH_FILES)
bench:
	$(Q)scripts/install-deps.sh --check build bench
	$(Q)$(MAKE) --no-print-directory bench-build
	$(Q)OUTPUT=$(OUTPUT) bench/run.sh

# --- fuzzing and sanitizers (docs/fuzzing.md) --------------------------------------
# The packet fuzzer runs a short seeded pass in `make test`; `make fuzz` runs it
# long with a fresh seed, then the config parser and the command-line parsers
# under libFuzzer.
FUZZ_SRCS := tests/fuzz/fuzz_packets.c tests/fuzz/frame_gen.c tests/fuzz/parse_model.c \
	     tests/fuzz/encap_model.c tests/fuzz/fuzz_pipeline.c tests/fuzz/fuzz_flows.c \
	     tests/fuzz/icmp_model.c
FUZZ_PACKETS_BIN := $(OUTPUT)/tests/fuzz_packets
FUZZ_CONFIG_BIN := $(OUTPUT)/fuzz/fuzz_config
FUZZ_CLI_BIN := $(OUTPUT)/fuzz/fuzz_cli
FUZZ_FRAMES ?= 1000000
FUZZ_SECONDS ?= 60
FUZZ_CLI_SECONDS ?= 30
FUZZ_SEED ?=
test-build: $(FUZZ_PACKETS_BIN)

$(OUTPUT)/tests/fuzz/fuzz_pipeline.o: $(SKELS)
$(FUZZ_PACKETS_BIN): $(patsubst %.c,$(OUTPUT)/%.o,$(FUZZ_SRCS)) $(LOADER_LIB_OBJS) \
		     $(OUTPUT)/tests/lib/test_harness.o $(OUTPUT)/tests/lib/packet.o
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

# libFuzzer comes with clang: the parser is compiled again with its instrumentation.
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	       -Ibpf/include -Iloader
$(FUZZ_CONFIG_BIN): tests/fuzz/fuzz_config.c loader/config.c loader/yaml_reader.c loader/config.h \
		    loader/yaml_reader.h $(BPF_HDRS)
	@mkdir -p $(@D)
	$(call msg,FUZZ,$@)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -lyaml -o $@
$(FUZZ_CLI_BIN): tests/fuzz/fuzz_cli.c loader/cli.c loader/input.c loader/lbd_options.c \
		 loader/cli.h loader/input.h loader/lbd_options.h
	@mkdir -p $(@D)
	$(call msg,FUZZ,$@)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -lm -o $@

.PHONY: fuzz sanitize
fuzz:
	$(Q)scripts/install-deps.sh --check build test
	$(Q)$(MAKE) --no-print-directory test-build $(FUZZ_CONFIG_BIN) $(FUZZ_CLI_BIN)
	$(Q)OUTPUT=$(OUTPUT) FUZZ_FRAMES=$(FUZZ_FRAMES) FUZZ_SECONDS=$(FUZZ_SECONDS) \
		FUZZ_CLI_SECONDS=$(FUZZ_CLI_SECONDS) \
		FUZZ_SEED=$(FUZZ_SEED) tests/fuzz/run_fuzz.sh

# With SANITIZE=1 (the default goal then): lb-load and lbctl land in $(OUTPUT), not
# over ./lb-load, with the unit, config and fuzz test binaries beside them;
# tests/fuzz/test_sanitized.sh builds and runs them in `make test`.
sanitize: $(OUTPUT)/lb-load $(OUTPUT)/lbctl $(OUTPUT)/xdp-lbd $(UNIT_TEST_BINS) $(CONFIG_TEST_BIN) \
	  $(FUZZ_PACKETS_BIN) $(FUZZ_CONFIG_BIN) $(FUZZ_CLI_BIN)
$(OUTPUT)/lb-load: $(OUTPUT)/loader/lb_load.o $(LOADER_LIB_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $^ $(LIBS) -o $@
$(OUTPUT)/lbctl: $(LBCTL_OBJS) $(LOADER_LIB_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $^ $(LIBS) $(JSON_LIBS) -o $@
$(OUTPUT)/xdp-lbd: $(LBD_OBJS) $(LOADER_LIB_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $^ $(LIBS) $(LBD_LIBS) -o $@

# --- install (docs/operations.md, "Install and run as a service") -------------------
# GNU-style directories, DESTDIR for packaging. The configs live under
# $(SYSCONFDIR)/xdp-lb, /etc whatever the prefix: the unit reads them there. The
# BPF stages are embedded in lb-load (skeletons): nothing else is installed for them.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/xdp-lb
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
INSTALL ?= install
PYTHON ?= python3

PROGRAMS := lb-load lbctl xdp-lbd
MAN_DIR := $(OUTPUT)/man
MAN_PAGES := $(patsubst %,$(MAN_DIR)/%.8,$(PROGRAMS)) $(MAN_DIR)/xdp-lb.yaml.5
MAN_REFS := $(patsubst %,%(8),$(PROGRAMS)) xdp-lb.yaml(5)
DIST_FILES := $(patsubst %,$(OUTPUT)/dist/%,xdp-lb@.service example.yaml example.env)
SAMPLES := example.yaml example.env
DOC_FILES := $(sort $(wildcard docs/*.md))

# Man pages: from each tool's --help (and each lbctl command's), and from
# docs/configuration.md (scripts/gen-man.py), so they cannot drift from either.
MAN_NAME_lb-load := load xdp-lb on an interface, reload its config in place, unload it
MAN_NAME_lbctl := look at and steer xdp-lb on an interface
MAN_NAME_xdp-lbd := serve the metrics of xdp-lb on an interface, run its health checks
# What the pages are written with is there, or make says what to install.
.PHONY: man-deps
man-deps:
	$(Q)scripts/install-deps.sh --check install
man_version = "$$(sed -n 's/.*LB_VERSION "\(.*\)"/\1/p' $(OUTPUT)/gen/lb_version.h)"
$(MAN_DIR)/%.8: % scripts/gen-man.py $(OUTPUT)/gen/lb_version.h | man-deps
	@mkdir -p $(@D)
	$(call msg,MAN,$@)$(PYTHON) scripts/gen-man.py tool ./$* 8 "$(MAN_NAME_$*)" \
		$(man_version) $(patsubst %,'%',$(filter-out $*(8),$(MAN_REFS))) > $@
$(MAN_DIR)/xdp-lb.yaml.5: docs/configuration.md scripts/gen-man.py $(OUTPUT)/gen/lb_version.h \
			  | man-deps
	@mkdir -p $(@D)
	$(call msg,MAN,$@)$(PYTHON) scripts/gen-man.py doc $< xdp-lb.yaml 5 \
		"the configuration file of xdp-lb" $(man_version) \
		$(patsubst %,'%',$(filter %(8),$(MAN_REFS))) > $@

# The unit and the samples name the directories chosen: written on every make,
# replaced when they change (another PREFIX).
$(OUTPUT)/dist/%: dist/%.in FORCE
	@mkdir -p $(@D)
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; echo '  GEN      $@'; fi

.PHONY: man install uninstall
man: $(MAN_PAGES)

install: $(PROGRAMS) man $(DIST_FILES)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX) $(DESTDIR)$(SYSCONFDIR)/xdp-lb)
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/xdp-lb
	$(Q)$(INSTALL) -m 0755 $(PROGRAMS) $(DESTDIR)$(SBINDIR)/
	$(Q)$(INSTALL) -m 0644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man8/
	$(Q)$(INSTALL) -m 0644 $(filter %.5,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man5/
	$(Q)$(INSTALL) -m 0644 dist/lbctl.bash $(DESTDIR)$(BASHCOMPDIR)/lbctl
	$(Q)$(INSTALL) -m 0644 $(OUTPUT)/dist/xdp-lb@.service $(DESTDIR)$(UNITDIR)/
	$(Q)$(INSTALL) -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	$(Q)$(INSTALL) -m 0644 $(DOC_FILES) $(DESTDIR)$(DOCDIR)/docs/
	$(Q)for f in $(SAMPLES); do \
		dest=$(DESTDIR)$(SYSCONFDIR)/xdp-lb/$$f; \
		if cmp -s "$$dest" $(OUTPUT)/dist/$$f; then :; \
		elif [ -e "$$dest" ]; then \
			echo "  kept     $$dest (exists; the new one is $(OUTPUT)/dist/$$f)"; \
		else $(INSTALL) -m 0644 $(OUTPUT)/dist/$$f "$$dest"; fi; \
	done
	$(Q)[ -n "$(DESTDIR)" ] || \
		echo "  next: systemctl daemon-reload; then see $(DOCDIR)/docs/operations.md"

# Removes what install put there; the samples only if unchanged, and never a config.
uninstall: $(DIST_FILES)
	$(call msg,UNINST,$(DESTDIR)$(PREFIX) $(DESTDIR)$(SYSCONFDIR)/xdp-lb)
	$(Q)rm -f $(patsubst %,$(DESTDIR)$(SBINDIR)/%,lb-load lbctl xdp-lbd) \
		$(patsubst %,$(DESTDIR)$(MANDIR)/man8/%.8,lb-load lbctl xdp-lbd) \
		$(DESTDIR)$(MANDIR)/man5/xdp-lb.yaml.5 $(DESTDIR)$(BASHCOMPDIR)/lbctl \
		$(DESTDIR)$(UNITDIR)/xdp-lb@.service
	$(Q)rm -rf $(DESTDIR)$(DOCDIR)
	$(Q)for f in $(SAMPLES); do \
		dest=$(DESTDIR)$(SYSCONFDIR)/xdp-lb/$$f; \
		if cmp -s "$$dest" $(OUTPUT)/dist/$$f; then rm -f "$$dest"; \
		elif [ -e "$$dest" ]; then echo "  kept     $$dest (changed since install)"; fi; \
	done
	$(Q)rmdir $(DESTDIR)$(SYSCONFDIR)/xdp-lb 2>/dev/null || true

.PHONY: clean help
clean:
	$(call msg,CLEAN,$(OUTPUT) lb-load lbctl xdp-lbd)rm -rf $(OUTPUT) lb-load lbctl xdp-lbd

help:
	@echo 'Targets:'
	@echo '  all (default)   build the BPF stages, ./lb-load, ./lbctl and ./xdp-lbd'
	@echo '  test            build, run all suites (as root; `make deps test` installs packages first)'
	@echo '                  TESTS="a b" runs only the suites whose name contains a or b'
	@echo '  test-vm         the VM suites alone: Debian 12, 13 and unstable under QEMU, one after'
	@echo '                  the other (TESTS=vm-trixie: one of them; docs/testing.md)'
	@echo '  vm-image        download the Debian 12 kernel (kept in $(VM_DIR)), build its initramfs;'
	@echo '                  the other guests build their root filesystems when they first run'
	@echo '  demo            build, then balance traffic in a namespace lab (as root; KEEP=1 keeps it,'
	@echo '                  DEMO_SHORT=1 is quick; docs/demo.md)'
	@echo '  demo-ecmp       3 balancers behind an ECMP router with BIRD; one is taken away'
	@echo '                  (as root; docs/scale-out.md)'
	@echo '  tools           the traffic and capture tools into $(OUTPUT)/tools'
	@echo '  bench           benchmarks (as root, ~2 min): bench/results/latest.md, docs/performance.md'
	@echo '  deps            install the missing Debian packages for build, test, demo and bench (root)'
	@echo '  fuzz            packet fuzzer, FUZZ_FRAMES (1M) frames with a fresh seed (FUZZ_SEED=),'
	@echo '                  then config.yaml under libFuzzer for FUZZ_SECONDS (60), then the'
	@echo '                  lb-load and lbctl command lines for FUZZ_CLI_SECONDS (30); docs/fuzzing.md'
	@echo '  SANITIZE=1      build lb-load, lbctl and the tests with ASan/UBSan into build/sanitize/'
	@echo '  man             the man pages into $(OUTPUT)/man, from --help and'
	@echo '                  docs/configuration.md'
	@echo '  install         lb-load, lbctl, xdp-lbd, man pages, bash completion, the systemd'
	@echo '                  unit, docs, samples in /etc/xdp-lb (kept if present); PREFIX=, DESTDIR='
	@echo '  uninstall       remove what install put there (configs and changed samples stay)'
	@echo '  clean           remove $(OUTPUT)/, lb-load, lbctl and xdp-lbd'
	@echo 'Variables: V=1 (show commands), OUTPUT=dir (default build), EXTRA_CFLAGS'
