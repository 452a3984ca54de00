#!/usr/bin/env bash
# Installs the built recur into a scratch prefix, then checks the install as a user sees it:
# tests/consumer built against it with find_package(recur); bin/recur runs from the prefix with
# no LD_LIBRARY_PATH (RPATH $ORIGIN/../lib); a C program built with `pkg-config --cflags --libs
# recur` links and reports the same version; the package's version compatibility is 0.y's
# (same minor). Args: BUILD_DIR SOURCE_DIR.
set -euo pipefail
build_dir=$1
source_dir=$2
work=$build_dir/consumer-test
rm -rf "$work"
cmake --install "$build_dir" --prefix "$work/prefix" > /dev/null
prefix=$work/prefix
cmake -S "$source_dir/tests/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$prefix" > /dev/null
cmake --build "$work/build" > /dev/null
LD_LIBRARY_PATH="$prefix/lib:${LD_LIBRARY_PATH:-}" "$work/build/consumer" "$work/model.recur"

# The version, one number everywhere.
version=$(sed -n 's/^#define RECUR_VERSION_STRING "\(.*\)"$/\1/p' "$prefix/include/recur/version.h")
[ -n "$version" ] || { echo "no RECUR_VERSION_STRING in the installed recur/version.h" >&2; exit 1; }

# bin/recur from the prefix alone.
got=$(env -u LD_LIBRARY_PATH "$prefix/bin/recur" --version)
[ "$got" = "recur $version" ] || { echo "installed recur --version: '$got', expected 'recur $version'" >&2; exit 1; }
env -u LD_LIBRARY_PATH "$prefix/bin/recur" inspect "$work/model.recur" > /dev/null

# pkg-config.
pcdir=$(dirname "$(find "$prefix" -name recur.pc | head -1)")
[ "$(PKG_CONFIG_PATH=$pcdir pkg-config --modversion recur)" = "$version" ] \
  || { echo "recur.pc: version is not $version" >&2; exit 1; }
cat > "$work/version.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <recur/recur.h>
int main(void) {
  printf("%s\n", recur_version());
  return strcmp(recur_version(), RECUR_VERSION_STRING) == 0 ? 0 : 1;
}
C
# shellcheck disable=SC2046
cc -std=c11 -o "$work/version_c" "$work/version.c" $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs recur)
[ "$(LD_LIBRARY_PATH="$prefix/lib:${LD_LIBRARY_PATH:-}" "$work/version_c")" = "$version" ] \
  || { echo "recur_version() through pkg-config differs from $version" >&2; exit 1; }

# find_package(recur X.Y): 0.y promises nothing across minor versions.
IFS=. read -r major minor patch <<< "$version"
config_version=$(find "$prefix" -name recurConfigVersion.cmake | head -1)
cat > "$work/compatible.cmake" <<'CM'
string(REPLACE "." ";" parts "${PACKAGE_FIND_VERSION}")
list(GET parts 0 PACKAGE_FIND_VERSION_MAJOR)
list(GET parts 1 PACKAGE_FIND_VERSION_MINOR)
list(GET parts 2 PACKAGE_FIND_VERSION_PATCH)
set(PACKAGE_FIND_VERSION_COUNT 3)
include(${F})
message("${PACKAGE_VERSION_COMPATIBLE}")
CM
compatible() {  # VERSION -> TRUE or FALSE
  cmake -DPACKAGE_FIND_VERSION="$1" -DF="$config_version" -P "$work/compatible.cmake" 2>&1
}
[ "$(compatible "$major.$minor.0")" = TRUE ] || { echo "find_package(recur $major.$minor.0) refused" >&2; exit 1; }
[ "$(compatible "$major.$((minor + 1)).0")" = FALSE ] \
  || { echo "find_package(recur $major.$((minor + 1)).0) accepted $version" >&2; exit 1; }
if [ "$minor" -gt 0 ]; then
  [ "$(compatible "$major.$((minor - 1)).0")" = FALSE ] \
    || { echo "find_package(recur $major.$((minor - 1)).0) accepted $version" >&2; exit 1; }
fi
echo "consumer: installed recur $version: find_package, bin/recur, pkg-config, version compatibility ok"
