package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wssgate/wssgate/internal/daemontest"
)

// envE2E turns the tests on when set to "1".
const envE2E = "WSSGATE_E2E"

// envArtifacts names a directory for screenshots that outlive the test.
const envArtifacts = "WSSGATE_E2E_ARTIFACTS"

func TestMain(m *testing.M) { daemontest.Main(m) }

// needE2E skips t unless WSSGATE_E2E=1.
func needE2E(t *testing.T) {
	t.Helper()
	if os.Getenv(envE2E) != "1" {
		t.Skip("e2e: set WSSGATE_E2E=1 to run the real-client tests (they need chromium, " +
			"node with e2e/node/node_modules and grpcurl; .ci/e2e-deps.sh installs them)")
	}
}

// findTool returns the first of candidates (absolute paths or names on PATH)
// that exists; none is a failure, with how to install it.
func findTool(t *testing.T, install string, candidates ...string) string {
	t.Helper()
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	t.Fatalf("e2e: none of %q found; %s (.ci/e2e-deps.sh does it)", candidates, install)
	return ""
}

// goBinDir returns where "go install" puts programs: $GOBIN, else $GOPATH/bin.
func goBinDir() string {
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return ""
	}
	lines := strings.Split(string(out), "\n")
	if len(lines) < 2 {
		return ""
	}
	if gobin := strings.TrimSpace(lines[0]); gobin != "" {
		return gobin
	}
	if gopath := strings.TrimSpace(lines[1]); gopath != "" {
		return filepath.Join(filepath.SplitList(gopath)[0], "bin")
	}
	return ""
}

// artifactDir returns $WSSGATE_E2E_ARTIFACTS (created if needed) or a
// temporary directory of t.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(envArtifacts)
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("create artifact dir: %v", err)
	}
	return dir
}
