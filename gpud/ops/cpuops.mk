# SPDX-License-Identifier: MIT
# How to build against and link the CPU operator library. Include after
# mk/common.mk; link with $(EIA_CPUOPS_LDLIBS) after the objects.
#
# OpenBLAS is Debian's pthreads flavour (libopenblas-pthread-dev), found by
# path and by runpath so that the update-alternatives choice of libopenblas
# cannot swap in the serial flavour, whose buffer allocator is not safe to
# call from several threads (see Documentation/operators.rst).
EIA_MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
EIA_OPENBLAS_INC := /usr/include/$(EIA_MULTIARCH)/openblas-pthread
EIA_OPENBLAS_LIB := /usr/lib/$(EIA_MULTIARCH)/openblas-pthread
EIA_CPUOPS_DIR := $(abspath $(TOP))/gpud/ops
EIA_CPUOPS_CFLAGS := -I$(EIA_CPUOPS_DIR)
# SAN=1 builds (and links) a sanitized copy beside the normal one.
EIA_CPUOPS_LIB := $(O)/lib/libeia_cpuops$(if $(filter 1,$(SAN)),-san).a
EIA_CPUOPS_LDLIBS := $(EIA_CPUOPS_LIB) -L$(EIA_OPENBLAS_LIB) \
	-Wl,-rpath,$(EIA_OPENBLAS_LIB) -lopenblas -lm -lpthread
