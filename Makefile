# lts_ros: `make setup` (venv + pinned dependencies), `make test`, `make demo`, `make grasp`.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
# The ROS 2 wheels do not set AMENT_PREFIX_PATH; ament_index lookups need the venv on it.
export AMENT_PREFIX_PATH := $(abspath $(VENV))
export HF_HUB_OFFLINE := 1

.PHONY: setup test demo grasp info clean
setup: $(STAMP)

$(STAMP): requirements.txt constraints.txt setup.py package.xml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# pytest's exit 5 (no test collected) is a failure here, not a pass.
test: setup
	$(PY) -m pytest -q test; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected" >&2; exit 1; fi; exit $$rc

# The end-to-end demo: a simulated bag (recorded once, then reused) replayed through the live lts_node over DDS
# with the shipped model, scored against its ground truth. `lts demo` is the quicker in-process tour.
DEMO := runs/demo
demo: setup
	test -d $(DEMO)/sim_bag || { rm -rf $(DEMO)/sim_bag.part && \
	  $(VENV)/bin/lts bag record-sim --out $(DEMO)/sim_bag.part --episodes 2 --seed 2 && \
	  mv $(DEMO)/sim_bag.part $(DEMO)/sim_bag; }
	rm -rf $(DEMO)/live_eval
	$(VENV)/bin/lts bag eval $(DEMO)/sim_bag --out $(DEMO)/live_eval --live

# Closed-loop grasping: a simulated Panda picks what it is told through lts_node over DDS (about 2 min).
GRASP := runs/grasp
grasp: setup
	rm -rf $(GRASP)
	$(VENV)/bin/lts sim grasp --episodes 10 --out $(GRASP)

info: setup
	$(VENV)/bin/lts info --config paper
	$(VENV)/bin/lts info --config edge

clean:
	rm -rf $(VENV) build install log *.egg-info runs/demo runs/grasp
