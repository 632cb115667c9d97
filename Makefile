# eia: Elastic Inference for Linux.
#
#   make            build eia.ko (for Debian's linux-headers-amd64), libeia,
#                   the eia CLI, gpud and the tests
#   make demo       boot a VM, load eia.ko, attach an accelerator, show it,
#                   and benchmark a GPT model on it with eia-bench
#                   (MODEL=gpt for the article's full-size GPT)
#   make check      every test: host tests, then kselftests in the VM
#   make bench      transport benchmarks in the VM (figures, not tests)
#   make bench-models  model latency through eia against torch on this host
#   make bench-share   how devices share gpud's backend, on this host
#   make install    install eia.ko, the tools and gpud on this machine
#
# Userspace output goes to build/ (O=DIR to change); the module is built in
# place by Kbuild.

TOP := $(CURDIR)
O ?= $(TOP)/build
export O

KVER ?= $(shell $(TOP)/scripts/kver)
KDIR ?= /usr/src/linux-headers-$(KVER)

.PHONY: all deps module userspace gpud selftests host-tests bench-tools check demo bench bench-models bench-share install clean

all: deps module userspace gpud selftests host-tests bench-tools

# Every target that builds first makes sure the Debian packages are there.
deps:
	@$(TOP)/scripts/install-deps

module: deps
	$(MAKE) -C $(KDIR) M=$(TOP) modules

userspace: deps
	$(MAKE) -C userspace
	$(MAKE) -C userspace/runner
	$(MAKE) -C userspace/tools

gpud: deps
	$(MAKE) -C gpud

selftests: deps
	$(MAKE) -C tests/selftests/eia

host-tests: deps
	$(MAKE) -C tests/host
	$(MAKE) -C tests/host/libeia
	$(MAKE) -C tests/ops
	$(MAKE) -C tests/runner

bench-tools: deps
	$(MAKE) -C bench

check: all
	$(TOP)/scripts/check

demo: all
	$(TOP)/scripts/demo

# Transport benchmarks in one VM boot: figures printed, nothing asserted.
bench: all
	$(TOP)/bench/run-vm

# Model latency through eia against torch on this host (figures, nothing asserted).
bench-models: all
	$(TOP)/bench/models/run

# How devices share gpud's backend on this host (figures, nothing asserted).
bench-share: gpud bench-tools
	$(MAKE) -C bench share

install: module userspace gpud
	$(MAKE) -C $(KDIR) M=$(TOP) INSTALL_MOD_DIR=extra INSTALL_MOD_PATH=$(DESTDIR) modules_install
	depmod -a $(if $(DESTDIR),-b $(DESTDIR)) $(KVER)
	install -D -m 0755 $(O)/bin/eia $(DESTDIR)/usr/local/bin/eia
	install -D -m 0755 $(O)/bin/eia-run $(DESTDIR)/usr/local/bin/eia-run
	install -D -m 0755 $(O)/bin/eia-bench $(DESTDIR)/usr/local/bin/eia-bench
	install -D -m 0755 $(O)/bin/gpud $(DESTDIR)/usr/local/sbin/gpud
	install -D -m 0644 userspace/include/eia.h $(DESTDIR)/usr/local/include/eia.h
	install -D -m 0644 uapi/eia_ops.h $(DESTDIR)/usr/local/include/eia_ops.h
	install -D -m 0644 $(O)/lib/libeia.a $(DESTDIR)/usr/local/lib/libeia.a
	install -D -m 0755 $(O)/lib/libeia.so.1 $(DESTDIR)/usr/local/lib/libeia.so.1
	ln -sf libeia.so.1 $(DESTDIR)/usr/local/lib/libeia.so

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean
	rm -rf $(O)
