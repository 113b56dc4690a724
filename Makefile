# beamsec.cluster: the commands that matter. See README.md.
VENV   := .cache/venv
PY     := $(VENV)/bin/python
export PATH := $(abspath $(VENV))/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(abspath .cache/collections)
export CONTAINERS_CONF := $(abspath lab/containers.conf)
# the lab's podman connection, pipelined (lab/connection_plugins/lab_podman.py)
export ANSIBLE_CONNECTION_PLUGINS := $(abspath lab/connection_plugins)
export ANSIBLE_PIPELINING := true
LAB_INVENTORY := .cache/lab/inventory.yml

.PHONY: deps test checks unit integration lint sanity fuzz bench bench-fleet demo demo-local lab lab-down lab-image molecule build clean link ee ee-verify

deps:
	@scripts/install-deps.sh

link:
	@mkdir -p .cache/collections/ansible_collections/beamsec
	@ln -sfn $(abspath .) .cache/collections/ansible_collections/beamsec/cluster

## The test suite CI runs: the lab's own test, then molecule on the lab with everything else alongside
## (pytest: unit + integration on real OTP nodes + fuzz sample, then lint and sanity); they share nothing
## with the lab, and molecule leaves half of the two cores idle. Each job's output comes in one piece.
test: deps link
	$(PY) -m pytest -q tests/integration/test_lab.py
	$(MAKE) --no-print-directory -j2 --output-sync=target checks molecule \
	  || { $(PY) scripts/ci_digest.py .cache/log/checks.log .cache/log/molecule.log; exit 2; }

## pytest (all but tests/integration/test_lab.py, which brings the lab up and down), ansible-lint, sanity
checks: deps link
	@mkdir -p .cache/log
	{ $(PY) -m pytest -q --durations=15 tests --ignore=tests/integration/test_lab.py 2>&1; echo $$? > .cache/log/checks.rc; } \
	  | tee .cache/log/checks.log; exit $$(cat .cache/log/checks.rc)
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory sanity

unit: deps link
	$(PY) -m pytest -q tests/unit

integration: deps link
	$(PY) -m pytest -q tests/integration

lint: deps link
	$(VENV)/bin/ansible-lint --profile production

sanity: deps
	scripts/sanity.sh

## The full fuzz run (>= 1,000,000 inputs); a fixed-seed sample runs in `make test`.
fuzz: deps link
	$(PY) tests/fuzz/fuzz_dist.py --count 1000000 --seed $${SEED:-1}

bench: deps link
	$(PY) benchmarks/probe.py
	$(PY) benchmarks/fleet_verify.py
	$(PY) benchmarks/decode_cost.py
	$(PY) benchmarks/hostile_memory.py
	$(PY) benchmarks/tenant_scale.py
	$(PY) benchmarks/overlay.py

## harden.yml on a lab of 20 cluster hosts, timed (first and second run, slowest tasks); not part of make test
bench-fleet: deps link
	$(PY) benchmarks/fleet_harden.py

## The demo: a fresh lab (3 cluster hosts + 1 outsider), the app as OTP ships it, what the
## outsider sees; then playbooks/harden.yml, what the outsider sees after, and playbooks/verify.yml.
demo: deps link
	$(PY) lab/lab.py down
	$(PY) lab/lab.py up
	$(VENV)/bin/ansible-playbook -i $(LAB_INVENTORY) lab/playbooks/lab_app.yml
	@echo "=== BEFORE hardening: the outsider's view ==="
	$(VENV)/bin/ansible-playbook -i $(LAB_INVENTORY) lab/playbooks/lab_outsider_view.yml
	$(VENV)/bin/ansible-playbook -i $(LAB_INVENTORY) playbooks/harden.yml
	@echo "=== AFTER hardening: the outsider's view ==="
	$(VENV)/bin/ansible-playbook -i $(LAB_INVENTORY) lab/playbooks/lab_outsider_view.yml
	@echo "=== The proof from every vantage point (report and picture in .cache/lab/.beamsec/reports) ==="
	$(VENV)/bin/ansible-playbook -i $(LAB_INVENTORY) playbooks/verify.yml

## Two local OTP nodes on loopback probed by the modules (no lab needed).
demo-local: deps link
	$(PY) scripts/demo_local.py

lab: deps link
	$(PY) lab/lab.py up

lab-down:
	python3 lab/lab.py down

lab-image: deps
	$(PY) lab/lab.py build --force

## each task's time in the output (profile_tasks): where the scenarios' minutes go
## (its output also in .cache/log/molecule.log, which scripts/ci_digest.py reads when make test fails)
molecule: deps link
	@mkdir -p .cache/log
	{ ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks $(VENV)/bin/molecule test --all 2>&1; echo $$? > .cache/log/molecule.rc; } \
	  | tee .cache/log/molecule.log; exit $$(cat .cache/log/molecule.rc)

## The execution environment (execution-environment.yml) on the lab's base image, and verify.yml run from it
ee: deps
	scripts/ee.sh build

ee-verify: deps
	scripts/ee.sh verify

build:
	ansible-galaxy collection build --force --output-path .cache/dist .

clean: lab-down
	rm -rf .cache .pytest_cache .hypothesis tests/output
