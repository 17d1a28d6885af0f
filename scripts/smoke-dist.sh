#!/usr/bin/env bash
# Smoke test of the built server (what `npm start` runs): start dist/main.js on a temp DATA_DIR,
# upload a file, render it through the worker pool (workers load from dist/), stop with SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
file="${1:?usage: smoke-dist.sh FILE.dcm}"
port="${SMOKE_PORT:-4399}"
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
DATA_DIR="$data" PORT="$port" node dist/main.js &
pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
answer=$(curl -fs "http://127.0.0.1:$port/graphql" -H 'apollo-require-preflight: true' \
  -F operations='{"query":"mutation ($file: Upload!) { uploadDicom(file: $file) { ... on UploadDicomSuccess { file { pngUrl(maxSize: 64) } } ... on Error { code message } } }","variables":{"file":null}}' \
  -F map='{"0":["variables.file"]}' -F 0=@"$file")
url=$(node -e 'const a = JSON.parse(process.argv[1]); const u = a.data?.uploadDicom?.file?.pngUrl; if (!u) { console.error(process.argv[1]); process.exit(1); } console.log(u)' "$answer")
type=$(curl -fs -o /dev/null -w '%{content_type}' "$url")
[ "$type" = "image/png" ] || { echo "smoke: $url answered $type" >&2; kill "$pid"; exit 1; }
kill -TERM "$pid"
wait "$pid"
echo "smoke: dist/main.js served an upload and a PNG ($url), and stopped on SIGTERM"
