# The two set-up commands: `make run` and `make test`. Each creates its own venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test render clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

## run: render the example issue into out/, then start the service on the embedded default
run: $(VENV)/.installed
	@# The report shows the example footer's details as errors until an approver changes them on the
	@# composer's Theme and footer page; the service starts all the same.
	-$(BIN)/newsletter render examples/co-production-week.yaml --out out
	$(BIN)/newsletter serve

## test: install what the tests need (venv, chromium) and run every test
test: $(VENV)/.installed-test
	bash scripts/install-test-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) out outbox media newsletter.db
