#!/usr/bin/env bash
# Writes the docs pages that repeat what the code knows, from the code:
#   docs/catalog.md       finwave list --slow --format markdown cases/
#   docs/dependencies.md  the package lists of scripts/install-deps.sh, with their whys
# --check: write nothing, exit 1 naming each stale page (tests/e2e_docs.sh).
#   bash scripts/gen-docs.sh [--check]     (FINWAVE=path/to/finwave; default build/finwave)
set -euo pipefail
cd "$(dirname "$0")/.."
finwave=${FINWAVE:-build/finwave}
check=0
[ "${1:-}" = "--check" ] && check=1

deps_page() {
  echo "# Dependencies"
  echo
  echo "Generated from the two package lists in \`scripts/install-deps.sh\` by"
  echo "\`bash scripts/gen-docs.sh\`: edit those lists, not this page. \`scripts/install-deps.sh\`"
  echo "installs the first (\`--test\`: both); \`tests/e2e_deps.sh\` checks that every library,"
  echo "module and program the build finds comes from a package of the first."
  for list in run test; do
    echo
    if [ $list = run ]; then echo "## To build and run (run_packages)"; else echo "## For the tests (test_packages)"; fi
    echo
    echo "| package | why |"
    echo "|---|---|"
    bash scripts/install-deps.sh --list $list | sed -n 's/^\([a-z0-9][a-z0-9.+-]*\) *# *\(.*\)$/| `\1` | \2 |/p'
  done
}

status=0
emit() { # emit PAGE: stdin is what PAGE must hold
  local page=$1 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [ $check -eq 1 ]; then
    if ! cmp -s "$tmp" "$page"; then
      echo "gen-docs: $page is stale (bash scripts/gen-docs.sh rewrites it):"
      diff -u "$page" "$tmp" | head -20 || true
      status=1
    fi
    rm -f "$tmp"
  else
    mv "$tmp" "$page"
    chmod 644 "$page"
    echo "gen-docs: wrote $page"
  fi
}

# A list that fails (a finwave older than the case files) must not write a
# shortened page: its error is shown and nothing is written.
if ! catalog=$("$finwave" list --slow --format markdown cases/); then
  echo "gen-docs: '$finwave list' failed (above); build this tree first or set FINWAVE" >&2
  exit 1
fi
printf '%s\n' "$catalog" | emit docs/catalog.md
deps_page | emit docs/dependencies.md
exit $status
