#!/usr/bin/env bash
# Print one of the README's two commands: `demo` (the first bash block) or `tests` (the second).
set -euo pipefail
which=${1:?demo or tests}
index=$([ "$which" = demo ] && echo 1 || echo 2)
awk -v want="$index" '/^```bash$/ {n++; inside=(n==want); next} /^```$/ {inside=0} inside' "$(dirname "$0")/../README.md"
