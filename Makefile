# SwiftGRPO — build, test, run, benchmark.
SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := libopenblas-dev libhdf5-dev pkg-config python3 python3-venv
# Numeric tests compare against PyTorch fixtures and run gradient checks: a release build with
# testability keeps the whole suite within minutes on 2 cores.
TEST_FLAGS := -c release -Xswiftc -enable-testing
GRPO := .build/release/grpo
# Python with h5py, for the test that reads a Swift-written run file the way users' notebooks do.
TEST_VENV := .venv-test
TEST_PYTHON := $(CURDIR)/$(TEST_VENV)/bin/python

.PHONY: all deps build test run bench clean

all: build

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing missing system packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y $$missing; \
	fi

build: deps
	$(SWIFT) build -c release

$(TEST_PYTHON):
	python3 -m venv $(TEST_VENV)
	$(TEST_VENV)/bin/pip install --quiet h5py==3.16.0 numpy==2.4.6

test: deps $(TEST_PYTHON)
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	GRPO_PYTHON=$(TEST_PYTHON) $(SWIFT) test $(TEST_FLAGS) --skip-build --disable-swift-testing

run: build
	$(GRPO) sample --model Tests/Fixtures/qwen2-tiny --input Tests/Fixtures/demo-prompts.jsonl \
	  --max-new-tokens 24 --temperature 0.8 --top-p 0.95 --seed 1

bench: build
	$(GRPO) bench sample --config tiny
	$(GRPO) bench sample --config medium
	$(GRPO) bench train --config tiny
	$(GRPO) bench grpo-step
	$(GRPO) bench train --config medium

clean:
	rm -rf .build
