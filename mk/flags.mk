# The flags every Makefile of the tree shares: core/, workers/, tools/
# and t/ include this first.  Called as make BUILD=<abs dir> [SAN=address];
# a Makefile may set OPT before including it (t/ builds its tests -O1).

ROOT    := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
BUILD   ?= $(ROOT)/build
OPT     ?= -O2

CC      ?= cc
CFLAGS  := -g $(OPT) -Wall -Wextra -Werror -std=c11 -D_GNU_SOURCE \
           -I$(ROOT)/core

# build.sh test: AddressSanitizer and UBSan in everything, the module too
ifeq ($(SAN),address)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
CFLAGS  += $(SAN_FLAGS)
endif

# libFuzzer targets: clang, and any sanitizer report stops the run;
# the cores they fuzz are built with coverage (FUZZ_CORE_CFLAGS)
FUZZ_CC          := clang
FUZZ_BASE        := -g -O1 -Wall -Wextra -Werror -std=c11 -D_GNU_SOURCE \
                    -I$(ROOT)/core -fno-sanitize-recover=all
FUZZ_CFLAGS      := $(FUZZ_BASE) -fsanitize=fuzzer,address,undefined
FUZZ_CORE_CFLAGS := $(FUZZ_BASE) -fsanitize=fuzzer-no-link,address,undefined

# the pure cores (core/), one static library each way, and what they
# need: jansson (JSON), libcrypto (HMAC, SHA-1, random), libargon2,
# libexpat (GPX)
RACE_CORE      := $(BUILD)/core/librace_core.a
RACE_CORE_FUZZ := $(BUILD)/core/fuzz/librace_core.a
CORE_PKGS      := jansson libcrypto libargon2 expat
CORE_CFLAGS    := $(shell pkg-config --cflags $(CORE_PKGS))
CORE_LIBS      := $(shell pkg-config --libs $(CORE_PKGS)) -lm

pkg_cflags = $(shell pkg-config --cflags $(1))
pkg_libs   = $(shell pkg-config --libs $(1))

# a program that links the cores is linked again when they change; the
# library is brought up to date by core/'s own Makefile (which sets
# RACE_CORE_SELF); these rules are not the including Makefile's default
ifneq ($(RACE_CORE_SELF),1)
$(RACE_CORE): FORCE
	$(MAKE) -s -C $(ROOT)/core BUILD=$(BUILD) SAN=$(SAN) lib

$(RACE_CORE_FUZZ): FORCE
	$(MAKE) -s -C $(ROOT)/core BUILD=$(BUILD) fuzz

FORCE:
.PHONY: FORCE
endif

.DEFAULT_GOAL := all
