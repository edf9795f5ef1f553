# The two commands of the README: `make run` and `make test`. Both set up what they need.
.PHONY: setup run test bench

setup:
	bash scripts/setup.sh

run: setup
	uv run --frozen python -m flask_k8s.local --app examples/flask-app token=hello

test: setup
	uv run --frozen tox

bench: setup
	uv run --frozen python bench/hook_cost.py
