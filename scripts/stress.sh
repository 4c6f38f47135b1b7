# shellcheck shell=bash
# Sourced by scripts/stability.sh and scripts/load-proof.sh: the stress-ng
# they load the machine with, started and stopped by pid (never by name: other
# stress-ng runs on the machine are not ours).
stress=""
# stress_start HOGS SECONDS: stress-ng --cpu HOGS, bounded by its own timeout
stress_start() {
  stress-ng --cpu "$1" --timeout "$2"s --quiet &
  stress=$!
}
# stress-ng may miss a first SIGTERM: ask again, then kill it and its
# workers by pid, all within a few seconds.
stop_stress() {
  local i workers
  [ -n "$stress" ] || return 0
  workers=$(pgrep -P "$stress" || true)
  for i in $(seq 50); do
    kill -0 "$stress" 2>/dev/null || break
    [ $((i % 10)) -eq 1 ] && kill -TERM "$stress" 2>/dev/null
    sleep 0.1
  done
  # shellcheck disable=SC2086 # one word per pid
  kill -KILL "$stress" $workers 2>/dev/null || true
  wait "$stress" 2>/dev/null || true
  stress=""
}
