# shellcheck shell=bash
# Sourced by bench/serve-and-load, bench/grow-and-load and bench/load-grown-store: a server's CPU
# by thread name, before and after a run.
#
#   thread_ticks PID > BEFORE; ...run...; thread_ticks PID > AFTER
#   per_clearance BEFORE AFTER CLEARANCES   -> "kj-writer 45.5  kj-projector 34.8  ..." (µs each)

# Each thread's CPU ticks (user + system), summed by thread name: "name ticks" lines. The fields
# after the command name in parentheses, which could hold spaces, are counted from its end.
thread_ticks() {
  for t in /proc/"$1"/task/*; do
    echo "$(cat "$t/comm") $(sed 's/.*) //' "$t/stat" | awk '{print $12 + $13}')"
  done | awk '{ticks[$1] += $2} END {for (k in ticks) print k, ticks[k]}' | sort
}

# The µs of CPU per clearance each thread name took between two thread_ticks listings.
per_clearance() {
  awk -v n="$3" -v hz="$(getconf CLK_TCK)" '
    NR == FNR {before[$1] = $2; next}
    {us = ($2 - before[$1]) * 1e6 / hz / n; if (us > 0) printf "%s %.1f  ", $1, us}' "$1" "$2"
}
