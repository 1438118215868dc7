# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
PYTHON      ?= python3
VENV        := .venv
BIN         := $(VENV)/bin
CAMPAIGNS   := $(BIN)/campaigns
STAMP       := $(VENV)/.installed
TASKS_VENV  := $(VENV)/tasks-emulator
CHECKOV_VENV := $(VENV)/checkov
BROWSER      := /usr/bin/chromium
AXE          := node_modules/.installed
# The demo's fixed targeting instant: Friday 20 Nov 2026, 08:30 in São Paulo. Day 20 opens the
# reactivation window; the sample data is generated "as of" that local date. Delivery runs on
# the real clock, so the demo tenants' send window is the whole day and their pace 600/min.

ENV          ?= dev

.PHONY: setup demo console test lint bench build deploy lock clean

setup: $(STAMP) $(BROWSER) $(AXE)

# The console's browser tests drive Debian's Chromium (never a downloaded browser) and run
# axe-core inside it; both are test-only and installed here so a fresh machine needs nothing else.
$(BROWSER):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(AXE)

$(STAMP): requirements.txt requirements-dev.txt requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# gcloud-tasks-emulator pins protobuf 4, and checkov dozens of packages (its own HCL parser
	# too): each gets a virtualenv of its own, installed while the main one is.
	$(PYTHON) -m venv $(TASKS_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(TASKS_VENV)/bin/pip install --quiet --disable-pip-version-check gcloud-tasks-emulator==0.6.2 & tasks=$$!; \
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check checkov==3.3.30 & checkov=$$!; \
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c requirements.lock -e . \
		&& wait $$tasks && wait $$checkov
	# (the lock, which `make build` deploys, constrains the tested environment too)
	touch $(STAMP)

demo: setup
	@trap '$(CAMPAIGNS) stack down' EXIT; set -e; \
	$(CAMPAIGNS) stack up; \
	$(CAMPAIGNS) sample-data --tenants 3 --customers 500 \
		--send-window 00:00-23:59 --messages-per-minute 600 --messages-per-day 5000; \
	$(CAMPAIGNS) tick --force; \
	echo; $(CAMPAIGNS) try-api; \
	echo; echo "delivery (tasks -> WhatsApp sandbox -> status webhooks):"; \
	$(CAMPAIGNS) deliveries --timeout 240; \
	echo; echo "analytics of the API campaign (GET /api/v1/campaigns/{id}/analytics):"; \
	$(CAMPAIGNS) analytics; \
	echo; echo "console: \`make console\` serves it on fresh sample data at $$($(CAMPAIGNS) console-address)"

# `make console`: the stack with sample data as of today, one tick now, delivery running, and
# the console's address with a sign-in link; Ctrl-C stops everything it started.
console: setup
	@trap '$(CAMPAIGNS) stack down' EXIT; set -e; \
	$(CAMPAIGNS) stack up; \
	$(CAMPAIGNS) sample-data --tenants 2 --customers 300 \
		--send-window 00:00-23:59 --messages-per-minute 600 --messages-per-day 5000; \
	$(CAMPAIGNS) tick; \
	$(CAMPAIGNS) serve-console --tenants 2

# Two workers, one per core, each with a local stack of its own; a test file stays on one worker
# (its module fixtures are built once).
test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/delivery.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/console.py
	$(BIN)/python bench/campaign_record.py
	$(BIN)/python bench/optout.py
	$(BIN)/python bench/priority.py
	$(BIN)/python bench/pace.py

# Each function's deployable source in build/functions/<name> (main.py and requirements.txt
# at its root, shared/, sql/); Terraform zips each one under its content hash.
build: setup
	$(BIN)/python -m shared.deploy.build --out build/functions

# Re-pin every runtime package after changing requirements.txt (needs PyPI; about 40 s).
lock: setup
	$(BIN)/python -m shared.deploy.lock

# Documented, never run by CI: needs gcloud credentials and the state bucket (README: deployment).
deploy: build
	terraform -chdir=infra/environments/$(ENV) init -input=false -backend-config=backend.hcl
	terraform -chdir=infra/environments/$(ENV) apply

clean:
	-$(CAMPAIGNS) stack down
	rm -rf $(VENV) .stack .pytest_cache .mypy_cache .ruff_cache *.egg-info build
