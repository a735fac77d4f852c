#!/usr/bin/env bash
# Sets up, builds and starts Tollgate on config/example.yaml (or $1).
# Usage: scripts/run.sh [CONFIG]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOLLGATE_BUILD_TESTS=OFF >/dev/null
cmake --build build --target tollgate -j"$(nproc)"
exec ./build/tollgate --config "${1:-config/example.yaml}"
