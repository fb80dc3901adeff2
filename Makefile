# Two entry points: `make demo` (install, train the embedded default, label the samples) and `make test`.
PYTHON ?= python3
CPU_TORCH := torch==2.13.0
MODEL := models/default

.PHONY: install install-dev demo test

# On machines without an NVIDIA GPU, install the pinned CPU build of torch first,
# so the `torch>=2.4` requirement does not pull gigabytes of CUDA packages.
install:
	@$(PYTHON) -c "import torch" 2>/dev/null || { \
	  if command -v nvidia-smi >/dev/null 2>&1; then $(PYTHON) -m pip install torch; \
	  else $(PYTHON) -m pip install $(CPU_TORCH); fi; }
	$(PYTHON) -m pip install -q -e .

install-dev: install
	$(PYTHON) -m pip install -q -e ".[dev]"

demo: install
	eventclf data validate
	eventclf data stats configs/default.yaml
	eventclf train configs/default.yaml
	eventclf evaluate --model $(MODEL) --split test --report $(MODEL)/report
	eventclf label --model $(MODEL) data/samples --output $(MODEL)/samples.labelled.jsonl
	eventclf show $(MODEL)/samples.labelled.jsonl

test: install-dev
	$(PYTHON) -m pytest -q tests
