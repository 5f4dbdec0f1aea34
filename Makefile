# Every target builds .venv itself, so a fresh machine with Python 3.11+ and make is enough.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
DATA   ?= ../shared/data

.PHONY: demo test bench test-llm clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[test,bench]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/takeaways summarize examples/harbor-battery.html

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed
	$(BIN)/python bench/extract.py --data $(DATA)
	$(BIN)/python bench/rouge.py --data $(DATA)
	$(BIN)/python bench/llm.py
	$(BIN)/python bench/batch.py --data $(DATA)

clean:
	rm -rf $(VENV) dist build .pytest_cache
