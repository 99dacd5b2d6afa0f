# Two commands do all set-up:  `make lab` opens the course, `make test` checks it (`make book` builds the
# reading edition). Each creates .venv (if missing) and installs the library into it with every optional
# group of pyproject.toml, the one list of requirements (a Binder launch installs the library alone).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Extra arguments, e.g. `make test PYTEST_ARGS="-m nb02"` or `make lab LAB_ARGS=--no-browser`
PYTEST_ARGS ?=
LAB_ARGS    ?=
# Jupyter refuses to start as root (containers, CI) unless told to
ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

.PHONY: lab test book install clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed, found " + sys.version.split()[0] + " ($(PYTHON)); run make with PYTHON=/path/to/python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[grading,test,book]"
	@# nbgrader is here for its preprocessors (python -m backprop.grading); its menus, buttons and
	@# server pages would only confuse a student in the course's JupyterLab: off, in this .venv only
	@# (a Binder launch installs no nbgrader: it is in the optional group 'grading')
	@$(VENV)/bin/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader >/dev/null 2>&1
	@for e in formgrader validate_assignment assignment_list course_list; do \
	  $(VENV)/bin/jupyter server extension disable --sys-prefix nbgrader.server_extensions.$$e >/dev/null 2>&1; done
	@touch $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.default_url=/lab/tree/notebooks $(ROOT_FLAG) $(LAB_ARGS)

# one pytest-xdist worker per core. A third worker on 2 cores filled the waits (299 s against 341 s), but left the
# sandboxed attack batch's cells too little CPU to reach their verdicts within 10 s in CI: not worth a flaky run
test: $(STAMP)
	$(PY) -m pytest -n auto $(PYTEST_ARGS)

# the reading edition of notebooks 00-06, from their stored outputs, offline; its last line is the front page
book: $(STAMP)
	@$(PY) book/build.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis book/_build
