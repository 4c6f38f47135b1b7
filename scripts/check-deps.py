#!/usr/bin/python3
"""Does installing scripts/install-deps.sh's packages give the build everything it looks for?

For every pkg_check_modules / find_library / find_program / find_package of
every CMakeLists.txt, find the file the build found (the module's .pc file,
the library or program cmake cached), ask dpkg which package ships it, and
check that a package of the lists, or one they pull in through Depends, is it.
What the build REQUIRES must come from install-deps.sh's run_packages (the quick
start installs only those); optional finds may come from test_packages too.

  scripts/check-deps.py BUILD_DIR [--run-list FILE] [--test-list FILE]

Prints one line per dependency; exits 1 when one is not installed by the
lists, 2 on bad usage. Needs the build configured (BUILD_DIR/CMakeCache.txt).
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# find_package() names and the cache variable holding what they found;
# None: part of libc (build-essential's libc6-dev).
PACKAGE_VARS = {"PkgConfig": "PKG_CONFIG_EXECUTABLE", "Git": "GIT_EXECUTABLE", "Threads": None}


def read_list(path, which):
    """The packages of a list file, or else of install-deps.sh's own list."""
    if path:
        with open(path) as f:
            text = f.read()
    else:
        text = subprocess.run(["bash", os.path.join(ROOT, "scripts/install-deps.sh"), "--list", which],
                              capture_output=True, text=True, check=True).stdout
    return [l.split("#")[0].split()[0] for l in text.splitlines() if l.split("#")[0].strip()]


def cmake_finds():
    """(kind, name-or-var, required, where) for every find in the tree's CMakeLists."""
    finds = []
    for d, dirs, files in os.walk(ROOT):
        dirs[:] = [x for x in dirs if not x.startswith((".", "build"))]
        if "CMakeLists.txt" not in files:
            continue
        path = os.path.join(d, "CMakeLists.txt")
        text = open(path).read()
        for m in re.finditer(r"^\s*(pkg_check_modules|find_library|find_program|find_package)\s*\(([^)]*)\)",
                             text, re.M | re.I):
            where = "%s:%d" % (os.path.relpath(path, ROOT), text.count("\n", 0, m.start()) + 1)
            words = m.group(2).split()
            required = "REQUIRED" in words
            if m.group(1).lower() == "pkg_check_modules":
                for w in words[1:]:
                    if w not in ("REQUIRED", "QUIET", "IMPORTED_TARGET", "GLOBAL", "NO_CMAKE_PATH",
                                 "NO_CMAKE_ENVIRONMENT_PATH"):
                        finds.append(("pkg-config module", re.split(r"[<>=]", w)[0], required, where))
            elif m.group(1).lower() == "find_package":
                finds.append(("package", words[0], required, where))
            else:
                finds.append((m.group(1).lower().replace("find_", ""), words[0], required, where))
    return finds


def cache(build):
    values = {}
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            m = re.match(r"^([A-Za-z0-9_]+):[A-Z]+=(.*)$", line.rstrip("\n"))
            if m:
                values[m.group(1)] = m.group(2)
    return values


def owner(path):
    """The package shipping path (tries the merged-/usr spellings too)."""
    tries = [path, os.path.realpath(path)]
    for p in list(tries):
        tries.append(p[4:] if p.startswith("/usr/") else "/usr" + p)
    for p in tries:
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0].split(",")[0].strip()
    return None


def closure(names):
    """The installed packages that installing names pulls in (Depends, Pre-Depends)."""
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Provides}\t${Depends}, ${Pre-Depends}\n"],
                         capture_output=True, text=True).stdout
    deps, provides = {}, {}
    for line in out.splitlines():
        pkg, prov, dep = line.split("\t")
        deps[pkg] = [re.split(r"[\s(:]", alt.strip())[0] for alt in re.split(r"[,|]", dep) if alt.strip()]
        for p in prov.split(","):
            if p.strip():
                provides.setdefault(re.split(r"[\s(]", p.strip())[0], []).append(pkg)
    seen, todo = set(), list(names)
    while todo:
        p = todo.pop()
        for q in [p] + provides.get(p, []):
            if q not in seen and q in deps:
                seen.add(q)
                todo.extend(deps[q])
    return seen


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build")
    # default: the lists of scripts/install-deps.sh (--list run / --list test)
    ap.add_argument("--run-list")
    ap.add_argument("--test-list")
    a = ap.parse_args()
    try:
        values = cache(a.build)
    except OSError as e:
        print("check-deps: %s: configure the build first (bash scripts/build.sh)" % e, file=sys.stderr)
        return 2
    run, test = read_list(a.run_list, "run"), read_list(a.test_list, "test")
    run_all, any_all = closure(run), closure(run + test)
    problems = 0
    for kind, name, required, where in cmake_finds():
        if kind == "pkg-config module":
            r = subprocess.run(["pkg-config", "--variable=pcfiledir", name], capture_output=True, text=True)
            path = os.path.join(r.stdout.strip(), name + ".pc") if r.returncode == 0 else None
        elif kind == "package":
            var = PACKAGE_VARS.get(name, name + "_DIR")
            if var is None:
                print("ok: %s %s (%s): part of the C library" % (kind, name, where))
                continue
            path = values.get(var)
        else:
            path = values.get(name)
        if not path or path.endswith("-NOTFOUND") or not os.path.exists(path):
            print("MISSING: %s %s (%s) was not found by the build: no package of %s installs it"
                  % (kind, name, where, "run_packages" if required else "run_packages or test_packages"))
            problems += 1
            continue
        pkg = owner(path)
        lists, have = ("run_packages", run_all) if required else ("run_packages or test_packages", any_all)
        if pkg is None:
            print("MISSING: %s %s (%s): %s belongs to no Debian package" % (kind, name, where, path))
            problems += 1
        elif pkg not in have:
            print("MISSING: %s %s (%s): %s is in package %s, which scripts/install-deps.sh does not install (%s)"
                  % (kind, name, where, path, pkg, lists))
            problems += 1
        else:
            print("ok: %s %s (%s): %s from %s" % (kind, name, where, path, pkg))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
