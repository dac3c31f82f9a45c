// SPDX-License-Identifier: BSD-2-Clause

package genid

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bit positions of the fields of an ID (genid(7)), bit 63 first:
// timestamp 32 bits, zone 5, dc 3, machine 3, bucket 5, counter 16.
const (
	tsShift      = 32
	zoneShift    = 27
	dcShift      = 24
	machineShift = 21
	bucketShift  = 16
)

// The largest value of each field.
const (
	MaxTimestamp = 1<<32 - 1
	MaxZone      = 31
	MaxDC        = 7
	MaxMachine   = 7
	MaxBucket    = 31
	MaxCounter   = 65535
)

// Fields are the parts of an ID.
type Fields struct {
	Timestamp int64 // seconds since the servers' epoch, 0..MaxTimestamp
	Zone      int   // 0..31, region
	DC        int   // 0..7, data centre in the zone
	Machine   int   // 0..7, node in the data centre
	Bucket    int   // 0..31, token bucket inside the node
	Counter   int   // 0..65535, sequence inside (bucket, second)
}

// Decode splits an ID into its fields.
func Decode(id uint64) Fields {
	return Fields{
		Timestamp: int64(id >> tsShift),
		Zone:      int(id >> zoneShift & MaxZone),
		DC:        int(id >> dcShift & MaxDC),
		Machine:   int(id >> machineShift & MaxMachine),
		Bucket:    int(id >> bucketShift & MaxBucket),
		Counter:   int(id & MaxCounter),
	}
}

// Encode packs fields into an ID, for instance the bounds of a time span
// for an SQL "WHERE id BETWEEN".  A field out of range is an error that
// names it.
func Encode(f Fields) (uint64, error) {
	for _, c := range []struct {
		name string
		v    int64
		max  int64
	}{
		{"ts", f.Timestamp, MaxTimestamp},
		{"zone", int64(f.Zone), MaxZone},
		{"dc", int64(f.DC), MaxDC},
		{"machine", int64(f.Machine), MaxMachine},
		{"bucket", int64(f.Bucket), MaxBucket},
		{"counter", int64(f.Counter), MaxCounter},
	} {
		if c.v < 0 || c.v > c.max {
			return 0, fmt.Errorf("genid: %s %d is out of range 0..%d", c.name, c.v, c.max)
		}
	}
	return uint64(f.Timestamp)<<tsShift | uint64(f.Zone)<<zoneShift |
		uint64(f.DC)<<dcShift | uint64(f.Machine)<<machineShift |
		uint64(f.Bucket)<<bucketShift | uint64(f.Counter), nil
}

// Unix is the Unix time, in seconds, of the timestamp under epoch (the
// servers' epoch in Unix seconds, 0 by default).
func (f Fields) Unix(epoch int64) int64 {
	return epoch + f.Timestamp
}

// Time is the time of the timestamp under epoch, in UTC.
func (f Fields) Time(epoch int64) time.Time {
	return time.Unix(f.Unix(epoch), 0).UTC()
}

// TimestampOf is the timestamp field for the time t under epoch
// (truncated to the second), for Encode; a time outside the 136 years of
// IDs from the epoch is an error.
func TimestampOf(t time.Time, epoch int64) (int64, error) {
	ts := t.Unix() - epoch
	if ts < 0 || ts > MaxTimestamp {
		return 0, fmt.Errorf("genid: %s is outside the IDs of epoch %d (%s to %s)",
			t.UTC().Format(time.RFC3339), epoch,
			time.Unix(epoch, 0).UTC().Format(time.RFC3339),
			time.Unix(epoch+MaxTimestamp, 0).UTC().Format(time.RFC3339))
	}
	return ts, nil
}

// ParseID reads an ID written in decimal or in hexadecimal after 0x (as
// genidctl prints and takes them); spaces around it are allowed.
func ParseID(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	digits, base := t, 10
	if len(t) > 1 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') {
		digits, base = t[2:], 16
	}
	// strconv would take a sign, "0b", "0o" or "_" with base 0; the
	// digits alone are allowed here.
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		ok := c >= '0' && c <= '9' ||
			base == 16 && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')
		if !ok {
			return 0, fmt.Errorf("genid: ID %q: unexpected character %q", s, c)
		}
	}
	if digits == "" {
		return 0, fmt.Errorf("genid: ID %q: no digits", s)
	}
	v, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		return 0, fmt.Errorf("genid: ID %q is larger than 18446744073709551615", s)
	}
	return v, nil
}
