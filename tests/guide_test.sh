#!/usr/bin/env bash
# Runs every ```sh block of docs/CONNECT.md, in order, against a real `kuajing serve`.
# Usage: tests/guide_test.sh path/to/kuajing
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap '[ -z "$server" ] || kill $server 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
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
# The access log (docs/API.md, "Logs"): a JSON line per answer, every one of them in the log once
# the server has stopped cleanly (a thread of its own writes them).
kill -INT "$server"
wait "$server" || true
server=
python3 - serve.log <<'EOF_PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"time_cst"')]
posts = [l for l in lines if l["method"] == "POST" and l["path"] == "/api/v1/messages"]
assert posts, "no access log line for POST /api/v1/messages"
for l in posts:
    assert l["event"] == "http" and isinstance(l["us"], int) and l["who"] and l["ip"], l
assert any(l["status"] == 200 for l in posts), posts
print(f"access log: {len(lines)} lines, {len(posts)} of POST /api/v1/messages")
EOF_PY
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
