# SwiftGRPO — build, test, run, benchmark.
SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := libopenblas-dev libhdf5-dev pkg-config python3 python3-venv
# Numeric tests compare against PyTorch fixtures and run gradient checks: a release build with
# testability keeps the whole suite within minutes on 2 cores.
TEST_FLAGS := -c release -Xswiftc -enable-testing
GRPO := .build/release/grpo
# Python with h5py, for the test that reads a Swift-written run file the way users' notebooks do, and with
# what the notebooks need (pandas, matplotlib) and what executes them headless (nbclient, ipykernel).
TEST_VENV := .venv-test
TEST_PYTHON := $(CURDIR)/$(TEST_VENV)/bin/python
TEST_PYTHON_PACKAGES := h5py==3.16.0 numpy==2.4.6 pandas==3.1.1 matplotlib==3.11.2 \
  nbclient==0.11.0 nbformat==5.11.1 ipykernel==7.4.0
# The venv records what it was installed with; a changed list reinstalls, an unchanged one costs nothing.
TEST_VENV_STAMP := $(TEST_VENV)/installed-packages.txt

.PHONY: all deps build test test-venv run bench clean

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

test-venv: deps
	@[ -x $(TEST_PYTHON) ] || python3 -m venv $(TEST_VENV)
	@if [ "$$(cat $(TEST_VENV_STAMP) 2>/dev/null)" != "$(TEST_PYTHON_PACKAGES)" ]; then \
	  echo "Installing into $(TEST_VENV): $(TEST_PYTHON_PACKAGES)"; \
	  $(TEST_VENV)/bin/pip install --quiet $(TEST_PYTHON_PACKAGES) && \
	  echo "$(TEST_PYTHON_PACKAGES)" > $(TEST_VENV_STAMP); \
	fi

test: deps test-venv
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	@# The failing assertions are repeated after the summary, where a log's tail shows them.
	@log=$$(mktemp); trap 'rm -f "$$log" "$$log.status"' EXIT; \
	{ GRPO_PYTHON=$(TEST_PYTHON) $(SWIFT) test $(TEST_FLAGS) --skip-build --disable-swift-testing; echo $$? > "$$log.status"; } 2>&1 | tee "$$log"; \
	status=$$(cat "$$log.status"); \
	if [ "$$status" != 0 ]; then echo "Failing tests:"; grep -E ": error: |Fatal error|Crash" "$$log" || echo "(none named: see the log above)"; fi; \
	exit $$status
	@# The notebooks, executed headless on short runs made in a temporary directory (Notebooks/make_test_runs.sh).
	@runs=$$(mktemp -d); trap 'rm -rf "$$runs"' EXIT; \
	GRPO=$(GRPO) Notebooks/make_test_runs.sh "$$runs" && \
	env -u GRPO_RUN -u GRPO_STEP -u GRPO_GROUP -u GRPO_EXAMPLE_STEPS -u GRPO_EXAMPLES -u GRPO_SMOOTH \
	  GRPO_RUNS="$$runs" $(TEST_PYTHON) Notebooks/run_notebooks.py --timeout 120

# The default experiment: R1-Zero on two-digit sums from the base model shipped in Experiments/r1zero-base
# (docs/r1zero.md): held-out accuracy and format reward before and after, the curve as a PNG.
run: build
	rm -rf runs/r1zero-arithmetic
	$(GRPO) train Experiments/r1zero-arithmetic.yaml
	$(GRPO) compare runs/r1zero-arithmetic --metric reward/accuracy,reward/format,eval/pass@1 \
	  --out runs/r1zero-arithmetic/curve.png
	@python3 Experiments/r1zero_summary.py runs/r1zero-arithmetic

bench: build
	$(GRPO) bench sample --config tiny
	$(GRPO) bench sample --config medium
	$(GRPO) bench train --config tiny
	$(GRPO) bench grpo-step
	$(GRPO) bench train --config medium

clean:
	rm -rf .build
