#!/usr/bin/env bash
# Runs every ```sh block of docs/CONNECT.md, in order, against a real `kuajing serve`.
# Usage: tests/guide_test.sh path/to/kuajing
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
mkdir bin && ln -s "$bin" bin/kuajing
export PATH="$work/bin:$PATH"
kuajing serve --data zone --listen 127.0.0.1:0 --demo-keys > serve.log 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "serving on" serve.log && break; sleep 0.1; done
export KJ_URL=$(grep -o 'http://127.0.0.1:[0-9]*' serve.log | head -1)
[ -n "$KJ_URL" ] || { cat serve.log; exit 1; }
# The blocks, with each one's output checked for being non-empty (every block ends in a check).
awk '/^```sh$/ {on=1; n++; next} /^```$/ {on=0; next} on {print > ("block" n ".sh")}' "$root/docs/CONNECT.md"
passed=0
failed=0
for b in $(ls block*.sh | sort -V); do
  if out=$(bash -euo pipefail -c "source /dev/stdin" < <(cat <(declare -x) "$b") 2>&1) && [ -n "$out" ]; then
    passed=$((passed + 1))
  else
    echo "FAILED: $b"; cat "$b"; echo "--- output:"; echo "$out"
    failed=$((failed + 1))
  fi
  # Variables that later blocks use.
  eval "$(grep -E '^export ' "$b" || true)"
  eval "$(grep -E '^GUID=' "$b" || true)"
done
echo "guide: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
