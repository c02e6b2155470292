package protocol

import "strings"

// The device channel grammar: device ID publishes to devices/ID/up and
// receives what is published to devices/ID/down. ID is one channel level.
const (
	devicePrefix = "devices/"
	upSuffix     = "/up"
	downSuffix   = "/down"
)

// DeviceUp is the channel device id's frames are published to.
func DeviceUp(id string) string { return devicePrefix + id + upSuffix }

// DeviceDown is the channel whose messages are written to device id.
func DeviceDown(id string) string { return devicePrefix + id + downSuffix }

// DownTarget returns the device a devices/ID/down channel addresses, or
// false for any other channel.
func DownTarget(channel string) (id string, ok bool) {
	rest, ok := strings.CutPrefix(channel, devicePrefix)
	if !ok {
		return "", false
	}
	id, ok = strings.CutSuffix(rest, downSuffix)
	if !ok || strings.IndexByte(id, '/') >= 0 {
		return "", false
	}
	return id, true
}

// Frame kinds cached on a hub.Delivery: each wire format is encoded once
// per fan-out, whatever the number of recipients.
const (
	kindApp = iota
	kindDevice
	kindSocketIO
)
