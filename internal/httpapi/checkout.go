package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/checkout"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/httpsig"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/serializer"
)

var licenseFileResource = document.Resource{Singular: "license-file", Plural: "license-files"}

type checkoutMeta struct {
	Encrypt   optional.Value[bool]     `json:"encrypt"`
	TTL       optional.Value[*int64]   `json:"ttl"`
	Include   optional.Value[[]string] `json:"include"`
	Algorithm optional.Value[string]   `json:"algorithm"`
}

// checkoutRequest reads encrypt, ttl, include and algorithm from the query,
// or from meta on POST.
func (s *Server) checkoutRequest(c echo.Context) (checkout.Request, error) {
	var m checkoutMeta
	if c.Request().Method == http.MethodPost {
		var err error
		if m, err = meta[checkoutMeta](s, c, licenseFileResource); err != nil {
			return checkout.Request{}, err
		}
	}
	q := c.QueryParams()
	if v, ok := q["encrypt"]; ok {
		b, err := strconv.ParseBool(v[0])
		if err != nil {
			return checkout.Request{}, apperr.AtParameter(apperr.Invalid, "PARAMETERS_INVALID", "encrypt must be true or false", "encrypt")
		}
		m.Encrypt = optional.Of(b)
	}
	if v, ok := q["ttl"]; ok {
		if v[0] == "" || v[0] == "null" {
			m.TTL = optional.Of[*int64](nil)
		} else {
			n, err := strconv.ParseInt(v[0], 10, 64)
			if err != nil {
				return checkout.Request{}, apperr.AtParameter(apperr.Invalid, "CHECKOUT_TTL_INVALID", "ttl must be a number of seconds or null", "ttl")
			}
			m.TTL = optional.Of(&n)
		}
	}
	if v := q.Get("include"); v != "" {
		m.Include = optional.Of(strings.Split(v, ","))
	} else if v, ok := q["include[]"]; ok {
		m.Include = optional.Of(v)
	}
	if v := q.Get("algorithm"); v != "" {
		m.Algorithm = optional.Of(v)
	}
	return checkout.Request{Encrypt: m.Encrypt, TTL: m.TTL, Include: m.Include, Algorithm: m.Algorithm}, nil
}

// checkOutLicense is POST|GET /licenses/:id/actions/check-out.
func (s *Server) checkOutLicense(c echo.Context) error {
	req, err := s.checkoutRequest(c)
	if err != nil {
		return err
	}
	f, err := s.Checkouts.CheckOutLicense(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), req)
	if err != nil {
		return err
	}
	s.recordCheckOut(c, f)
	return s.renderFile(c, f)
}

// checkOutMachine is POST|GET /machines/:id/actions/check-out.
func (s *Server) checkOutMachine(c echo.Context) error {
	req, err := s.checkoutRequest(c)
	if err != nil {
		return err
	}
	f, err := s.Checkouts.CheckOutMachine(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), req)
	if err != nil {
		return err
	}
	s.recordCheckOut(c, f)
	return s.renderFile(c, f)
}

// fileDataset is the JSON:API document a file certifies: its subject and
// what it includes, in the order of the includes.
func (s *Server) fileDataset(c echo.Context, f *checkout.File) ([]byte, error) {
	shown, err := s.showLicenses(c, f.Policy, f.License)
	if err != nil {
		return nil, err
	}
	licenseNode := serializer.License(&shown[0])
	subject := licenseNode
	included := []*jsonapi.Node{}
	prefix := ""
	if f.Kind == checkout.Machine {
		subject, prefix = serializer.Machine(f.Machine, f.Policy), "license."
		if f.Included("license") {
			included = append(included, licenseNode)
		}
	}
	for _, inc := range f.Includes {
		switch strings.TrimPrefix(inc, prefix) {
		case "product":
			included = append(included, serializer.Product(f.Product))
		case "policy":
			included = append(included, serializer.Policy(f.Policy))
		case "owner":
			if f.Owner != nil {
				included = append(included, serializer.User(f.Owner))
			}
		case "entitlements":
			included = append(included, nodesOf(f.Entitlements, serializer.Entitlement)...)
		}
	}
	if f.Included("components") {
		included = append(included, nodesOf(f.Components, serializer.Component)...)
	}
	meta := map[string]any{"issued": document.Time(f.Issued), "expiry": nil, "ttl": nil}
	if f.TTL != nil {
		meta["expiry"], meta["ttl"] = document.Time(*f.Expiry), *f.TTL
	}
	return json.Marshal(map[string]any{"data": subject, "included": included, "meta": meta})
}

// renderFile signs the file's dataset and answers with the file resource
// (POST) or the raw certificate as a download (GET).
func (s *Server) renderFile(c echo.Context, f *checkout.File) error {
	dataset, err := s.fileDataset(c, f)
	if err != nil {
		return err
	}
	t := tenantOf(c)
	certificate, algorithm, err := checkout.Certificate(f.Kind, dataset, f.Encrypt, f.Secret, f.Signing, func(message []byte) ([]byte, error) {
		key, err := signingKey(c.Request().Context(), s.Accounts, t, f.Signing)
		if err != nil {
			return nil, err
		}
		return httpsig.Sign(f.Signing, key, message)
	})
	if err != nil {
		return err
	}
	subjectID := f.License.ID
	if f.Machine != nil {
		subjectID = f.Machine.ID
	}
	if c.Request().Method == http.MethodGet {
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, "application/octet-stream")
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+subjectID+`.lic"`)
		c.Response().WriteHeader(http.StatusOK)
		_, err := c.Response().Write([]byte(certificate))
		return err
	}
	var ttl any
	if f.TTL != nil {
		ttl = *f.TTL
	}
	base := document.AccountPath(f.License.AccountID)
	rels := map[string]any{
		"account": document.ToOne("accounts", f.License.AccountID, base),
		"license": document.ToOne("licenses", f.License.ID, base+"/licenses/"+f.License.ID),
	}
	if f.Machine != nil {
		rels["machine"] = document.ToOne("machines", f.Machine.ID, base+"/machines/"+f.Machine.ID)
	}
	return s.render(c, http.StatusOK, &jsonapi.OnePayload{Data: &jsonapi.Node{
		Type: string(f.Kind) + "-files",
		ID:   id.New(),
		Attributes: map[string]any{
			"certificate": certificate,
			"algorithm":   algorithm,
			"includes":    f.Includes,
			"ttl":         ttl,
			"expiry":      document.OptionalTime(f.Expiry),
			"issued":      document.Time(f.Issued),
		},
		Relationships: rels,
	}})
}
