#!/usr/bin/env bash
# e2e-deps.sh — install what the end-to-end tests (package e2e, WSSGATE_E2E=1) need on a fresh
# Debian machine, as root: Debian's chromium, Node.js and the pinned npm modules of e2e/node
# and e2e/socketio (npm ci), and grpcurl (go install, pinned). Idempotent: each step is skipped when what it
# installs is already there, so a second run takes a second or so. Run from anywhere:
#   bash .ci/e2e-deps.sh
# grpcurl goes to $(go env GOBIN) or $(go env GOPATH)/bin: put that on PATH (.ci/run does; the
# tests also look there).
set -euo pipefail

GRPCURL_VERSION=v1.9.4

cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
gobin="$(go env GOBIN)"
if [[ -z "$gobin" ]]; then
	gobin="$(go env GOPATH | cut -d: -f1)/bin"
fi
export PATH="$gobin:$PATH"

apt_updated=false
# apt_install PACKAGE...: apt-get update (once) and install without recommends.
apt_install() {
	export DEBIAN_FRONTEND=noninteractive
	if [[ "$apt_updated" == false ]]; then
		apt-get update
		apt_updated=true
	fi
	apt-get install -y --no-install-recommends "$@"
}

# Chromium, driven by chromedp (headless) in e2e/browser_test.go.
if [[ ! -x /usr/bin/chromium ]]; then
	echo "e2e-deps: apt-get install chromium"
	apt_install chromium
fi

# curl, for the plain-HTTP redirect check in e2e/names_test.go.
if ! command -v curl >/dev/null 2>&1; then
	echo "e2e-deps: apt-get install curl"
	apt_install curl
fi

# Node.js and npm, for the device client in e2e/node.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "e2e-deps: apt-get install nodejs npm"
	apt_install nodejs npm
fi

# The npm modules of e2e/node, exactly as package-lock.json pins them. npm ci deletes and
# reinstalls node_modules, so it runs only when the lock file changed since the last run.
lock_sum="$(sha256sum e2e/node/package-lock.json | cut -d' ' -f1)"
stamp=e2e/node/node_modules/.e2e-deps-lock.sha256
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_sum" ]]; then
	echo "e2e-deps: npm ci in e2e/node"
	(cd e2e/node && npm ci --no-audit --no-fund)
	echo "$lock_sum" >"$stamp"
fi

# The npm modules of e2e/socketio (socket.io-client), the same way.
lock_sum="$(sha256sum e2e/socketio/package-lock.json | cut -d' ' -f1)"
stamp=e2e/socketio/node_modules/.e2e-deps-lock.sha256
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_sum" ]]; then
	echo "e2e-deps: npm ci in e2e/socketio"
	(cd e2e/socketio && npm ci --no-audit --no-fund)
	echo "$lock_sum" >"$stamp"
fi

# grpcurl, for the admin API through server reflection. Its -version flag says "dev build"
# when built by go install, so the module version comes from the binary's build info.
if ! go version -m "$gobin/grpcurl" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]]+github.com/fullstorydev/grpcurl[[:space:]]+$GRPCURL_VERSION([[:space:]]|$)"; then
	echo "e2e-deps: go install github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"
	GOBIN="$gobin" go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"
fi

echo "e2e-deps: ok ($(/usr/bin/chromium --version 2>/dev/null | head -n1 | cut -d' ' -f1,2), node $(node --version)," \
	"ws $(node -p 'require("./e2e/node/node_modules/ws/package.json").version')," \
	"socket.io-client $(node -p 'require("./e2e/socketio/node_modules/socket.io-client/package.json").version'), grpcurl $GRPCURL_VERSION)"
