# The two commands of the README: `make run` and `make test`. Both set up what they need
# (scripts/setup.sh: run as root), then use the locked environment in .venv.
.PHONY: setup run test bench

setup:
	bash scripts/setup.sh

run: setup
	.venv/bin/python -m flask_k8s.local --app examples/flask-app token=hello

test: setup
	.venv/bin/tox

bench: setup
	.venv/bin/python bench/hook_cost.py --runs 15
	scripts/hermetic.sh .venv/bin/python bench/availability.py
	.venv/bin/python bench/app_side.py
