package httpapi

import (
	"errors"
	"testing"
)

func TestBufferedWriterKeepsWhatAppendBodyWroteOnlyWhenItSucceeded(t *testing.T) {
	broken := errors.New("unsupported value")
	for _, tt := range []struct {
		name  string
		add   func([]byte) ([]byte, error)
		want  string
		wantN int
		err   error
	}{
		{"appended", func(dst []byte) ([]byte, error) { return append(dst, `{"data":null}`...), nil }, `head{"data":null}`, 13, nil},
		{"failed half way: dropped", func(dst []byte) ([]byte, error) { return append(dst, `{"data":{"attr`...), broken }, "head", 0, broken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := &bufferedWriter{body: *bodies.Get().(*[]byte)}
			defer b.release()
			if _, err := b.Write([]byte("head")); err != nil {
				t.Fatal(err)
			}
			n, err := b.appendBody(tt.add)
			if !errors.Is(err, tt.err) || n != tt.wantN || string(b.body) != tt.want {
				t.Fatalf("appendBody = %d, %v; body %q; want %d, %v, %q", n, err, b.body, tt.wantN, tt.err, tt.want)
			}
		})
	}
}

func TestBufferedWriterReturnsOnlySmallBuffersToThePool(t *testing.T) {
	for _, tt := range []struct {
		name   string
		size   int
		pooled bool
	}{
		{"a document", 3 << 10, true},
		{"grown to the limit", 64 << 10, true},
		{"a large response", 1 << 20, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := &bufferedWriter{}
			_, _ = b.Write(make([]byte, tt.size))
			grown := cap(b.body)
			b.release()
			if b.body != nil {
				t.Fatal("release kept the body")
			}
			// sync.Pool may drop what it holds at any collection, so only
			// the large buffer's absence is certain.
			if !tt.pooled {
				for range 4 {
					if got := *bodies.Get().(*[]byte); cap(got) == grown {
						t.Fatalf("a %d-byte buffer went back to the pool", grown)
					}
				}
			}
		})
	}
}
