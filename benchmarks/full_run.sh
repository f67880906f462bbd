#!/usr/bin/env bash
# The four paper benchmarks (mnist, cifar10, kdd99, odds) one after the other, each with
# its wall time, then the total: the "full run" timed in docs/results.md.
#
# Usage: bash benchmarks/full_run.sh [OUT_DIR] [DATA_DIR] [JOBS]
#   OUT_DIR defaults to runs, DATA_DIR to $MEMAE_DATA, JOBS (worker processes) to 2.
# Each benchmark writes <OUT_DIR>/<name>_<preset>_<seeds>.json and .md, with its default
# preset and seeds: mnist_mnist_seed0, cifar10_cifar10_seed0, kdd99_kdd99_seeds0-19,
# odds_odds_seeds0-4.
set -euo pipefail
out=${1:-runs}
data=${2:-${MEMAE_DATA:?give DATA_DIR or set MEMAE_DATA}}
jobs=${3:-2}
export OMP_NUM_THREADS=1
start=$(date +%s)
for name in mnist cifar10 kdd99 odds; do
  began=$(date +%s)
  "${PYTHON:-python}" -m memae.cli benchmark "$name" --out "$out" --data-dir "$data" \
    --threads 1 --jobs "$jobs"
  echo "== $name: $(( $(date +%s) - began )) s wall"
done
echo "== total: $(( $(date +%s) - start )) s wall (settings.cpu_seconds in each $out/*.json)"
