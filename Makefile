# `make run` and `make test` work on a fresh clone: each creates .venv, installs, and does its job.
# Re-running is quick: pip is only invoked again when pyproject.toml changes.
PY      := .venv/bin/python
STAMP   := .venv/.installed
PORT    ?= 8501
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: run test ingest bench soak soak-app install clean-index

$(PY):
	python3.11 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

ingest: $(STAMP)
	.venv/bin/rag ingest seeds

# `rag serve` indexes seeds/ and loads the model while Streamlit starts: the page shows progress at once.
run: $(STAMP)
	.venv/bin/rag serve --app app.py --server.address 127.0.0.1 --server.port $(PORT)

# The browser test drives Debian's Chromium (never a browser downloaded by a test tool).
/usr/bin/chromium:
	-(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	  || echo "warning: could not install Debian's chromium; the browser test will be skipped"

test: $(STAMP) /usr/bin/chromium
	$(PY) -m pytest -q

bench: $(STAMP)
	.venv/bin/rag bench

# 5,000 questions in one process: fails if memory grows 5% or more after warm-up.
soak: ingest
	$(PY) -m rag.soak 5000

# The app and `rag ingest` side by side for 3 minutes while browser sessions ask: fails on any error.
soak-app: $(STAMP) /usr/bin/chromium
	$(PY) -m benchmarks.soak_side_by_side --minutes 3 --sessions 2

clean-index:
	rm -rf vectorstore/* 
