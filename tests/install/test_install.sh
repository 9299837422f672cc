#!/bin/sh
# tests/install/test_install.sh — `make install` into a staging DESTDIR, then use the installed
# copy the way a user would:
#   - every file in its place with the right mode; SONAME and the two links
#   - the installed header compiles as C99 and as C++; the man pages render without warnings
#   - pkg-config (with PKG_CONFIG_SYSROOT_DIR) builds examples/quickstart.c, dynamically against
#     the installed .so and statically with `pkg-config --static`, and both run; and the C++
#     example examples/agent_chat.cc against the installed manushya.hpp, which runs
#   - `make uninstall` with the same DESTDIR removes every file that install put there
#   - manushya.pc is relocatable (paths under ${prefix}) and its Libs.private names exactly the
#     optional libraries the build has (`manushya --version` features) and links (not libpq
#     and libcurl, loaded at run time)
# Environment: MN_BUILD (build dir, default build: reused, not rebuilt), MN_TOP (repo root),
# MN_BUILD_OPTIONS (the build's WITH_* switches, as make check passes them; default all on).
# Prints one "ok" / "not ok" line per check; exits non-zero when any failed.
set -u

. "$(dirname "$0")/../support/build_env.sh"
CXX=${CXX:-c++}

. "$(dirname "$0")/../support/tap.sh"
skip() { echo "ok - $* # skip"; }
check() { # DESCRIPTION COMMAND...: ok when the command succeeds
  d=$1; shift
  if "$@"; then ok "$d"; else not_ok "$d"; fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mn-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root
prefix=/usr
root=$dest$prefix

version=$(sed -n 's/^#define MN_VERSION "\(.*\)"/\1/p' "$MN_TOP/include/manushya.h")
somajor=${version%%.*}

# A sanitized build (make SAN=1) needs the same runtime in whatever links against it.
make_args=""
if [ -n "$sanflags" ]; then
  make_args="SAN=1"
  echo "# sanitized build: linking the examples with $sanflags"
fi

# ---- install ------------------------------------------------------------------------------
# The same switches as the build, or make would rebuild it with the defaults.
make_args="$make_args ${MN_BUILD_OPTIONS:-}"
# shellcheck disable=SC2086 # $make_args is a list of VAR=VALUE words
if make -C "$MN_TOP" B="$MN_BUILD" $make_args install PREFIX="$prefix" DESTDIR="$dest" \
  >"$tmp/install.log" 2>&1; then
  ok "make install PREFIX=$prefix DESTDIR=<tmp>"
else
  not_ok "make install PREFIX=$prefix DESTDIR=<tmp>"
  tail -n 30 "$tmp/install.log" | indent
  exit 1
fi

file_mode() { # PATH MODE
  [ -f "$1" ] && [ ! -L "$1" ] && [ "$(stat -c %a "$1")" = "$2" ]
}
link_to() { # LINK TARGET
  [ -L "$1" ] && [ "$(readlink "$1")" = "$2" ]
}
check "header installed (644)" file_mode "$root/include/manushya.h" 644
check "C++ header manushya.hpp installed (644)" file_mode "$root/include/manushya.hpp" 644
check "shared library libmanushya.so.$version installed (755)" \
  file_mode "$root/lib/libmanushya.so.$version" 755
check "libmanushya.so.$somajor -> libmanushya.so.$version" \
  link_to "$root/lib/libmanushya.so.$somajor" "libmanushya.so.$version"
check "libmanushya.so -> libmanushya.so.$somajor" \
  link_to "$root/lib/libmanushya.so" "libmanushya.so.$somajor"
check "static library installed (644)" file_mode "$root/lib/libmanushya.a" 644
check "pkg-config file installed (644)" file_mode "$root/lib/pkgconfig/manushya.pc" 644
check "manushya(1) installed (644)" file_mode "$root/share/man/man1/manushya.1" 644
check "libmanushya(3) installed (644)" file_mode "$root/share/man/man3/libmanushya.3" 644
if "$MN_TOP/$MN_BUILD/manushya" --version | grep -q ' serve$'; then
  check "manushya-serve(1) installed (644)" file_mode "$root/share/man/man1/manushya-serve.1" 644
fi
check "CLI installed (755)" file_mode "$root/bin/manushya" 755

so=$root/lib/libmanushya.so.$version
soname=$(readelf -d "$so" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
if [ "$soname" = "libmanushya.so.$somajor" ]; then
  ok "SONAME is libmanushya.so.$somajor"
else
  not_ok "SONAME is libmanushya.so.$somajor (got '$soname')"
fi

# That the library exports exactly the public functions, each under its version node, is
# tests/abi/test_symbols.sh's check, on the built library that install copies.
# Every declared function is named in the README's table of the C API, whose rows abbreviate
# (`mn_memory_add`, `_get` names mn_memory_get); libmanushya(3) is tests/abi/test_symbols.sh's.
sed -n 's/^MN_API[^(]*[ *]\(mn_[a-z0-9_]*\)(.*/\1/p' "$root/include/manushya.h" | sort -u \
  >"$tmp/declared"
documents_all() { # DESCRIPTION FILE: FILE lists names; ok when every declared function is one
  sort -u "$2" | comm -23 "$tmp/declared" - >"$tmp/undocumented"
  if [ -s "$tmp/undocumented" ]; then
    not_ok "$1; missing:"
    indent "$tmp/undocumented"
  else
    ok "$1"
  fi
}
awk '/^## / { table = ($0 == "## The C API") }
     table && /^\| / {
       n = split($0, cell, "`"); prefix = ""
       for (i = 2; i <= n; i += 2) {
         if (cell[i] ~ /^mn_[a-z0-9_]+$/) { print cell[i]; split(cell[i], w, "_"); prefix = "mn_" w[2] }
         else if (cell[i] ~ /^_[a-z0-9_]+$/ && prefix != "") print prefix cell[i]
       }
     }' "$MN_TOP/README.md" >"$tmp/readme_names"
documents_all "README.md's C API table names every function declared in manushya.h" \
  "$tmp/readme_names"
# The static archive cannot hide its internal functions: say which names a static user gets.
nm -g --defined-only "$root/lib/libmanushya.a" 2>/dev/null | awk 'NF >= 3 { print $3 }' |
  grep -v -e '^mn_' -e '^MN_' -e '^__odr_asan' | sort -u >"$tmp/static_foreign" || true
if [ -s "$tmp/static_foreign" ]; then
  echo "# note: libmanushya.a also defines $(wc -l <"$tmp/static_foreign" | tr -d ' ') global" \
    "symbols without the mn_ prefix, e.g. $(head -n 5 "$tmp/static_foreign" | tr '\n' ' ')"
fi

if "$root/bin/manushya" --version >"$tmp/cli.out" 2>&1 && grep -q "$version" "$tmp/cli.out"; then
  ok "installed CLI runs: $(head -n 1 "$tmp/cli.out")"
else
  not_ok "installed CLI runs and prints $version with --version"
  indent "$tmp/cli.out"
fi

# ---- the installed header --------------------------------------------------------------------
printf '#include <manushya.h>\nint main(void) { return mn_version() == 0; }\n' >"$tmp/hdr.c"
check "installed header compiles as C99 (-pedantic -Wall -Wextra -Werror)" \
  "$CC" -std=c99 -pedantic -Wall -Wextra -Werror -I"$root/include" -fsyntax-only "$tmp/hdr.c"
if command -v "$CXX" >/dev/null 2>&1; then
  cp "$tmp/hdr.c" "$tmp/hdr.cc"
  check "installed header compiles as C++11 (-Wall -Wextra -Werror)" \
    "$CXX" -std=c++11 -Wall -Wextra -Werror -I"$root/include" -fsyntax-only "$tmp/hdr.cc"
else
  skip "installed header compiles as C++ ($CXX not found)"
fi

# ---- the man pages ---------------------------------------------------------------------------
if command -v groff >/dev/null 2>&1; then
  for page in "$root/share/man/man1/manushya.1" "$root/share/man/man3/libmanushya.3"; do
    if groff -man -Tutf8 -ww -z "$page" >"$tmp/groff.err" 2>&1 && [ ! -s "$tmp/groff.err" ]; then
      ok "$(basename "$page") renders without warnings"
    else
      not_ok "$(basename "$page") renders without warnings"
      indent "$tmp/groff.err"
    fi
  done
else
  skip "man pages render (groff not installed)"
fi

# ---- pkg-config ------------------------------------------------------------------------------
PKG_CONFIG_SYSROOT_DIR=$dest
PKG_CONFIG_PATH=$root/lib/pkgconfig
export PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH
pc_version=$(pkg-config --modversion manushya 2>&1)
if [ "$pc_version" = "$version" ]; then
  ok "pkg-config --modversion manushya is $version"
else
  not_ok "pkg-config --modversion manushya is $version (got '$pc_version')"
fi
pc_prefix=$(pkg-config --variable=prefix manushya 2>&1)
if [ "$pc_prefix" = "$dest$prefix" ] || [ "$pc_prefix" = "$prefix" ]; then
  ok "the installed manushya.pc names prefix $prefix"
else
  not_ok "the installed manushya.pc names prefix $prefix (got '$pc_prefix': a stale $MN_BUILD/manushya.pc from an install with another PREFIX?)"
fi
pc=$root/lib/pkgconfig/manushya.pc
if grep -q '^libdir=${prefix}/lib$' "$pc" && grep -q '^includedir=${prefix}/include$' "$pc"; then
  ok "manushya.pc is relocatable: libdir and includedir under \${prefix}"
else
  not_ok "manushya.pc is relocatable: libdir and includedir under \${prefix}"
  grep -E '^(prefix|libdir|includedir)=' "$pc" | indent
fi
# Each optional library the library links (hiredis) is in Libs.private exactly when the build
# has its feature; those it loads at run time (libpq, libcurl: lib/core/dl.h) never are.
features=$("$root/bin/manushya" --version 2>/dev/null | sed -n 's/^features: //p')
private=$(sed -n 's/^Libs.private: //p' "$pc")
pc_ok=1
for pair in postgres:-lpq:0 redis:-lhiredis:1 http-embed:-lcurl:0; do
  f=${pair%%:*} l=${pair#*:} linked=${pair##*:}
  l=${l%:*}
  case " $features " in *" $f "*) want=$linked ;; *) want=0 ;; esac
  case " $private " in *" $l "*) have=1 ;; *) have=0 ;; esac
  [ "$want" = "$have" ] || pc_ok=0
done
if [ "$pc_ok" = 1 ]; then
  ok "Libs.private ($private) matches the build's features (${features:-none})"
else
  not_ok "Libs.private ($private) matches the build's features (${features:-none})"
fi
cflags=$(pkg-config --cflags manushya)
libs=$(pkg-config --libs manushya)
static_libs=$(pkg-config --static --libs manushya)
echo "# cflags: $cflags"
echo "# libs: $libs"
echo "# static libs: $static_libs"

# Dynamic: links libmanushya.so, runs against the installed copy.
qs=$tmp/quickstart
# shellcheck disable=SC2086 # flag lists are meant to split
if "$CC" -std=c99 -Wall -Wextra -Werror $sanflags $cflags "$MN_TOP/examples/quickstart.c" $libs \
  -o "$qs" >"$tmp/cc.log" 2>&1; then
  ok "examples/quickstart.c builds with pkg-config --cflags --libs manushya"
  if LD_LIBRARY_PATH=$root/lib ldd "$qs" 2>/dev/null | grep -q "$root/lib/libmanushya.so.$somajor"; then
    ok "the dynamic quickstart loads the installed libmanushya.so.$somajor"
  else
    not_ok "the dynamic quickstart loads the installed libmanushya.so.$somajor"
    LD_LIBRARY_PATH=$root/lib ldd "$qs" 2>&1 | indent
  fi
  if (cd "$tmp" && LD_LIBRARY_PATH=$root/lib "$qs") >"$tmp/qs.out" 2>&1 &&
     grep -q "^libmanushya $version" "$tmp/qs.out" && grep -q '^history' "$tmp/qs.out"; then
    ok "the dynamic quickstart runs"
  else
    not_ok "the dynamic quickstart runs"
    indent "$tmp/qs.out"
  fi
else
  not_ok "examples/quickstart.c builds with pkg-config --cflags --libs manushya"
  indent "$tmp/cc.log"
fi

# Static: the link line of the README and manushya.pc, as it stands: -Wl,-Bstatic makes
# -lmanushya take libmanushya.a (the linker would prefer the .so), and the -Wl,-Bdynamic that
# --static adds after it keeps the other libraries shared.
qss=$tmp/quickstart-static
# shellcheck disable=SC2086
if "$CC" -std=c99 -Wall -Wextra -Werror $sanflags $cflags "$MN_TOP/examples/quickstart.c" \
  -Wl,-Bstatic $static_libs -o "$qss" >"$tmp/cc-static.log" 2>&1; then
  ok "examples/quickstart.c links with -Wl,-Bstatic \$(pkg-config --static --libs manushya)"
  if readelf -d "$qss" | grep NEEDED | grep -q libmanushya; then
    not_ok "the static quickstart does not need libmanushya.so"
  else
    ok "the static quickstart does not need libmanushya.so"
  fi
  if (cd "$tmp" && "$qss") >"$tmp/qss.out" 2>&1 &&
     grep -q "^libmanushya $version" "$tmp/qss.out" && grep -q '^history' "$tmp/qss.out"; then
    ok "the static quickstart runs"
  else
    not_ok "the static quickstart runs"
    indent "$tmp/qss.out"
  fi
else
  not_ok "examples/quickstart.c links with -Wl,-Bstatic \$(pkg-config --static --libs manushya)"
  indent "$tmp/cc-static.log"
  if grep -q 'cannot find -lz' "$tmp/cc-static.log"; then
    echo "# hint: sqlite3.pc lists -lz for static links: install zlib1g-dev"
  fi
fi

# C++: the installed manushya.hpp, through the same pkg-config line.
if command -v "$CXX" >/dev/null 2>&1; then
  chat=$tmp/agent_chat
  # shellcheck disable=SC2086
  if "$CXX" -std=c++17 -Wall -Wextra -Werror -pedantic $sanflags $cflags \
    "$MN_TOP/examples/agent_chat.cc" $libs -o "$chat" >"$tmp/cxx.log" 2>&1; then
    ok "examples/agent_chat.cc (C++17) builds with pkg-config --cflags --libs manushya"
    if (cd "$tmp" && TMPDIR=$tmp LD_LIBRARY_PATH=$root/lib "$chat") >"$tmp/chat.out" 2>&1 &&
       grep -q '^ben: preference drink' "$tmp/chat.out"; then
      ok "the C++ example runs against the installed library"
    else
      not_ok "the C++ example runs against the installed library"
      indent "$tmp/chat.out"
    fi
  else
    not_ok "examples/agent_chat.cc (C++17) builds with pkg-config --cflags --libs manushya"
    indent "$tmp/cxx.log"
  fi
else
  skip "the C++ example builds against the installed header ($CXX not found)"
fi
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH

# ---- uninstall ----------------------------------------------------------------------------
# shellcheck disable=SC2086
if make -C "$MN_TOP" B="$MN_BUILD" $make_args uninstall PREFIX="$prefix" DESTDIR="$dest" \
  >"$tmp/uninstall.log" 2>&1; then
  ok "make uninstall PREFIX=$prefix DESTDIR=<tmp>"
else
  not_ok "make uninstall PREFIX=$prefix DESTDIR=<tmp>"
  tail -n 30 "$tmp/uninstall.log" | indent
fi
find "$dest" ! -type d >"$tmp/left"
if [ -s "$tmp/left" ]; then
  not_ok "uninstall removes every installed file; left behind:"
  sed "s|^$dest||" "$tmp/left" | indent
else
  ok "uninstall removes every installed file"
fi

[ "$failed" -eq 0 ]
