# Two commands a newcomer needs: `make demo` and `make test`. Each bootstraps .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint clean leaderboard

# Reinstalls only when the dependency spec changed; otherwise a no-op.
$(STAMP): pyproject.toml setup.py
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || \
	  { echo "genbench needs Python 3.11 (bpy 4.5 is built for it): run make PYTHON=/path/to/python3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m genbench.benchmark.lpips_backbone  # LPIPS AlexNet weights, cached once: offline after this
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/genbench demo

test: install
	$(BIN)/pytest

# The baselines (and Casper when registered) scored on the benchmark split and entered on the board, then its site.
leaderboard: install
	$(BIN)/python -m genbench.leaderboard.baselines --board leaderboard-store --runs leaderboard-runs
	$(BIN)/genbench leaderboard build --board leaderboard-store --out leaderboard-site

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info genbench-demo .pytest_cache .ruff_cache
