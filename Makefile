# Two commands work on a fresh machine: `make demo` and `make test`. Both bootstrap .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean system-packages

# Debian packages the board needs: Chromium for the browser tests (Playwright drives it; browsers cannot be
# downloaded), the Chinese fonts posters are printed in, and the Pango libraries WeasyPrint renders PDFs with.
SYSTEM_PACKAGES := chromium fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0

# Installs what is missing when run as root (as CI is); otherwise prints the one command that would.
system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null; then echo "the board needs: $$missing (Debian package names)"; \
	  elif [ "$$(id -u)" = 0 ]; then echo "installing $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "missing Debian packages; run: sudo apt-get install -y $$missing"; fi; \
	fi

$(STAMP): pyproject.toml constraints.txt
	@$(MAKE) --no-print-directory system-packages
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,redis]'
	@# `cunwu run` and `cunwu webhook` restart under python -OO -X no_debug_ranges (bot/cli/main.py): their
	@# bytecode is compiled here, once, with those flags, so the first start does not compile ~1,700 modules
	@# (nor every start, where PYTHONDONTWRITEBYTECODE is set or the install is read-only). A failure only makes
	@# that start slower.
	$(BIN)/python -OO -X no_debug_ranges -m compileall -f -qq -j 0 $$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))') \
	  bot handlers models catalogs reminders services web demo || echo "precompiling for python -OO failed (harmless)"
	touch $(STAMP)

demo: $(STAMP) system-packages
	$(BIN)/cunwu demo $(DEMO_ARGS)

# Workers: four, even on two CPUs: the end-to-end and browser tests spend most of their time waiting for the
# processes and the browser they start, and four workers overlap those waits. loadgroup
# keeps the browser tests (xdist_group "browser") on one worker, so their process and browser start once per
# database.
test: $(STAMP) system-packages
	$(BIN)/python -m pytest -n 4 --dist loadgroup $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy .

bench: $(STAMP)
	$(BIN)/python bench/dispatch.py
	$(BIN)/python bench/board.py
	$(BIN)/python bench/obligations.py
	$(BIN)/python bench/broadcast.py --load 1
	$(BIN)/python bench/memory.py

clean:
	rm -rf $(VENV) .pytest_cache
