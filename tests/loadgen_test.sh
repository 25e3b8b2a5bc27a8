#!/usr/bin/env bash
# `kuajing loadgen` against a real `kuajing serve`, with the server killed (SIGKILL) and restarted
# between steps (and stopped gracefully once, to start again from its snapshot): 300 clearances in batches of 50 on 2 connections are all accepted; after the kill
# the restarted server has every one of them; sending them all again changes nothing; 100 more
# with answers without the receipts' XML (--minimal). Then `kuajing simulate` feeds the same
# server over HTTP.
set -euo pipefail
trap 'echo "loadgen_test.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
bin=$1
work=$(mktemp -d)
server=
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
start() {
  : > "$work/serve.log"
  "$bin" serve --data "$work/zone" --listen 127.0.0.1:0 --demo-keys > "$work/serve.log" 2> /dev/null &
  server=$!
  # The start note is the last line the server prints before it serves.
  for _ in $(seq 100); do grep -q "^  start:" "$work/serve.log" && break; sleep 0.1; done
  url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.log" | head -1)
}
released() { curl -s "$url/api/v1/status" | grep -o '"inventories":{[^}]*}' | grep -o '"released":[0-9]*' | cut -d: -f2; }
load() { "$bin" loadgen --url "$url" --keys "$work/zone/keys.txt" --clearances 300 --batch 50 --connections 2 2>/dev/null; }

start
out=$(load)
echo "$out"
echo "$out" | grep -q "loadgen: 300 clearances"
echo "$out" | grep -q "errors: 0"
before=$(released)
echo "released: $before"
[ "$before" -ge 290 ]  # a few generated orders are over the 5,000 CNY limit and rightly rejected
# The heap in huge pages (src/heap.h), where the build has tcmalloc and the kernel transparent
# huge pages on request (not in the sanitizers' builds, nor with KJ_HUGE_PAGES=0).
if ldd "$bin" | grep -q tcmalloc && grep -q '\[\(always\|madvise\)\]' \
  /sys/kernel/mm/transparent_hugepage/enabled 2> /dev/null && [ "${KJ_HUGE_PAGES:-1}" != 0 ]; then
  huge=$(awk '/^AnonHugePages:/ {print $2}' "/proc/$server/smaps_rollup")
  echo "the server's heap in huge pages: $huge kB"
  [ "$huge" -gt 0 ]
fi

kill -9 "$server"; wait "$server" 2>/dev/null || true
start
after=$(released)
echo "released after kill -9 and restart: $after"
grep -q "start:    read every stored row" "$work/serve.log"  # no snapshot after a kill
[ "$after" -eq "$before" ]
out=$(load)  # the same messages again: answered with their original receipts
echo "$out" | grep -q "errors: 0"
[ "$(released)" -eq "$before" ]

# loadgen's options have limits too: just over each is a usage error (exit 2), before any request.
for bad in "--seed 4294967296" "--batch 101" "--batch 0" "--connections 257" "--connections 0" \
  "--clearances 0" "--clearances 100000001"; do
  rc=0
  # shellcheck disable=SC2086
  "$bin" loadgen --url "$url" --keys "$work/zone/keys.txt" $bad > /dev/null 2>&1 || rc=$?
  [ "$rc" -eq 2 ] || { echo "loadgen $bad: exit $rc, want 2"; exit 1; }
done
"$bin" loadgen --url "$url" --keys "$work/zone/keys.txt" --clearances 100 --batch 100 \
  --connections 1 --seed 4294967295 --first 7000000 2>/dev/null | grep -q "errors: 0"
# Answers without the receipts' XML (`--minimal`, `Prefer: return=minimal`): new clearances are
# released as with whole answers, and the answers are a fraction of the bytes.
before_minimal=$(released)
out=$("$bin" loadgen --url "$url" --keys "$work/zone/keys.txt" --clearances 100 --batch 50 \
  --connections 2 --first 8000000 --minimal 2>/dev/null)
echo "$out" | grep -q "errors: 0"
after_minimal=$(released); echo "minimal released: $before_minimal -> $after_minimal"
[ "$after_minimal" -ge $((before_minimal + 95)) ]
bytes=$(echo "$out" | grep -o 'answers [0-9]* bytes' | grep -o '[0-9]*')
echo "minimal answers: $bytes bytes per clearance"
[ "$bytes" -gt 0 ]
[ "$bytes" -lt 2000 ]  # whole answers are about 5,500

# `kuajing simulate` over HTTP, flat out: a small day of mixed traffic, every document answered
# (only the planted broken messages are refused at the door), and the cleared lists counted.
sim=$("$bin" simulate --url "$url" --keys "$work/zone/keys.txt" --imports 60 --exports 10 --rate 0 \
  --seed 3 2>&1 | tail -1)
echo "$sim"
echo "$sim" | grep -q "errors 0"
# It asks for brief answers, whose release receipts carry the invtNo its cancellations and returns
# need: without it none would be planned.
if echo "$sim" | grep -q " 0 cancellations, 0 returns"; then
  echo "simulate planned no cancellation or return: the answers gave no invtNo"
  exit 1
fi
[ "$(released)" -gt "$before" ]
# A graceful stop (SIGTERM) writes the engines' snapshot; the next start reads it instead of every
# stored list (docs/ARCHITECTURE.md) and holds the same.
final=$(released)
kill -TERM "$server"
wait "$server" || true
grep -q "snapshot written" "$work/serve.log"
start
grep -q "start:    started from the snapshot" "$work/serve.log"
[ "$(released)" -eq "$final" ]
echo "released after a graceful stop and a start from the snapshot: $final"
# Its options have limits, and a wrong one is a usage error (exit 2), not a run.
for bad in "--days 3661" "--days 0" "--scale 11" "--scale 0" "--preset christmas" "--imports -1" \
  "--date 2024-06-01"; do
  rc=0
  # shellcheck disable=SC2086
  "$bin" simulate --data "$work/never" $bad 2>/dev/null || rc=$?
  [ "$rc" -eq 2 ] || { echo "simulate $bad: exit $rc, want 2"; exit 1; }
done
[ ! -e "$work/never" ]
"$bin" simulate --data "$work/edge" --days 1 --imports 1 --exports 0 --scale 10 2>/dev/null
echo "loadgen: 1 passed, 0 failed"
