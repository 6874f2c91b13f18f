# `make run` and `make test` work on a fresh clone: each creates .venv, installs, and does its job.
# Re-running is quick: pip is only invoked again when pyproject.toml changes.
PY      := .venv/bin/python
STAMP   := .venv/.installed
PORT    ?= 8501
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: run test test-unit test-fast ingest bench bench-scale soak soak-app fit-answerer install clean-index

$(PY):
	python3.11 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

install: $(STAMP)

ingest: $(STAMP)
	.venv/bin/rag ingest seeds

# app.serve indexes seeds/ and loads the model while Streamlit starts: the page shows progress at once.
run: $(STAMP)
	$(PY) -m app.serve --server.port $(PORT)

# The browser test drives Debian's Chromium (never a browser downloaded by a test tool).
/usr/bin/chromium:
	-(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	  || echo "warning: could not install Debian's chromium; the browser test will be skipped"

test: $(STAMP) /usr/bin/chromium
	$(PY) -m pytest -q

# The fast tier: no model, no Chroma, no servers (tests/unit; also `pytest -m unit`).
test-unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

# Every tier but the soaks, the killed and side-by-side processes and the browser timings (`slow`).
test-fast: $(STAMP) /usr/bin/chromium
	$(PY) -m pytest -q -m "not slow"

# Seed figures, the browser timing, and the BBC corpus (../shared/corpora/bbc, skipped if absent)
# side by side with the LlamaIndex quickstart in one run. Writes BENCHMARKS.md and benchmarks/bench.json.
bench: $(STAMP) /usr/bin/chromium
	$(PY) -m benchmarks.bench

# >= 100,000 chunks built from the BBC corpus (vectors cached between runs): size, RSS, latency, re-ingest.
bench-scale: $(STAMP)
	$(PY) -m benchmarks.scale

# Refit the offline answerer (rag/answering/answer_model.json) on the BBC and seed question sets; prints the
# figures on both splits and the calibration table. Indexes under runs/ are reused when unchanged.
BBC := ../shared/corpora
FIT_STAMP := .venv/.installed-fit
$(FIT_STAMP): pyproject.toml | $(STAMP)
	$(PY) -m pip install --quiet -e '.[fit]'
	touch $(FIT_STAMP)

fit-answerer: $(FIT_STAMP)
	.venv/bin/rag ingest $(BBC)/bbc --persist-dir runs/bbc-index
	.venv/bin/rag ingest seeds --persist-dir runs/seed-index
	$(PY) -m benchmarks.fit_answerer --index runs/bbc-index \
	  --sets $(BBC)/bbc_dev_qa.jsonl benchmarks/qa/bbc_extra_qa.jsonl \
	  --seed-index runs/seed-index --seed-sets tests/regression/seed_qa.jsonl tests/regression/holdout_qa.jsonl \
	  tests/regression/seed_extra_qa.jsonl --held-sets tests/regression/holdout_qa.jsonl tests/regression/seed_extra_qa.jsonl \
	  --write

# 5,000 questions in one process: fails if memory grows 5% or more after warm-up.
soak: ingest
	$(PY) -m benchmarks.soak 5000

# The app and `rag ingest` side by side for 3 minutes while browser sessions ask: fails on any error.
soak-app: $(STAMP) /usr/bin/chromium
	$(PY) -m benchmarks.soak_side_by_side --minutes 3 --sessions 2

clean-index:
	rm -rf vectorstore/* 
