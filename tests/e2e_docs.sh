# The docs a user reads agree with the code: the README stays a first
# screen (<= 10 KB), the generated pages are fresh, the man pages render
# without warnings and finwave(1) names every option of --help, every
# relative link resolves, and an installed finwave (cmake --install) finds
# its man pages, claims list and catalog from any directory.
. "$(dirname "$0")/lib.sh"
: "${FW_BUILD_DIR:?set FW_BUILD_DIR to the build directory}"

size=$(wc -c <README.md)
[ "$size" -le 10240 ] && pass "README.md is $size bytes (<= 10 KB)" || fail "README.md is $size bytes, over 10 KB: move reference to docs/"

if FINWAVE=$FINWAVE bash scripts/gen-docs.sh --check >"$work/out" 2>&1; then
  pass "docs/catalog.md and docs/dependencies.md are what scripts/gen-docs.sh generates"
else
  fail "a generated page is stale"; sed 's/^/    /' "$work/out"
fi

for page in "$FW_BUILD_DIR/man/finwave.1" "$FW_BUILD_DIR/man/finwave-case.5"; do
  if [ ! -s "$page" ]; then fail "$page was not built"; continue; fi
  warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
  [ -z "$warnings" ] && pass "$(basename "$page") renders without warnings" \
    || { fail "$(basename "$page") renders with warnings:"; echo "$warnings" | head -10 | sed 's/^/    /'; }
done
MANWIDTH=200 man -l "$FW_BUILD_DIR/man/finwave.1" 2>/dev/null >"$work/man1.txt"
missing=""
for opt in $("$FINWAVE" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
  grep -qF -- "$opt" "$work/man1.txt" || missing="$missing $opt"
done
[ -z "$missing" ] && pass "finwave(1) names every option of --help" || fail "finwave(1) lacks:$missing"
for cmd in $("$FINWAVE" --help | sed -n 's/^  finwave \([a-z]*\) .*/\1/p'); do
  grep -qE "finwave $cmd|^ *$cmd" "$work/man1.txt" || fail "finwave(1) never shows the command '$cmd'"
done

# Relative links in README.md and docs/*.md point at files that exist.
broken=""
for md in README.md docs/*.md; do
  dir=$(dirname "$md")
  for link in $(grep -o '](\([^)#:]*\))' "$md" | sed 's/^](\(.*\))$/\1/'); do
    [ -e "$dir/$link" ] || broken="$broken $md->$link"
  done
done
[ -z "$broken" ] && pass "every relative link in README.md and docs/ resolves" || fail "broken links:$broken"

# An installed finwave, run from /, finds its data and pages without the repository.
prefix="$work/prefix"
if cmake --install "$FW_BUILD_DIR" --prefix "$prefix" >"$work/out" 2>&1; then
  pass "cmake --install into a fresh prefix"
else
  fail "cmake --install failed"; sed 's/^/    /' "$work/out"; finish
fi
for f in bin/finwave share/man/man1/finwave.1 share/man/man5/finwave-case.5 share/finwave/claims.md \
         share/finwave/cases/close/four-way.yaml share/bash-completion/completions/finwave; do
  [ -e "$prefix/$f" ] && pass "installed $f" || fail "not installed: $f"
done
(cd / && "$prefix/bin/finwave" --version) >"$work/out" 2>&1; rc=$?
expect_rc 0 "installed finwave --version"
expect_out "finwave $(sed -n 's/^project(finwave VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)" "  prints the project version"
(cd / && "$prefix/bin/finwave" --help) >"$work/out" 2>&1
expect_out "PATH defaults to the catalog ($prefix/bin/../share/finwave/cases)" "  its default catalog is the installed one"
(cd / && "$prefix/bin/finwave" claims --filter 'close/four-way\[*') >"$work/out" 2>&1; rc=$?
expect_rc 0 "installed finwave claims, run from /"
expect_out "C01  holds" "  reads the installed claims list and runs the installed catalog"
MANWIDTH=80 man -M "$prefix/share/man" finwave-case >"$work/out" 2>&1; rc=$?
expect_rc 0 "man -M PREFIX/share/man finwave-case"
expect_out "kernel: \"6.12\"" "  the case-file page, with requires:"
finish
