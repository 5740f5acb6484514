# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
N ?= 2

.PHONY: run test fuzz venv dev spark bench cohort cohort-spark cluster cluster-stop load clean mutate

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Optional: pyspark for the cohort on Spark (needs Java 17: apt-get install default-jre-headless).
$(VENV)/.spark-installed: $(VENV)/.installed requirements-spark.txt
	$(PY) -m pip install --quiet -r requirements-spark.txt
	touch $@

venv: $(VENV)/.installed
dev: $(VENV)/.dev-installed
spark: $(VENV)/.spark-installed

## Start the app on the shipped sample data.
run: venv
	$(VENV)/bin/streamlit run dashboard.py --server.port $(PORT) --server.headless true

## Whole suite: unit, property, AppTest and browser tests.
test: dev
	$(PY) -m pytest -q

## Fuzz suite at full length: >= 20,000 examples per target (figures: test-artifacts/fuzz-fuzz.json).
## `make test` runs the same targets briefly (profile "quick").
fuzz: dev
	FUZZ_PROFILE=fuzz $(PY) -m pytest -q -p no:cacheprovider tests/test_fuzz.py

## Mutation testing (mutmut) of the core modules, one at a time, fast tests only; prints the
## kill rate per module. MODULES="schedule evaluate" for some; MUTATE_CHILDREN=1 workers. Slow.
mutate: dev
	$(PY) tests/mutate.py $(MODULES)

## Benchmarks (print figures; see README).
bench: dev
	$(PY) bench/engine.py

## Generate the large analyst cohort (1000 pumps x 730 days).
cohort: venv
	$(PY) -m pumpmodel simulate --pumps 1000 --days 730 --seed 7 --out data/cohort-1000

## Every cohort view over data/cohort-1000 on Spark local[*], timed beside DuckDB.
cohort-spark: spark
	@test -d data/cohort-1000 || $(MAKE) cohort
	$(PY) bench/cohort_spark.py --data data/cohort-1000

## Local cluster: PostgreSQL + N app servers + nginx on http://127.0.0.1:8500 (see README "Cluster").
cluster: venv
	$(PY) deploy/cluster.py start --servers $(N)

## Stop exactly what `make cluster` started.
cluster-stop:
	$(PY) deploy/cluster.py stop

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
