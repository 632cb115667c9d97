# kselftest_harness.h and kselftest.h from Debian's linux-source-6.1, for every
# test suite (VM kselftests and host tests alike). Extracted once into
# $(KSFT); depend on $(KSFT_STAMP). Include after mk/common.mk.
KSRC_TARBALL ?= /usr/src/linux-source-6.1.tar.xz
KSFT := $(O)/ksft
KSFT_STAMP := $(KSFT)/.extracted
KSFT_FILES := kselftest_harness.h kselftest.h
# -isystem: the harness is written for -Wall, and its macros trip -Wextra
# (unused parameters, mixed-sign comparisons).
KSFT_CFLAGS := -isystem $(KSFT)

# This file defines a rule; keep the including Makefile's first target as
# the default goal.
ksft_saved_goal := $(.DEFAULT_GOAL)

# Extracted into a scratch directory and moved into place, so that an
# interrupted or concurrent build never leaves a half-written header.
$(KSFT_STAMP):
	@mkdir -p $(KSFT)
	@tmp=$$(mktemp -d $(KSFT)/.tmp.XXXXXX) && \
	tar -xJf $(KSRC_TARBALL) -C $$tmp --strip-components=4 \
		$(KSFT_FILES:%=linux-source-6.1/tools/testing/selftests/%) && \
	mv -f $(KSFT_FILES:%=$$tmp/%) $(KSFT)/ && touch $@; \
	rc=$$?; rm -rf $$tmp; exit $$rc

.DEFAULT_GOAL := $(ksft_saved_goal)
