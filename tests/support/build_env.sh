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

# with_library CMD ARGS...: runs CMD, an interpreter that loads $build/libmanushya.so at run
# time (python3), so that a sanitized library works in it: the ASan runtime preloaded first,
# leak detection off (the interpreter's own allocations are no concern of ours), and
# MN_SANITIZED=1 for tests that must know. Says so on stderr.
with_library() {
  if [ -z "$sanflags" ]; then
    "$@"
    return
  fi
  preload=$($CC -print-file-name=libasan.so)
  echo "# sanitized build: LD_PRELOAD=$preload, leak detection off (the interpreter's own)" >&2
  LD_PRELOAD=$preload ASAN_OPTIONS=detect_leaks=0:${ASAN_OPTIONS:-} MN_SANITIZED=1 "$@"
}
