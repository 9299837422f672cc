# build_env.sh — what the test scripts that use a built tree share, sourced by each:
#   . "$(dirname "$0")/../support/build_env.sh"
# Sets MN_BUILD (the build dir, default build), MN_TOP (the repository's root), build (MN_BUILD
# as an absolute path), CC (default cc) and sanflags: the flags a program linking
# $build/libmanushya.so needs when it is a sanitized build (make SAN=1), else empty.
# shellcheck shell=sh

: "${MN_BUILD:=build}"
: "${MN_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
case $MN_BUILD in
  /*) build=$MN_BUILD ;;
  *) build=$MN_TOP/$MN_BUILD ;;
esac
CC=${CC:-cc}
sanflags=""
if nm -D --undefined-only "$build/libmanushya.so" 2>/dev/null | grep -q '__asan_init'; then
  sanflags="-fsanitize=address,undefined -fno-omit-frame-pointer"
fi
