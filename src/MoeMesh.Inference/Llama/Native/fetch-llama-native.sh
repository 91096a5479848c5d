#!/usr/bin/env bash
# Fetches the pinned llama.cpp build (prebuilt shared libraries, public headers and vocab-only
# tokenizers) from the npm registry into a git-ignored folder. Idempotent and safe to run from
# several builds at once: the work happens in a private temporary folder under a lock and is
# published with a rename, so a half-written folder is never visible.
#
# usage: fetch-llama-native.sh <native-root> <rid> [--headers]
#   <native-root>  folder to fill, e.g. <repo>/.native/llama.cpp-v0.5.0
#   <rid>          linux-x64 or linux-arm64
#   --headers      also fetch include/ (llama.h, ggml headers) and vocab/ (ggml-vocab-*.gguf)
set -euo pipefail

PACKAGE_VERSION="3.22.1"
LLAMA_RELEASE="v0.5.0"

fail() {
  # MSBuild recognises "origin: error CODE: text" and shows it as a build error.
  echo "fetch-llama-native: error MOEMESH0101: $*" >&2
  exit 1
}

[[ $# -ge 2 ]] || fail "usage: fetch-llama-native.sh <native-root> <rid> [--headers]"
root="$1"
rid="$2"
want_headers="no"
[[ "${3:-}" == "--headers" ]] && want_headers="yes"

case "$rid" in
  linux-x64|linux-arm64) ;;
  *) fail "no prebuilt llama.cpp libraries for '$rid'; build llama.cpp $LLAMA_RELEASE yourself and set MOEMESH_LLAMA_LIB_DIR to its folder" ;;
esac

libs_done() { [[ -f "$root/$rid/.complete" ]]; }
headers_done() { [[ -f "$root/include/.complete" ]]; }
all_done() { libs_done && { [[ "$want_headers" == "no" ]] || headers_done; }; }

all_done && exit 0

command -v npm >/dev/null 2>&1 || fail "npm was not found on PATH. Install Node.js (npm) so the build can fetch @node-llama-cpp/$rid@$PACKAGE_VERSION, or point MOEMESH_LLAMA_LIB_DIR at a llama.cpp $LLAMA_RELEASE build and pass -p:MoeMeshLlamaFetch=false"
command -v tar >/dev/null 2>&1 || fail "tar was not found on PATH; it is needed to unpack the llama.cpp package"

mkdir -p "$root"
exec 9>"$root/.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi

# Another build may have finished the work while this one waited for the lock.
all_done && exit 0

work="$(mktemp -d "$root/.work.XXXXXX")"
trap 'rm -rf "$work"' EXIT

publish() {
  # publish <staged-folder> <final-folder>: replace atomically enough for concurrent readers.
  local staged="$1" final="$2"
  if [[ -e "$final" ]]; then
    mv "$final" "$work/old.$(basename "$final")"
  fi
  mv "$staged" "$final"
}

if ! libs_done; then
  echo "fetch-llama-native: fetching @node-llama-cpp/$rid@$PACKAGE_VERSION (llama.cpp $LLAMA_RELEASE) into $root/$rid" >&2
  (cd "$work" && npm pack --silent "@node-llama-cpp/$rid@$PACKAGE_VERSION" >/dev/null) \
    || fail "npm pack @node-llama-cpp/$rid@$PACKAGE_VERSION failed; check the npm registry is reachable (npm config get registry)"
  mkdir -p "$work/libs"
  tar -xzf "$work"/node-llama-cpp-"$rid"-"$PACKAGE_VERSION".tgz -C "$work/libs" --wildcards "package/bins/$rid/*.so" \
    || fail "the package @node-llama-cpp/$rid@$PACKAGE_VERSION has no bins/$rid/*.so"
  staged="$work/libs/package/bins/$rid"
  # libllama-common is the node addon's helper library; the engine needs only llama and ggml.
  rm -f "$staged/libllama-common.so"
  [[ -f "$staged/libllama.$LLAMA_RELEASE.so" ]] || fail "libllama.$LLAMA_RELEASE.so is missing from @node-llama-cpp/$rid@$PACKAGE_VERSION"
  echo "@node-llama-cpp/$rid@$PACKAGE_VERSION llama.cpp $LLAMA_RELEASE" > "$staged/.complete"
  publish "$staged" "$root/$rid"
fi

if [[ "$want_headers" == "yes" ]] && ! headers_done; then
  command -v git >/dev/null 2>&1 || fail "git was not found on PATH; it is needed to read llama.h from the node-llama-cpp@$PACKAGE_VERSION source bundle"
  echo "fetching llama.h and vocab-only tokenizers from node-llama-cpp@$PACKAGE_VERSION into $root" >&2
  (cd "$work" && npm pack --silent "node-llama-cpp@$PACKAGE_VERSION" >/dev/null) \
    || fail "npm pack node-llama-cpp@$PACKAGE_VERSION failed; check the npm registry is reachable"
  mkdir -p "$work/src"
  tar -xzf "$work/node-llama-cpp-$PACKAGE_VERSION.tgz" -C "$work/src" package/llama/gitRelease.bundle \
    || fail "node-llama-cpp@$PACKAGE_VERSION has no llama/gitRelease.bundle"
  git clone --quiet --bare "$work/src/package/llama/gitRelease.bundle" "$work/llama.git" \
    || fail "could not read the llama.cpp source bundle of node-llama-cpp@$PACKAGE_VERSION"
  vocab_files=$(git --git-dir "$work/llama.git" ls-tree --name-only HEAD models/ | grep -E '^models/ggml-vocab-[^/]*\.gguf$' || true)
  mkdir -p "$work/tree"
  # shellcheck disable=SC2086
  git --git-dir "$work/llama.git" archive HEAD include/llama.h ggml/include $vocab_files | tar -x -C "$work/tree"
  mkdir -p "$work/include" "$work/vocab"
  cp "$work/tree/include/llama.h" "$work/tree/ggml/include/"*.h "$work/include/"
  if [[ -n "$vocab_files" ]]; then
    cp "$work/tree/models/"ggml-vocab-*.gguf "$work/vocab/"
  fi
  echo "node-llama-cpp@$PACKAGE_VERSION llama.cpp $LLAMA_RELEASE" > "$work/vocab/.complete"
  publish "$work/vocab" "$root/vocab"
  echo "node-llama-cpp@$PACKAGE_VERSION llama.cpp $LLAMA_RELEASE" > "$work/include/.complete"
  publish "$work/include" "$root/include"
fi
