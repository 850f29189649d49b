package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/checkout"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/policy"
)

// Check-out TTLs (seconds).
const (
	defaultCheckoutTTL = 2629746 // one month
	minCheckoutTTL     = 3600
)

// checkoutOptions are read from the query or from meta.
type checkoutOptions struct {
	encrypt  bool
	ttl      *int64 // nil: the file never expires
	includes []string
}

type checkoutMeta struct {
	Encrypt   optional.Value[bool]     `json:"encrypt"`
	TTL       optional.Value[*int64]   `json:"ttl"`
	Include   optional.Value[[]string] `json:"include"`
	Algorithm optional.Value[string]   `json:"algorithm"`
}

func checkoutError(code, detail, parameter string) error {
	return apperr.AtParameter(apperr.Invalid, code, detail, parameter)
}

// parseCheckout reads encrypt, ttl, include and algorithm; allowed lists
// the relationships the file may include.
func (s *Server) parseCheckout(c echo.Context, allowed []string, defaults []string) (checkoutOptions, error) {
	o := checkoutOptions{includes: defaults}
	ttl := int64(defaultCheckoutTTL)
	o.ttl = &ttl
	var m checkoutMeta
	if c.Request().Method == http.MethodPost {
		req, err := s.decode(c, document.Resource{Singular: "license-file", Plural: "license-files"}, false)
		if err != nil {
			return o, err
		}
		if err := req.DecodeMeta(&m); err != nil {
			return o, err
		}
	}
	q := c.QueryParams()
	if v, ok := q["encrypt"]; ok {
		b, err := strconv.ParseBool(v[0])
		if err != nil {
			return o, checkoutError("PARAMETERS_INVALID", "encrypt must be true or false", "encrypt")
		}
		m.Encrypt = optional.Of(b)
	}
	if v, ok := q["ttl"]; ok {
		if v[0] == "" || v[0] == "null" {
			m.TTL = optional.Of[*int64](nil)
		} else {
			n, err := strconv.ParseInt(v[0], 10, 64)
			if err != nil {
				return o, checkoutError("CHECKOUT_TTL_INVALID", "ttl must be a number of seconds or null", "ttl")
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
	o.encrypt = m.Encrypt.V
	if m.TTL.Set {
		if o.ttl = m.TTL.V; o.ttl != nil && *o.ttl < minCheckoutTTL {
			return o, checkoutError("CHECKOUT_TTL_INVALID", "ttl must be greater than or equal to 3600 (1 hour)", "ttl")
		}
	}
	if m.Include.Set {
		o.includes = nil
		for _, inc := range m.Include.V {
			if inc = strings.TrimSpace(inc); inc == "" {
				continue
			}
			if !slices.Contains(allowed, inc) {
				return o, checkoutError("CHECKOUT_INCLUDE_INVALID", "unsupported include "+strconv.Quote(inc)+" (supported: "+strings.Join(allowed, ", ")+")", "include")
			}
			o.includes = append(o.includes, inc)
		}
	}
	if m.Algorithm.Set {
		want := checkout.AlgorithmBase64
		if o.encrypt {
			want = checkout.AlgorithmEncrypted
		}
		if m.Algorithm.V != want && m.Algorithm.V != strings.TrimSuffix(want, "+ed25519") {
			return o, checkoutError("CHECKOUT_ALGORITHM_INVALID", "unsupported algorithm (supported: base64+ed25519, aes-256-gcm+ed25519)", "algorithm")
		}
	}
	return o, nil
}

// renderCheckout signs the dataset and answers with the file resource
// (POST) or the raw certificate as a download (GET).
func (s *Server) renderCheckout(c echo.Context, kind checkout.Kind, subject *jsonapi.Node, included []*jsonapi.Node, o checkoutOptions, secret string, rels map[string]any) error {
	t := tenantOf(c)
	issued := time.Now().UTC().Truncate(time.Millisecond)
	meta := map[string]any{"issued": document.Time(issued), "expiry": nil, "ttl": nil}
	var expiry *time.Time
	if o.ttl != nil {
		at := issued.Add(time.Duration(*o.ttl) * time.Second)
		expiry = &at
		meta["expiry"], meta["ttl"] = document.Time(at), *o.ttl
	}
	if included == nil {
		included = []*jsonapi.Node{}
	}
	dataset, err := json.Marshal(map[string]any{"data": subject, "included": included, "meta": meta})
	if err != nil {
		return err
	}
	certificate, algorithm, err := checkout.Certificate(kind, dataset, o.encrypt, secret, t.Keys.Signing)
	if err != nil {
		return err
	}
	if c.Request().Method == http.MethodGet {
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, "application/octet-stream")
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+subject.ID+`.lic"`)
		c.Response().WriteHeader(http.StatusOK)
		_, err := c.Response().Write([]byte(certificate))
		return err
	}
	var ttl any
	if o.ttl != nil {
		ttl = *o.ttl
	}
	includes := o.includes
	if includes == nil {
		includes = []string{}
	}
	fileID := id.New()
	typ := string(kind) + "-files"
	return s.render(c, http.StatusOK, &jsonapi.OnePayload{Data: &jsonapi.Node{
		Type: typ,
		ID:   fileID,
		Attributes: map[string]any{
			"certificate": certificate,
			"algorithm":   algorithm,
			"includes":    includes,
			"ttl":         ttl,
			"expiry":      document.OptionalTime(expiry),
			"issued":      document.Time(issued),
		},
		Relationships: rels,
	}})
}

var (
	licenseIncludes = []string{"entitlements", "product", "policy", "owner"}
	machineIncludes = []string{"license", "license.entitlements", "license.product", "license.policy", "license.owner", "components"}
)

// checkOutLicense is POST|GET /licenses/:id/actions/check-out.
func (s *Server) checkOutLicense(c echo.Context) error {
	ctx, who := c.Request().Context(), principalOf(c)
	if who == nil {
		return access.ErrTokenMissing
	}
	l, pol, err := s.Licenses.Visible(ctx, who, tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	if err := who.Require("license.check-out"); err != nil {
		return err
	}
	o, err := s.parseCheckout(c, licenseIncludes, nil)
	if err != nil {
		return err
	}
	if err := s.Licenses.CheckedOut(ctx, l); err != nil {
		return err
	}
	included, err := s.licenseIncluded(c, l, pol, o.includes, "")
	if err != nil {
		return err
	}
	base := document.AccountPath(l.AccountID)
	lr := s.licenseRenderer(ctx)
	lr.policies[pol.ID] = pol
	subject, err := lr.node(l)
	if err != nil {
		return err
	}
	return s.renderCheckout(c, checkout.License, subject, included, o, l.Key, map[string]any{
		"account": document.ToOne("accounts", l.AccountID, base),
		"license": document.ToOne("licenses", l.ID, base+"/licenses/"+l.ID),
	})
}

// licenseIncluded renders what a file includes about a license; prefix is
// "license." for machine files.
func (s *Server) licenseIncluded(c echo.Context, l *license.License, pol *policy.Policy, includes []string, prefix string) ([]*jsonapi.Node, error) {
	ctx := c.Request().Context()
	var nodes []*jsonapi.Node
	for _, inc := range includes {
		switch strings.TrimPrefix(inc, prefix) {
		case "product":
			p, err := s.Products.Bearer(ctx, l.AccountID, l.ProductID)
			if err != nil {
				return nil, err
			}
			nodes = append(nodes, productNode(p))
		case "policy":
			nodes = append(nodes, policyNode(pol))
		case "owner":
			if l.OwnerID != nil {
				u, err := s.Users.Bearer(ctx, l.AccountID, *l.OwnerID)
				if err != nil {
					return nil, err
				}
				nodes = append(nodes, userNode(u))
			}
		case "entitlements":
			items, err := s.Entitlements.Of(ctx, l.AccountID, l.ID, l.PolicyID)
			if err != nil {
				return nil, err
			}
			nodes = append(nodes, nodesOf(items, entitlementNode)...)
		}
	}
	return nodes, nil
}

// checkOutMachine is POST|GET /machines/:id/actions/check-out.
func (s *Server) checkOutMachine(c echo.Context) error {
	ctx, who := c.Request().Context(), principalOf(c)
	if who == nil {
		return access.ErrTokenMissing
	}
	m, err := s.Machines.Visible(ctx, who, pathRef(c))
	if err != nil {
		return err
	}
	if err := who.Require("machine.check-out"); err != nil {
		return err
	}
	l, pol, err := s.Licenses.Visible(ctx, who, tenantOf(c), m.LicenseID)
	if err != nil {
		return err
	}
	o, err := s.parseCheckout(c, machineIncludes, nil)
	if err != nil {
		return err
	}
	var included []*jsonapi.Node
	if slices.Contains(o.includes, "license") {
		lr := s.licenseRenderer(ctx)
		lr.policies[pol.ID] = pol
		node, err := lr.node(l)
		if err != nil {
			return err
		}
		included = append(included, node)
	}
	more, err := s.licenseIncluded(c, l, pol, o.includes, "license.")
	if err != nil {
		return err
	}
	included = append(included, more...)
	if slices.Contains(o.includes, "components") {
		components, err := s.Machines.Components(ctx, who, m.ID)
		if err != nil {
			return err
		}
		for i := range components {
			included = append(included, componentNode(&components[i]))
		}
	}
	base := document.AccountPath(m.AccountID)
	return s.renderCheckout(c, checkout.Machine, machineNode(m, pol), included, o, l.Key+m.Fingerprint, map[string]any{
		"account": document.ToOne("accounts", m.AccountID, base),
		"machine": document.ToOne("machines", m.ID, base+"/machines/"+m.ID),
		"license": document.ToOne("licenses", l.ID, base+"/licenses/"+l.ID),
	})
}
