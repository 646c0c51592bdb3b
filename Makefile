# Two entry points for a fresh machine: `make demo` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# Debian packages the test suite talks to as real peers (browser, adb host, AVR toolchain, ptys).
TEST_DEBS := chromium adb gcc-avr avr-libc binutils-avr simavr libsimavr-dev socat

.PHONY: setup train-deps system-deps test demo lint typecheck firmware models bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	touch $@

# The training extra (torch CPU build, onnx): `make models` trains with it, and the tests of the
# training path run on it. The product itself runs on onnxruntime alone.
train-deps: $(VENV)/.train-installed

$(VENV)/.train-installed: $(VENV)/.installed
	$(PIP) install -q -e '.[train]'
	touch $@

system-deps:
	@missing=""; for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

firmware:
	$(MAKE) -C hardware/firmware

test: setup train-deps system-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

demo: setup
	$(VENV)/bin/inspector demo

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck:
	$(VENV)/bin/mypy

# Rebuild the grading models from scratch (renders data, trains on CPU, exports ONNX, calibrates and
# evaluates) into models/work/candidate, evaluate the shipped models with the same code, and ship each
# kind only where the rebuild is not worse (models.promote; FORCE=1 ships regardless). The two kinds
# calibrate side by side, and the two evaluations run side by side. Jewelry also gets its two
# candidate scorers first (scratch lines, stone seats; one rendering of the pieces for both), beside
# the phone calibration on the other core: that chain is the longest. Measured 2026-12-05 on a fresh
# clone with 2,400 scorer pieces and stage-1 budgets of 37.5 (phone) / 38 (jewelry) minutes: 60 min
# 25 s. Cut to 1,600 pieces (about -2.3 min) and 35.5 / 36 minutes (-2 min; the two kinds train side
# by side, so both budgets must shrink): about 56 min, not re-timed.
CANDIDATE := models/work/candidate
models: train-deps
	rm -rf models/work
	mkdir -p $(CANDIDATE)
	$(PY) -m models.train --out-dir $(CANDIDATE) --minutes-phone 35.5 --minutes-jewelry 36
	{ $(PY) -m models.fit_candidates --target scratch_lines stone_seats --models-dir $(CANDIDATE) --procs 1 --n 1600 && \
	  $(PY) -m models.calibrate --models-dir $(CANDIDATE) --kind jewelry; } & pid=$$!; \
	  $(PY) -m models.calibrate --models-dir $(CANDIDATE) --kind phone && wait $$pid
	$(PY) -m models.evaluate --out models/work/shipped_eval.json > models/work/shipped_eval.md & pid=$$!; \
	  $(PY) -m models.evaluate --models-dir $(CANDIDATE) --out $(CANDIDATE)/eval.json && wait $$pid
	$(PY) -m models.promote --candidate $(CANDIDATE) $(if $(FORCE),--force,)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
