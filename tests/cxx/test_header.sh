#!/bin/sh
# tests/cxx/test_header.sh — include/manushya.hpp built without exceptions (-fno-exceptions),
# where only the try_ forms exist: a program using them builds, runs against the built library,
# and reports a failure through its result. (Each compiler and standard: test_header_std.sh.)
# Environment: MN_BUILD (build dir, default build), MN_TOP (repo root).
# Prints one "ok" / "not ok" line per check; exits non-zero when any failed.
set -u

. "$(dirname "$0")/../support/build_env.sh"

. "$(dirname "$0")/../support/tap.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mn-cxx-header.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
flags="-Wall -Wextra -Werror -pedantic -Wshadow -I$MN_TOP/include"

cat >"$tmp/noexcept.cc" <<'CC'
#include <manushya.hpp>
#include <cstdio>
#include <string>
namespace mn = manushya;
int main(int argc, char **argv)
{
    (void)argc;
    mn::result<mn::db> d = mn::db::try_open(std::string(argv[1]) + "/no-exceptions.db");
    if (!d.ok())
        return 1;
    if (!d->try_tenant_create("acme").ok() ||
        !d->try_identity_create(mn::actor::system("acme"), "bot").ok())
        return 2;
    mn::result<mn::memory> m = d->try_get(mn::actor::system("acme"), "not an id");
    if (m.ok() || m.code() != mn::errc::invalid || m.message().empty())
        return 3;
    std::printf("%s\n", m.message().c_str());
    mn::result<mn::memory> added =
        d->try_add(mn::actor::of("acme", "bot"), mn::memory_input("no exceptions here"));
    return added.ok() && added->text() == "no exceptions here" ? 0 : 4;
}
CC
cxx=${CXX:-c++}
# shellcheck disable=SC2086
if "$cxx" -std=c++17 $flags -fno-exceptions $sanflags "$tmp/noexcept.cc" -L"$build" -lmanushya \
  -Wl,-rpath,"$build" -o "$tmp/noexcept" >"$tmp/log" 2>&1; then
  ok "built with -fno-exceptions: the try_ forms"
  if "$tmp/noexcept" "$tmp" >"$tmp/out" 2>&1; then
    ok "without exceptions, a failure comes back in the result: $(head -n 1 "$tmp/out")"
  else
    not_ok "without exceptions, a failure comes back in the result (exit $?)"
    indent "$tmp/out"
  fi
else
  not_ok "built with -fno-exceptions: the try_ forms"
  indent "$tmp/log"
fi
# Without exceptions the throwing forms do not exist: using one is a compile error, not an abort
# at run time.
printf '#include <manushya.hpp>\nint main() { manushya::db d("x"); return 0; }\n' >"$tmp/throwing.cc"
# shellcheck disable=SC2086
if "$cxx" -std=c++17 $flags -fno-exceptions -fsyntax-only "$tmp/throwing.cc" >/dev/null 2>&1; then
  not_ok "without exceptions, the throwing forms are not declared"
else
  ok "without exceptions, the throwing forms are not declared"
fi

[ "$failed" -eq 0 ]
