package daemontest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// mainPackage is the import path of the daemon.
const mainPackage = "github.com/wssgate/wssgate/cmd/wssgate"

var build struct {
	once sync.Once
	dir  string // holds the binary; removed by Main
	bin  string
	err  error
}

// Binary returns the path of a wssgate binary built from this module with
// "go build", building it on the first call in this test binary; later calls
// (from any test) return the same path, or the same build error, which fails t.
// The binary lives in a temporary directory that Main removes; a test binary
// without a TestMain calling Main leaves that directory behind.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		build.bin, build.err = buildBinary()
	})
	if build.err != nil {
		t.Fatalf("daemontest: %v", build.err)
	}
	return build.bin
}

// buildBinary runs go build into a new temporary directory.
func buildBinary() (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("find go tool: %w", err)
	}
	dir, err := os.MkdirTemp("", "wssgate-daemontest-")
	if err != nil {
		return "", fmt.Errorf("create build dir: %w", err)
	}
	build.dir = dir
	bin := filepath.Join(dir, "wssgate")
	out, err := exec.Command(goTool, "build", "-o", bin, mainPackage).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", mainPackage, err, out)
	}
	return bin, nil
}

// Main runs the tests of m, removes the binary built by Binary and exits
// with the tests' status. Call it from TestMain:
//
//	func TestMain(m *testing.M) { daemontest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
	os.Exit(code)
}
