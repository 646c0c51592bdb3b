# Two entry points for a fresh machine: `make demo` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# Debian packages the test suite talks to as real peers (browser, adb host, AVR toolchain, ptys), and
# the CJK font the pages, the overlay and the labels are drawn with (Noto Sans CJK, as on Android).
TEST_DEBS := chromium fonts-noto-cjk adb gcc-avr avr-libc binutils-avr simavr libsimavr-dev socat

.PHONY: setup translations messages train-deps system-deps node-deps test demo lint typecheck firmware models bench clean lock

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c requirements.lock -e '.[dev]'
	$(PY) -m inspector.i18n compile
	touch $@

# The zh-CN catalogues: `make translations` after editing a .po (setup compiles them too);
# `make messages` adds new marked messages to every .po for a translator.
translations: setup
	$(PY) -m inspector.i18n compile

messages: setup
	$(PY) -m inspector.i18n update

# The training extra (torch CPU build, onnx): `make models` trains with it, and the tests of the
# training path run on it. The product itself runs on onnxruntime alone.
train-deps: $(VENV)/.train-installed

$(VENV)/.train-installed: $(VENV)/.installed
	$(PIP) install -q -c requirements.lock -e '.[train]'
	touch $@

# Re-resolve every dependency (dev and train extras) in a scratch virtualenv and pin what it got.
LOCK_VENV := .lock-venv
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install -q --upgrade pip
	$(LOCK_VENV)/bin/pip install -q -e '.[dev,train]'
	{ sed -n '1,2p' requirements.lock; $(LOCK_VENV)/bin/pip freeze --exclude-editable | sort -f; } > requirements.lock.new
	mv requirements.lock.new requirements.lock
	rm -rf $(LOCK_VENV)

system-deps:
	@missing=""; for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

# Node tools the tests drive (Lighthouse), pinned in tests/lighthouse/package-lock.json. Uses the
# machine's Node (Lighthouse 12 needs Node 18.16 or newer); installs Debian's when there is none.
LIGHTHOUSE := tests/lighthouse/node_modules/.bin/lighthouse
node-deps: $(LIGHTHOUSE)

$(LIGHTHOUSE): tests/lighthouse/package-lock.json
	@command -v npm >/dev/null 2>&1 || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q nodejs npm; }
	npm ci --prefix tests/lighthouse --no-audit --no-fund --loglevel=error
	touch $@

firmware:
	$(MAKE) -C hardware/firmware

test: setup train-deps system-deps node-deps translations
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -n 2 --dist loadfile

demo: setup
	$(VENV)/bin/inspector demo

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck:
	$(VENV)/bin/mypy

# Rebuild the grading models from scratch into models/work/candidate: the two networks train from their
# recipes (models/recipes/*.json, budgets in steps) one after the other on both cores (side by side on
# one thread each the jewelry network, three times the phone's steps, would run alone on one thread
# for its last hour), then the phone's damage head, jewelry's three
# candidate scorers beside the phone's calibration, and the candidate's and the shipped models'
# evaluations side by side (each tool on one thread: four busy threads on two cores made each 1.2x
# slower than both one after the other). models.promote then ships each kind only where the rebuild
# is not worse (FORCE=1 ships regardless). Cut off, `make models` goes on where it stopped: a training
# stage from its last checkpoint (at most 5 minutes lost), every later step only when its inputs are
# newer than its output. `rm -rf models/work` starts over.
CANDIDATE := models/work/candidate
RECIPES := models/recipes/phone.json models/recipes/jewelry.json
TRAIN_RECIPE = $(PY) -m models.experiment models/recipes/$(1).json --out models/work/$(1) --skip-done \
  --copy-last-to $(CANDIDATE)

models: train-deps $(CANDIDATE)/eval.json
	$(PY) -m models.promote --candidate $(CANDIDATE) $(if $(FORCE),--force,)

$(CANDIDATE)/phone_defects.onnx $(CANDIDATE)/jewelry_defects.onnx &: $(RECIPES)
	$(call TRAIN_RECIPE,phone) && $(call TRAIN_RECIPE,jewelry)

$(CANDIDATE)/phone_damage_head.json: $(CANDIDATE)/phone_defects.onnx
	$(PY) -m models.damage_head --out-dir $(CANDIDATE) --models-dir $(CANDIDATE)

$(CANDIDATE)/phone_defects.calibration.json $(CANDIDATE)/jewelry_defects.calibration.json &: \
  $(CANDIDATE)/phone_damage_head.json $(CANDIDATE)/jewelry_defects.onnx
	{ $(PY) -m models.fit_candidates --target scratch_lines stone_seats loose_stones --models-dir $(CANDIDATE) \
	  --procs 1 --n 1200 && $(PY) -m models.calibrate --models-dir $(CANDIDATE) --kind jewelry; } & pid=$$!; \
	  $(PY) -m models.calibrate --models-dir $(CANDIDATE) --kind phone --threads 1 && wait $$pid

$(CANDIDATE)/eval.json: $(CANDIDATE)/phone_defects.calibration.json $(CANDIDATE)/jewelry_defects.calibration.json
	$(PY) -m models.evaluate --threads 1 --out models/work/shipped_eval.json > models/work/shipped_eval.md & pid=$$!; \
	  $(PY) -m models.evaluate --threads 1 --models-dir $(CANDIDATE) --out $(CANDIDATE)/eval.json && wait $$pid

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
