package admin

import (
	"runtime"
	"time"
)

// CurrentProcess reads the process figures now: goroutines and heap from the runtime,
// with the given start time and version.
func CurrentProcess(startedAt time.Time, version string) ProcessStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ProcessStats{
		StartedAt:      startedAt,
		Goroutines:     uint64(runtime.NumGoroutine()),
		HeapAllocBytes: ms.HeapAlloc,
		Version:        version,
	}
}
