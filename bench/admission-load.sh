#!/usr/bin/env bash
# The admission webhook under a bounded burst (issue 9): 1,000 AdmissionReviews sent at once over
# TLS on loopback to `tollgate serve` (release build), each answered with its own uid; prints the
# latency percentiles. REVIEWS=N changes the burst.
#
#   bench/admission-load.sh            # 1,000 at once
#   REVIEWS=5000 bench/admission-load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export TOLLGATE_ADMISSION_REVIEWS="${REVIEWS:-1000}"
cargo test --release --locked -p tollgate --test admission concurrent_reviews_load -- --ignored --nocapture 2>&1 |
    grep -E '^\{"|test result|panicked'
