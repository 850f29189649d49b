package httpapi

import (
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/apperr"

	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/token"
	"github.com/relkey/relkey/internal/user"
)

// licenseFilter reads the filters of Keygen's licenses index (its
// has_scope list): ids, status, metadata[…], the boolean scopes and
// activations[…]. A value of the wrong shape is a 400 on its parameter.
func licenseFilter(q url.Values) (license.Filter, error) {
	var f license.Filter
	ids, err := document.IDFilters(q, "product", "policy", "owner", "user", "machine", "group")
	if err != nil {
		return f, err
	}
	f.ProductID, f.PolicyID, f.OwnerID, f.UserID, f.MachineID, f.GroupID = ids["product"], ids["policy"], ids["owner"], ids["user"], ids["machine"], ids["group"]
	if f.Status, err = document.PlainFilter(q, "status"); err != nil {
		return f, err
	}
	if f.Metadata, err = document.MetadataFilter(q); err != nil {
		return f, err
	}
	unassigned, err := document.BoolFilter(q, "unassigned")
	if err != nil {
		return f, err
	}
	flags := []struct {
		name string
		into **bool
	}{{"suspended", &f.Suspended}, {"expiring", &f.Expiring}, {"expired", &f.Expired}, {"assigned", &f.Assigned}, {"activated", &f.Activated}}
	for _, b := range flags {
		if b.name == "expired" && !q.Has("expired") {
			continue // expired[…] is a window, as expires[…] (Keygen's type: :any)
		}
		if *b.into, err = document.BoolFilter(q, b.name); err != nil {
			return f, err
		}
	}
	windowKeys := []string{"within", "in", "before", "after", "on"}
	if !q.Has("expired") {
		if f.ExpiredWithin, err = document.WindowFilter(q, "expired", windowKeys...); err != nil {
			return f, err
		}
	}
	if f.Expires, err = document.WindowFilter(q, "expires", windowKeys...); err != nil {
		return f, err
	}
	if f.Activity, err = document.WindowFilter(q, "activity", "inside", "outside", "before", "after"); err != nil {
		return f, err
	}
	if unassigned != nil && f.Assigned == nil {
		assigned := !*unassigned
		f.Assigned = &assigned
	}
	activations, err := document.ComparisonFilter(q, "activations")
	if err != nil || activations == nil {
		return f, err
	}
	f.Activations = &license.Comparison{Op: activations.Op, N: activations.N}
	return f, nil
}

// machineFilter reads the filters of Keygen's machines index: ids,
// fingerprint, ip, hostname and metadata[…].
func machineFilter(q url.Values) (machine.Filter, error) {
	var f machine.Filter
	ids, err := document.IDFilters(q, "license", "product", "policy", "owner", "user", "group")
	if err != nil {
		return f, err
	}
	f.LicenseID, f.ProductID, f.PolicyID, f.OwnerID, f.UserID, f.GroupID = ids["license"], ids["product"], ids["policy"], ids["owner"], ids["user"], ids["group"]
	for _, p := range []struct {
		name string
		into *string
	}{{"fingerprint", &f.Fingerprint}, {"ip", &f.IP}, {"hostname", &f.Hostname}, {"key", &f.LicenseKey}} {
		if *p.into, err = document.PlainFilter(q, p.name); err != nil {
			return f, err
		}
	}
	if f.Status, err = document.PlainFilter(q, "status"); err != nil {
		return f, err
	}
	f.Metadata, err = document.MetadataFilter(q)
	return f, err
}

// partFilter reads the filters of Keygen's components and processes
// indexes: product, machine, license, owner and user ids.
func partFilter(q url.Values) (machine.PartFilter, error) {
	ids, err := document.IDFilters(q, "product", "machine", "license", "owner", "user")
	return machine.PartFilter{ProductID: ids["product"], MachineID: ids["machine"], LicenseID: ids["license"], OwnerID: ids["owner"], UserID: ids["user"]}, err
}

// processFilter reads the filters of Keygen's processes index: partFilter's
// and status (ALIVE or DEAD).
func processFilter(q url.Values) (machine.PartFilter, error) {
	f, err := partFilter(q)
	if err != nil {
		return f, err
	}
	f.Status, err = document.PlainFilter(q, "status")
	return f, err
}

// userFilter reads the filters of Keygen's users index: roles[], product,
// license, metadata[…] and assigned.
func userFilter(q url.Values) (user.Filter, error) {
	var f user.Filter
	for _, r := range q["roles[]"] {
		f.Roles = append(f.Roles, user.Role(r))
	}
	ids, err := document.IDFilters(q, "product", "license", "group")
	if err != nil {
		return f, err
	}
	f.ProductID, f.LicenseID, f.GroupID = ids["product"], ids["license"], ids["group"]
	if f.Metadata, err = document.MetadataFilter(q); err != nil {
		return f, err
	}
	if f.Assigned, err = document.BoolFilter(q, "assigned"); err != nil {
		return f, err
	}
	// Keygen's users index takes active as another name of assigned.
	active, err := document.BoolFilter(q, "active")
	if err != nil {
		return f, err
	}
	if f.Assigned == nil {
		f.Assigned = active
	}
	f.Status, err = document.PlainFilter(q, "status")
	return f, err
}

// tokenFilter reads the bearer[type] and bearer[id] filter of Keygen's
// tokens index; a type is matched as relkey stores bearer types ("user",
// "users" and "User" all name users).
func tokenFilter(q url.Values) (token.Filter, error) {
	var f token.Filter
	bearer, err := document.HashFilter(q, "bearer", "type", "id", "role")
	if err != nil || bearer == nil {
		return f, err
	}
	if typ := strings.ToLower(strings.TrimSpace(bearer["type"])); typ != "" {
		f.BearerType = strings.TrimSuffix(typ, "s") + "s"
	}
	if id := bearer["id"]; id != "" {
		if uuid.Validate(id) != nil {
			return f, apperr.AtParameter(apperr.Invalid, document.CodeParametersInvalid, "bearer[id] must be an id", "bearer[id]")
		}
		f.BearerID = id
	}
	// Keygen's role names are snake_case (sales_agent), relkey's kebab.
	f.BearerRole = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(bearer["role"])), "_", "-")
	return f, nil
}
