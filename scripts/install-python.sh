#!/usr/bin/env bash
#===- scripts/install-python.sh - make the built distopt package importable -===#
#
# Usage: scripts/install-python.sh [BUILD_DIR]   (scripts/build.sh calls it)
#
# Makes `import distopt` work for Debian's /usr/bin/python3 from the build
# tree, without installing anything: writes distopt.pth (one line, the path
# of BUILD_DIR/python) into /usr/local/lib/python3.X/dist-packages, a folder
# that Python searches. Only when that folder is writable (root, or a user
# who owns it); otherwise it prints the PYTHONPATH to set. Idempotent: an
# up-to-date file is left alone; another build's is replaced, and the script
# says so. DISTOPT_PYTHON_PTH=0 skips it; DISTOPT_PYTHON_SITE names another
# folder. `cmake --install` installs the package itself (docs/python.md).
#
#===------------------------------------------------------------------------===#
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="$(cd "${1:-${BUILD_DIR:-$ROOT/build}}" && pwd)"
PYTHON=/usr/bin/python3
PACKAGE_DIR="$BUILD_DIR/python"

if [ "${DISTOPT_PYTHON_PTH:-1}" = 0 ]; then
  exit 0
fi
# A sanitizer build's extension needs the sanitizers' runtime loaded first,
# which Debian's Python does not: the normal build's package stays the one
# Python imports.
if grep -q '^DISTOPT_SANITIZE:STRING=.\+' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
  echo "install-python: $BUILD_DIR is a sanitizer build; its package is not the one Python imports"
  exit 0
fi
if ! compgen -G "$PACKAGE_DIR/distopt/_distopt*.so" >/dev/null; then
  echo "install-python: the distopt package is not built ($PACKAGE_DIR/distopt); build the _distopt target"
  exit 0
fi

# A python3 first on PATH (pyenv, a venv) is not Debian's and does not
# search its folders.
on_path="$(command -v python3 || true)"
if [ -n "$on_path" ] && [ "$(readlink -f "$on_path")" != "$(readlink -f "$PYTHON")" ]; then
  echo "install-python: note: python3 on PATH is $on_path, not $PYTHON; run distopt scripts with $PYTHON"
fi

# The folder Debian's Python searches under /usr/local for this version.
SITE="${DISTOPT_PYTHON_SITE:-$("$PYTHON" -c 'import sys; print("/usr/local/lib/python%d.%d/dist-packages" % sys.version_info[:2])')}"
PTH="$SITE/distopt.pth"

if [ -f "$PTH" ] && [ "$(cat "$PTH")" = "$PACKAGE_DIR" ]; then
  echo "install-python: $PTH already points at $PACKAGE_DIR"
  exit 0
fi
if { [ -d "$SITE" ] && [ -w "$SITE" ]; } ||
   { [ ! -e "$SITE" ] && [ "$(id -u)" -eq 0 ]; }; then
  mkdir -p "$SITE"
  if [ -f "$PTH" ]; then
    echo "install-python: $PTH pointed at $(cat "$PTH"); replacing it"
  fi
  printf '%s\n' "$PACKAGE_DIR" > "$PTH.tmp.$$"
  mv "$PTH.tmp.$$" "$PTH"
  if (cd / && env -u PYTHONPATH "$PYTHON" -c "import distopt" 2>/dev/null); then
    echo "install-python: $PYTHON imports distopt from $PACKAGE_DIR (through $PTH)"
  else
    echo "install-python: wrote $PTH, but $PYTHON does not import distopt" \
         "from it (is $SITE on its sys.path?)"
  fi
else
  echo "install-python: $SITE is not writable; to import distopt, set"
  echo "  export PYTHONPATH=$PACKAGE_DIR\${PYTHONPATH:+:\$PYTHONPATH}"
fi

