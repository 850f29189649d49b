package analytics

import (
	"encoding/binary"
	"errors"
	"hash/maphash"
	"slices"

	"github.com/axiomhq/hyperloglog"
	"github.com/cespare/xxhash/v2"
)

// ExactLimit is how many devices a set counts exactly; a larger set becomes
// a HyperLogLog sketch (precision 14: about 0.8 % standard error).
const ExactLimit = 512

// Set is a set of devices: exact while small, a sketch beyond ExactLimit.
// The zero Set is empty.
type Set struct {
	exact  map[uint64]struct{}
	sketch *hyperloglog.Sketch
}

// HashDevice is the 64-bit hash sets hold of a device.
func HashDevice(device string) uint64 { return xxhash.Sum64String(device) }

// Add inserts a device's hash.
func (s *Set) Add(h uint64) {
	if s.sketch != nil {
		s.sketch.InsertHash(h)
		return
	}
	if s.exact == nil {
		s.exact = map[uint64]struct{}{}
	}
	s.exact[h] = struct{}{}
	if len(s.exact) > ExactLimit {
		s.toSketch()
	}
}

func (s *Set) toSketch() {
	s.sketch = hyperloglog.New14()
	for h := range s.exact {
		s.sketch.InsertHash(h)
	}
	s.exact = nil
}

// Merge adds every device of o.
func (s *Set) Merge(o *Set) {
	switch {
	case o.sketch != nil && s.sketch == nil:
		s.toSketch()
		fallthrough
	case o.sketch != nil:
		_ = s.sketch.Merge(o.sketch) // same precision: never fails
	default:
		for h := range o.exact {
			s.Add(h)
		}
	}
}

// Count is how many distinct devices the set holds (an estimate once a
// sketch).
func (s *Set) Count() int64 {
	if s.sketch != nil {
		return int64(s.sketch.Estimate())
	}
	return int64(len(s.exact))
}

// Exact reports whether Count is exact.
func (s *Set) Exact() bool { return s.sketch == nil }

// Encoding tags.
const (
	tagExact  = 'E'
	tagSketch = 'H'
)

// MarshalBinary encodes the set: 'E' and the sorted hashes, or 'H' and the
// sketch.
func (s *Set) MarshalBinary() ([]byte, error) {
	if s.sketch != nil {
		return s.sketch.AppendBinary([]byte{tagSketch})
	}
	hs := make([]uint64, 0, len(s.exact))
	for h := range s.exact {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	out := make([]byte, 1, 1+8*len(hs))
	out[0] = tagExact
	for _, h := range hs {
		out = binary.LittleEndian.AppendUint64(out, h)
	}
	return out, nil
}

var errSet = errors.New("analytics: malformed device set")

// UnmarshalBinary decodes what MarshalBinary encoded.
func (s *Set) UnmarshalBinary(b []byte) error {
	*s = Set{}
	if len(b) == 0 {
		return errSet
	}
	switch b[0] {
	case tagSketch:
		s.sketch = hyperloglog.New14()
		return s.sketch.UnmarshalBinary(b[1:])
	case tagExact:
		if (len(b)-1)%8 != 0 {
			return errSet
		}
		s.exact = make(map[uint64]struct{}, (len(b)-1)/8)
		for i := 1; i < len(b); i += 8 {
			s.exact[binary.LittleEndian.Uint64(b[i:])] = struct{}{}
		}
		return nil
	}
	return errSet
}

// evictedSets remembers, approximately, which device sets an aggregate
// dropped from memory: a Bloom filter of their keys, allocated at the
// first drop. A set that may have been dropped is opened partial (its next
// write reads the stored row back to merge); a false positive costs one
// needless read, and the filter's fixed size bounds its memory however
// many sets are dropped.
type evictedSets struct {
	bits []uint64
	seed maphash.Seed
}

const (
	evictedBits   = 1 << 23 // 1 MiB
	evictedProbes = 4
)

func (e *evictedSets) add(g setGrain, k setKey) {
	if e.bits == nil {
		e.bits, e.seed = make([]uint64, evictedBits/64), maphash.MakeSeed()
	}
	for i := range e.probes(g, k) {
		e.bits[i/64] |= 1 << (i % 64)
	}
}

func (e *evictedSets) mayHold(g setGrain, k setKey) bool {
	if e.bits == nil {
		return false
	}
	for i := range e.probes(g, k) {
		if e.bits[i/64]&(1<<(i%64)) == 0 {
			return false
		}
	}
	return true
}

// probes are the key's bit positions (double hashing of one 64-bit hash).
func (e *evictedSets) probes(g setGrain, k setKey) func(yield func(uint64) bool) {
	var h maphash.Hash
	h.SetSeed(e.seed)
	h.WriteByte(byte(g))
	for _, s := range [...]string{k.account, k.product, k.dim, k.value} {
		h.WriteString(s)
		h.WriteByte(0)
	}
	var unit [8]byte
	binary.LittleEndian.PutUint64(unit[:], uint64(k.unit))
	h.Write(unit[:])
	sum := h.Sum64()
	h1, h2 := sum, sum>>32|1
	return func(yield func(uint64) bool) {
		for i := range uint64(evictedProbes) {
			if !yield((h1 + i*h2) % evictedBits) {
				return
			}
		}
	}
}
