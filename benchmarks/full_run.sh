#!/usr/bin/env bash
# The four paper benchmarks (mnist, cifar10, kdd99, odds) one after the other, each with
# its wall time, then the total: the "full run" timed in docs/results.md.
#
# Usage: bash benchmarks/full_run.sh OUT_DIR [DATA_DIR] [JOBS]
#   DATA_DIR defaults to $MEMAE_DATA, JOBS (worker processes) to 2.
set -euo pipefail
out=${1:?usage: bash benchmarks/full_run.sh OUT_DIR [DATA_DIR] [JOBS]}
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
echo "== total: $(( $(date +%s) - start )) s wall (cpu seconds per benchmark: $out/*.json)"
