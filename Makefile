# Makefile — entry points: setup, build, demo, test, size, bench (owned by the build/CI scripts; logic lives in scripts/ and bench/).
#
#   make setup   install the toolchain (idempotent; quick when everything is present)
#   make build   setup + build pkg/ (wasm → wasm-bindgen → wasm-opt -Oz + bootstrap)
#   make demo    build, then serve the demo site and the consent endpoint on http://127.0.0.1:8080/
#   make test    setup --browser, build, then host + browser (wasm-bindgen-test) + e2e tiers + the size budget
#   make size    build, then bench/size.sh: raw/gzip/brotli of the first-visit bytes; fails over 30 KiB brotli
#   make bench   build, then size + bench/speed.mjs (ours vs vanilla-cookieconsent in headless Chromium)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build
export PATH := $(HOME)/.cargo/bin:$(PATH)

# Extra flags for scripts/setup.sh; the targets below add what they need (target-specific variables
# are inherited by prerequisites, so `make test` runs `setup --browser` once).
SETUP_FLAGS ?=

.PHONY: setup build demo test size bench clean

setup:
	@bash scripts/setup.sh $(SETUP_FLAGS)

build: setup
	@bash scripts/build.sh

# The demo runs banner and endpoint together on one port: choose on the page, see the event in
# target/demo-consent.db (`target/release/consent-endpoint export --db target/demo-consent.db`).
demo: build
	cargo build --release -q -p consent-endpoint --bin consent-endpoint
	CONSENT_ADMIN_TOKEN=$${CONSENT_ADMIN_TOKEN:-demo-admin-token} target/release/consent-endpoint serve \
	  --config endpoint/demo.toml --static www --static /pkg=pkg

test: SETUP_FLAGS += --browser
test: build
	@bash scripts/test.sh

size: SETUP_FLAGS += --size
size: build
	@bash bench/size.sh

bench: SETUP_FLAGS += --browser
bench: build
	@bash bench/size.sh || true
	node bench/speed.mjs

clean:
	rm -rf pkg
