"""Benchmarks: ``lts bench`` measures every backend x precision x input size x config on the CPU
(``cases`` plans, ``prepare`` makes checkpoints and exports, ``worker`` measures one case in its own process,
``report`` writes JSON and the tables of docs/benchmarks.md); ``gpu`` is the torch-on-CUDA counterpart."""
