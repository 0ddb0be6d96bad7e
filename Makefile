# SPDX-License-Identifier: GPL-2.0
# xdp-lb: everything builds into $(OUTPUT); lb-load and lbctl land at the top.
#   make            build the BPF stages, lb-load and lbctl
#   make test       build and run every test suite (root: tests use BPF and netns)
#   make test TESTS=parse   run the suites whose name contains "parse"
#   make help       list the targets

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
	  $(EXTRA_CFLAGS)
LIBS := $(shell $(PKG_CONFIG) --libs libxdp libbpf yaml-0.1 2>/dev/null || \
	  echo -lxdp -lbpf -lyaml) -lelf -lz

# BPF stage programs: one object and one skeleton each.
BPF_SRCS := bpf/parse/parse.bpf.c \
	    bpf/lb/least_loaded.bpf.c \
	    bpf/encap/ipip.bpf.c \
	    bpf/encap/gue.bpf.c
TEST_BPF_SRCS := tests/unit/sinks.bpf.c
BPF_HDRS := $(wildcard bpf/include/*.h)

bpf_obj = $(OUTPUT)/bpf/$(notdir $(1:.bpf.c=.bpf.o))
skel = $(OUTPUT)/skel/$(notdir $(1:.bpf.c=.skel.h))
BPF_OBJS := $(foreach s,$(BPF_SRCS) $(TEST_BPF_SRCS),$(call bpf_obj,$(s)))
SKELS := $(foreach s,$(BPF_SRCS),$(call skel,$(s)))
TEST_SKELS := $(foreach s,$(TEST_BPF_SRCS),$(call skel,$(s)))

LOADER_LIB_SRCS := loader/config.c loader/counter_names.c loader/pipeline.c loader/maps.c \
		   loader/pins.c loader/log.c loader/apply.c loader/stages.c
LOADER_LIB_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(LOADER_LIB_SRCS))

TEST_LIB_SRCS := tests/lib/test_harness.c tests/lib/packet.c tests/lib/xdp_test_run.c \
		 tests/lib/stage_fixture.c
TEST_LIB_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(TEST_LIB_SRCS))

UNIT_TESTS := parse lb encap gue
UNIT_TEST_BINS := $(patsubst %,$(OUTPUT)/tests/test_%,$(UNIT_TESTS))
CONFIG_TEST_BIN := $(OUTPUT)/tests/test_config
TOOL_BINS := $(OUTPUT)/tools/flow_send $(OUTPUT)/tools/ipip_capture $(OUTPUT)/bpf/xdp_pass.bpf.o

.PHONY: all
all: lb-load lbctl

# --- BPF objects and skeletons -------------------------------------------------
$(OUTPUT)/bpf/%.bpf.o: bpf/parse/%.bpf.c $(BPF_HDRS) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(OUTPUT)/bpf/%.bpf.o: bpf/lb/%.bpf.c $(BPF_HDRS) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(OUTPUT)/bpf/%.bpf.o: bpf/encap/%.bpf.c $(BPF_HDRS) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(OUTPUT)/bpf/%.bpf.o: tests/unit/%.bpf.c $(BPF_HDRS) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(OUTPUT)/bpf/%.bpf.o: tests/tools/%.bpf.c | $(OUTPUT)/bpf
	$(call msg,BPF,$@)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/skel/%.skel.h: $(OUTPUT)/bpf/%.bpf.o | $(OUTPUT)/skel
	$(call msg,SKEL,$@)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# --- userspace -------------------------------------------------------------------
# Header dependencies come from -MMD; the skeletons an object includes are named
# below, so that one stage's build never waits on another's.
$(OUTPUT)/%.o: %.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -MMD -MP -Itests/lib -c $< -o $@

$(OUTPUT)/loader/pipeline.o $(OUTPUT)/loader/stages.o: $(SKELS)
$(OUTPUT)/tests/unit/test_parse.o: $(call skel,bpf/parse/parse.bpf.c) $(TEST_SKELS)
$(OUTPUT)/tests/unit/test_lb.o: $(call skel,bpf/lb/least_loaded.bpf.c) $(TEST_SKELS)
$(OUTPUT)/tests/unit/test_encap.o: $(call skel,bpf/encap/ipip.bpf.c) $(TEST_SKELS)
$(OUTPUT)/tests/unit/test_gue.o: $(call skel,bpf/encap/gue.bpf.c) $(TEST_SKELS)
$(OUTPUT)/tests/lib/stage_fixture.o: $(TEST_SKELS)

-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)

lb-load: $(OUTPUT)/loader/lb_load.o $(LOADER_LIB_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

lbctl: $(OUTPUT)/loader/lbctl.o $(LOADER_LIB_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

# Unit tests link only what they test: the stage skeletons and the test library.
$(OUTPUT)/tests/test_%: $(OUTPUT)/tests/unit/test_%.o $(TEST_LIB_OBJS) $(OUTPUT)/loader/counter_names.o
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $^ $(LIBS) -o $@
# The encap stage tests share their network, backends and case runner.
$(OUTPUT)/tests/test_encap $(OUTPUT)/tests/test_gue: $(OUTPUT)/tests/unit/encap_fixture.o

$(CONFIG_TEST_BIN): $(OUTPUT)/tests/config/test_config.o $(TEST_LIB_OBJS) \
		    $(OUTPUT)/loader/config.o $(OUTPUT)/loader/counter_names.o
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

$(OUTPUT)/tools/%: $(OUTPUT)/tests/tools/%.o $(OUTPUT)/tests/lib/packet.o
	@mkdir -p $(@D)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $^ -o $@

$(OUTPUT)/bpf $(OUTPUT)/skel:
	$(Q)mkdir -p $@

# --- tests -------------------------------------------------------------------------
.PHONY: test test-build deps demo
test-build: all $(UNIT_TEST_BINS) $(CONFIG_TEST_BIN) $(TOOL_BINS)

# TESTS=substring picks suites by name; see tests/run.sh.
test: deps
	$(Q)$(MAKE) --no-print-directory test-build
	$(Q)OUTPUT=$(OUTPUT) tests/run.sh $(TESTS)

# The main job on a local lab of network namespaces (see scripts/demo.sh).
demo: deps
	$(Q)$(MAKE) --no-print-directory test-build
	$(Q)OUTPUT=$(OUTPUT) scripts/demo.sh

# Installs the Debian packages the build and the tests need, if any is missing.
deps:
	$(Q)scripts/install-deps.sh

.PHONY: clean help
clean:
	$(call msg,CLEAN,$(OUTPUT) lb-load lbctl)rm -rf $(OUTPUT) lb-load lbctl

help:
	@echo 'Targets:'
	@echo '  all (default)   build the BPF stages, ./lb-load and ./lbctl'
	@echo '  test            install missing packages, build, run all suites (as root)'
	@echo '                  TESTS=name runs only the suites whose name contains it'
	@echo '  demo            build, then balance traffic in a namespace lab (as root; KEEP=1 keeps it)'
	@echo '  deps            install the Debian packages the build and tests need'
	@echo '  clean           remove $(OUTPUT)/, lb-load and lbctl'
	@echo 'Variables: V=1 (show commands), OUTPUT=dir (default build), EXTRA_CFLAGS'
