#!/usr/bin/env bash
# The playground build is reproducible: building it again from the same sources and lockfile
# (npm ci, the generated client, esbuild) gives byte-identical files.
set -euo pipefail
cd "$(dirname "$0")/../.."
make --no-print-directory web >/dev/null
sum() { (cd service/static && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
first=$(sum)
rm -rf service/static web/src/api web/node_modules
make --no-print-directory web >/dev/null
second=$(sum)
if [ "$first" != "$second" ]; then
  diff <(echo "$first") <(echo "$second") || true
  echo "FAIL: two builds of the playground differ"; exit 1
fi
echo "playground build reproducible: $(echo "$second" | wc -l) files, $(du -sh service/static | cut -f1), sha256 of app.js $(sha256sum service/static/playground/app.js | cut -c1-16)"
