package genid

import (
	"fmt"
	"time"
)

// Bit positions of the fields of an ID (SPEC section 1), bit 63 first:
// timestamp 32 bits, zone 5, dc 3, machine 3, bucket 5, counter 16.
const (
	tsShift      = 32
	zoneShift    = 27
	dcShift      = 24
	machineShift = 21
	bucketShift  = 16

	// MaxZone, MaxDC, MaxMachine and MaxBucket are the largest values of
	// those fields.
	MaxZone    = 31
	MaxDC      = 7
	MaxMachine = 7
	MaxBucket  = 31
)

// Fields are the parts of an ID.
type Fields struct {
	Timestamp uint32 // seconds since the servers' epoch
	Zone      uint8  // 0..31
	DC        uint8  // 0..7, data centre in the zone
	Machine   uint8  // 0..7, node in the data centre
	Bucket    uint8  // 0..31, token bucket inside the node
	Counter   uint16 // sequence inside (bucket, second)
}

// Decode splits an ID into its fields.
func Decode(id uint64) Fields {
	return Fields{
		Timestamp: uint32(id >> tsShift),
		Zone:      uint8(id >> zoneShift & MaxZone),
		DC:        uint8(id >> dcShift & MaxDC),
		Machine:   uint8(id >> machineShift & MaxMachine),
		Bucket:    uint8(id >> bucketShift & MaxBucket),
		Counter:   uint16(id),
	}
}

// Encode packs fields into an ID, for instance the bounds of a time span
// for an SQL "WHERE id BETWEEN".  A field out of range is an error.
func Encode(f Fields) (uint64, error) {
	switch {
	case f.Zone > MaxZone:
		return 0, fmt.Errorf("genid: zone %d is out of range 0..%d", f.Zone, MaxZone)
	case f.DC > MaxDC:
		return 0, fmt.Errorf("genid: dc %d is out of range 0..%d", f.DC, MaxDC)
	case f.Machine > MaxMachine:
		return 0, fmt.Errorf("genid: machine %d is out of range 0..%d", f.Machine, MaxMachine)
	case f.Bucket > MaxBucket:
		return 0, fmt.Errorf("genid: bucket %d is out of range 0..%d", f.Bucket, MaxBucket)
	}
	return uint64(f.Timestamp)<<tsShift | uint64(f.Zone)<<zoneShift |
		uint64(f.DC)<<dcShift | uint64(f.Machine)<<machineShift |
		uint64(f.Bucket)<<bucketShift | uint64(f.Counter), nil
}

// Unix is the Unix time, in seconds, of the timestamp under epoch (the
// servers' epoch in Unix seconds, 0 by default).
func (f Fields) Unix(epoch int64) int64 {
	return epoch + int64(f.Timestamp)
}

// Time is the time of the timestamp under epoch, in UTC.
func (f Fields) Time(epoch int64) time.Time {
	return time.Unix(f.Unix(epoch), 0).UTC()
}

// EncodeTime packs t (truncated to the second) and the other fields into
// an ID.  A time before the epoch or more than 2^32-1 seconds after it is
// an error.
func EncodeTime(t time.Time, epoch int64, f Fields) (uint64, error) {
	ts := t.Unix() - epoch
	if ts < 0 || ts > int64(^uint32(0)) {
		return 0, fmt.Errorf("genid: %s is outside the 136 years of IDs from the epoch %d",
			t.UTC().Format(time.RFC3339), epoch)
	}
	f.Timestamp = uint32(ts)
	return Encode(f)
}
