package httpapi

import (
	"errors"
	"net/http"
	"path"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/storage"
)

// authorizeBlob checks a local presigned URL and returns its object key.
func (s *Server) authorizeBlob(c echo.Context) (string, error) {
	key, _ := storage.KeyFromPath(c.Request().URL.Path)
	switch err := s.Local.Authorize(c.Request().Method, key, c.QueryParams()); {
	case errors.Is(err, storage.ErrURLExpired):
		return "", apperr.New(apperr.Forbidden, "URL_EXPIRED", "The link has expired; request a new one")
	case err != nil:
		return "", apperr.New(apperr.Forbidden, "SIGNATURE_INVALID", "The link's signature is invalid")
	}
	return key, nil
}

// downloadBlob serves an object of the local store through a presigned GET URL.
func (s *Server) downloadBlob(c echo.Context) error {
	key, err := s.authorizeBlob(c)
	if err != nil {
		return err
	}
	f, err := s.Local.Open(key)
	if errors.Is(err, storage.ErrNotFound) {
		return apperr.New(apperr.NotFound, "NOT_FOUND", "The requested file was not found")
	}
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/octet-stream")
	return s.transferDeadline(c, info.Size(), func(c echo.Context) error {
		http.ServeContent(c.Response(), c.Request(), path.Base(key), info.ModTime(), f)
		return nil
	})
}

// uploadBlob stores the body of a PUT to a presigned URL for the artifact
// waiting under its key. The length must be declared up front, as for S3.
func (s *Server) uploadBlob(c echo.Context) error {
	key, err := s.authorizeBlob(c)
	if err != nil {
		return err
	}
	size := c.Request().ContentLength
	if size < 0 {
		return apperr.AtHeader(apperr.Invalid, "CONTENT_LENGTH_REQUIRED", "Uploads need a Content-Length header", "Content-Length")
	}
	return s.transferDeadline(c, size, func(c echo.Context) error {
		if err := s.Artifacts.Receive(c.Request().Context(), s.Local, key, c.Request().Body, size); err != nil {
			return err
		}
		return c.NoContent(http.StatusOK)
	})
}
