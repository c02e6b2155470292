#!/usr/bin/env bash
# gen.sh — lint and format-check the protobuf API, regenerate gen/ with pinned tools and fail
# on any difference. Needs only Go: buf and the plugins are installed with `go install` into
# $(go env GOPATH)/bin, which is put first on PATH. Run from anywhere: bash .ci/gen.sh
set -euo pipefail

BUF_VERSION=v1.75.0
PROTOC_GEN_GO_VERSION=v1.36.12 # same as google.golang.org/protobuf in go.mod
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2

cd "$(dirname "$0")/.."
gobin="$(go env GOPATH)/bin"
export PATH="$gobin:$PATH"

# install PKG@VERSION unless BINARY --version already prints VERSION (without the v).
install() {
	local pkg=$1 version=$2 binary=$3
	if command -v "$binary" >/dev/null 2>&1 &&
		[[ "$(command -v "$binary")" == "$gobin/$binary" ]] &&
		"$binary" --version 2>&1 | grep -qF "${version#v}"; then
		return
	fi
	echo "gen: go install $pkg@$version"
	GOBIN="$gobin" go install "$pkg@$version"
}
install github.com/bufbuild/buf/cmd/buf "$BUF_VERSION" buf
install google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO_VERSION" protoc-gen-go
install google.golang.org/grpc/cmd/protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION" protoc-gen-go-grpc

echo "gen: buf lint"
buf lint
echo "gen: buf format --diff --exit-code"
buf format --diff --exit-code

# Regenerate and compare with what was there before (works without git too).
before="$(mktemp -d)"
trap 'rm -rf "$before"' EXIT
if [[ -d gen ]]; then cp -a gen "$before/gen"; else mkdir "$before/gen"; fi
echo "gen: buf generate"
buf generate
if ! diff -r "$before/gen" gen; then
	echo "gen: gen/ is stale: run 'bash .ci/gen.sh' (or 'buf generate') and commit the result" >&2
	exit 1
fi

# In a git work tree, gen/ must also match what is committed.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	if ! git diff --exit-code -- gen/; then
		echo "gen: gen/ differs from the index: commit the regenerated files" >&2
		exit 1
	fi
	untracked="$(git ls-files --others --exclude-standard -- gen/)"
	if [[ -n "$untracked" ]]; then
		echo "gen: untracked generated files (commit them):" >&2
		echo "$untracked" >&2
		exit 1
	fi
fi

echo "gen: ok (buf $BUF_VERSION, protoc-gen-go $PROTOC_GEN_GO_VERSION, protoc-gen-go-grpc $PROTOC_GEN_GO_GRPC_VERSION)"
