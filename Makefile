# beamsec.cluster: the commands that matter. See README.md.
VENV   := .cache/venv
PY     := $(VENV)/bin/python
export PATH := $(abspath $(VENV))/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(abspath .cache/collections)

.PHONY: deps test unit integration lint sanity fuzz bench demo build clean link

deps:
	@scripts/install-deps.sh

link:
	@mkdir -p .cache/collections/ansible_collections/beamsec
	@ln -sfn $(abspath .) .cache/collections/ansible_collections/beamsec/cluster

## The test suite CI runs: unit + integration (real OTP nodes) + fuzz sample, then lint and sanity.
test: deps link
	$(PY) -m pytest -q tests
	$(MAKE) --no-print-directory lint sanity

unit: deps link
	$(PY) -m pytest -q tests/unit

integration: deps link
	$(PY) -m pytest -q tests/integration

lint: deps link
	$(VENV)/bin/ansible-lint --profile production --offline

sanity: deps
	scripts/sanity.sh

## The full fuzz run (>= 1,000,000 inputs); a fixed-seed sample runs in `make test`.
fuzz: deps link
	$(PY) tests/fuzz/fuzz_dist.py --count 1000000 --seed $${SEED:-1}

bench: deps link
	$(PY) benchmarks/probe.py

## The demo: real local OTP nodes, probed by the collection's modules through ansible-playbook.
demo: deps link
	$(PY) scripts/demo_local.py

build:
	ansible-galaxy collection build --force --output-path .cache/dist .

clean:
	rm -rf .cache .pytest_cache .hypothesis tests/output
