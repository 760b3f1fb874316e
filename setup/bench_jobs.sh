#!/usr/bin/env bash
# Benchmark of the job queue bridge (benchmarks/bench_queue_job.py), run by
# setup/bench.sh on a fresh database of its own (default oms_bench_jobs, with
# oms_integration, queue_job and oms_integration_queue_job), Odoo on port 8479.
# Options go to the driver: --orders N, --latency-seconds S, --skip-install.
# Knobs: OMS_BENCH_JOBS_DB, OMS_BENCH_JOBS_HTTP_PORT.
# Exit status: 0 every figure met its target, 1 one missed it, 2 could not run.
set -euo pipefail
OMS_BENCH_DRIVER=bench_queue_job.py \
    OMS_BENCH_DB="${OMS_BENCH_JOBS_DB:-oms_bench_jobs}" \
    OMS_BENCH_HTTP_PORT="${OMS_BENCH_JOBS_HTTP_PORT:-8479}" \
    exec bash "$(dirname "${BASH_SOURCE[0]}")/bench.sh" "$@"
