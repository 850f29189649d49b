package storage

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/relkey/relkey/internal/config"
)

// S3 is an S3-compatible store (AWS S3, MinIO, R2...).
type S3 struct {
	client *minio.Client
	bucket string
	region string
}

// NewS3 creates the client. The region is always set, so presigning needs no
// bucket-location request and keeps working while S3 is unreachable.
func NewS3(cfg *config.S3) (*S3, error) {
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.Secure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return &S3{client: client, bucket: cfg.Bucket, region: cfg.Region}, nil
}

// EnsureBucket creates the bucket when it does not exist.
func (s *S3) EnsureBucket(ctx context.Context) error {
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("storage: bucket %q: %w", s.bucket, err)
	}
	if exists {
		return nil
	}
	if err := s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: s.region}); err != nil {
		return fmt.Errorf("storage: create bucket %q: %w", s.bucket, err)
	}
	return nil
}

// PresignPut signs a Length in as the request's Content-Length: S3
// refuses a PUT of another length as a signature mismatch.
func (s *S3) PresignPut(ctx context.Context, key string, expiry time.Duration, length ...Length) (*url.URL, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if err := validateExpiry(expiry); err != nil {
		return nil, err
	}
	var signed http.Header
	for _, n := range length {
		signed = http.Header{"Content-Length": {strconv.FormatInt(int64(n), 10)}}
	}
	return s.client.PresignHeader(ctx, http.MethodPut, s.bucket, key, expiry, nil, signed)
}

func (s *S3) PresignGet(ctx context.Context, key string, expiry time.Duration) (*url.URL, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if err := validateExpiry(expiry); err != nil {
		return nil, err
	}
	return s.client.PresignedGetObject(ctx, s.bucket, key, expiry, nil)
}

func (s *S3) Stat(ctx context.Context, key string) (Object, error) {
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		if resp := minio.ToErrorResponse(err); resp.Code == minio.NoSuchKey || resp.StatusCode == 404 {
			return Object{}, ErrNotFound
		}
		return Object{}, fmt.Errorf("storage: stat %q: %w", key, err)
	}
	return Object{Key: key, Size: info.Size}, nil
}

func (s *S3) Read(ctx context.Context, key string, limit int64) ([]byte, error) {
	obj, err := s.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	if obj.Size > limit {
		return nil, fmt.Errorf("%w: %q is %d bytes, over %d", ErrTooLarge, key, obj.Size, limit)
	}
	body, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("storage: get %q: %w", key, err)
	}
	defer body.Close()
	return readAll(key, body, limit)
}

func (s *S3) Copy(ctx context.Context, from, to string) error {
	if err := ValidateKey(to); err != nil {
		return err
	}
	_, err := s.client.CopyObject(ctx, minio.CopyDestOptions{Bucket: s.bucket, Object: to}, minio.CopySrcOptions{Bucket: s.bucket, Object: from})
	if resp := minio.ToErrorResponse(err); err != nil && (resp.Code == minio.NoSuchKey || resp.StatusCode == 404) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("storage: copy %q to %q: %w", from, to, err)
	}
	return nil
}

func (s *S3) Delete(ctx context.Context, key string) error {
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("storage: delete %q: %w", key, err)
	}
	return nil
}
