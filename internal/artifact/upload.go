package artifact

import (
	"bytes"
	"context"
	"fmt"
	"hash"
	"io"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/storage"
)

// MaxVerifiedRead is the largest object the settling pass reads back from
// S3 to verify its checksum; a bigger one is settled on its size alone
// (S3 already refused a PUT of another size than the signed one).
const MaxVerifiedRead = 32 << 20

// errUploadUsed refuses a PUT for an artifact that no longer waits: an
// upload URL stores one upload, and a published artifact's bytes never
// change.
var errUploadUsed = apperr.New(apperr.Forbidden, "UPLOAD_URL_USED",
	"The artifact is not waiting for an upload: an upload URL is used once")

// errUploadIncomplete refuses a body shorter or longer than its Content-Length.
var errUploadIncomplete = apperr.New(apperr.Invalid, "UPLOAD_INCOMPLETE", "The upload did not match its Content-Length")

// Receive stores a PUT of size bytes to the local store under key for the
// artifact waiting there, as one step: refused when no artifact waits (the
// URL was used), when size is not the declared filesize or when the bytes
// do not match the declared checksum; a refusal is recorded on the
// artifact, which keeps waiting, and the stored object is never touched.
// Accepted bytes are put in place in the transaction that marks the
// artifact uploaded, so of two PUTs at once only one lands.
func (s *Service) Receive(ctx context.Context, local *storage.Local, key string, body io.Reader, size int64) error {
	a, err := s.store.WaitingByKey(ctx, key)
	if err != nil {
		return err
	}
	if a == nil {
		return errUploadUsed
	}
	if a.Filesize != nil && *a.Filesize != size {
		reason := fmt.Sprintf("an upload of %d bytes was refused: the declared filesize is %d", size, *a.Filesize)
		return s.refuse(ctx, a, reason, apperr.AtHeader(apperr.Invalid, "FILESIZE_MISMATCH", reason, "Content-Length"))
	}
	d, verifies := digestOf(a.Checksum)
	var h hash.Hash
	if verifies {
		h = d.hash()
		body = io.TeeReader(body, h)
	}
	received, err := local.Receive(key, body, size)
	if err != nil {
		return errUploadIncomplete
	}
	defer received.Discard()
	if verifies && !bytes.Equal(h.Sum(nil), d.sum) {
		reason := "an upload was refused: its " + d.name() + " does not match the declared checksum"
		return s.refuse(ctx, a, reason, apperr.New(apperr.Invalid, "CHECKSUM_MISMATCH", reason))
	}
	return s.events.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.Settle(ctx, a, ""); err != nil {
			return err
		}
		if a.Status != Uploaded {
			return errUploadUsed // another PUT landed first
		}
		if err := received.Commit(); err != nil {
			return err
		}
		return s.settled(ctx, a)
	})
}

// refuse records why an upload of a waiting artifact was refused and
// returns the refusal.
func (s *Service) refuse(ctx context.Context, a *Artifact, reason string, refusal error) error {
	if err := s.store.Refuse(ctx, a, reason); err != nil {
		return err
	}
	s.log.Warn("artifact upload refused", "account", a.AccountID, "artifact", a.ID, "reason", reason)
	return refusal
}

// verify tells why the stored object of a waiting artifact is not what was
// declared ("" when it is): its size, then (up to MaxVerifiedRead) its
// checksum.
func (s *Service) verify(ctx context.Context, a *Artifact, obj storage.Object) (string, error) {
	if a.Filesize != nil && *a.Filesize != obj.Size {
		return fmt.Sprintf("the stored object is %d bytes: the declared filesize is %d", obj.Size, *a.Filesize), nil
	}
	d, verifies := digestOf(a.Checksum)
	if !verifies || obj.Size > MaxVerifiedRead {
		return "", nil
	}
	data, err := s.storage.Read(ctx, obj.Key, MaxVerifiedRead)
	if err != nil {
		return "", err
	}
	h := d.hash()
	h.Write(data)
	if !bytes.Equal(h.Sum(nil), d.sum) {
		return "the stored object's " + d.name() + " does not match the declared checksum", nil
	}
	return "", nil
}
