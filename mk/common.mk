# Shared settings for every userspace Makefile. Include it after setting TOP
# to the repository root (relative paths are fine).
O ?= $(abspath $(TOP))/build
BIN := $(O)/bin
CC ?= cc
EIA_WARN := -Wall -Wextra -Werror
EIA_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g $(EIA_WARN) \
	-I$(abspath $(TOP))/uapi -I$(abspath $(TOP))/userspace/lib
# Host tests build with these too; gpud and the CLI may opt in with SAN=1.
SAN_CFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
ifeq ($(SAN),1)
EIA_CFLAGS += $(SAN_CFLAGS)
EIA_LDFLAGS += $(SAN_CFLAGS)
endif
EIA_WIRE_SRC := $(abspath $(TOP))/userspace/lib/wire.c
