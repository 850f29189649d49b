package httpapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/google/jsonapi"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/entitlement"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/releasepackage"
	"github.com/relkey/relkey/internal/serializer"
	"github.com/relkey/relkey/internal/user"
)

// relationshipRoutes registers Keygen's relationship routes
// (/<parent>/:id/<related>[/:related_id]): each first finds the parent as
// the bearer may see it (404 otherwise), then lists or shows the related
// records the bearer may see among the parent's.
func (s *Server) relationshipRoutes(g *echo.Group) {
	g.GET("/profile", s.me)
	g.GET("/products/:id/policies", s.withParent(s.productID, s.listPoliciesOf))
	g.GET("/products/:id/policies/:related", s.related("product", s.productID, s.findPolicy))
	g.GET("/products/:id/licenses", s.withParent(s.productID, s.licensesWhere(func(id string) license.Filter { return license.Filter{ProductID: id} })))
	g.GET("/products/:id/licenses/:related", s.related("product", s.productID, s.findLicense))
	g.GET("/products/:id/machines", s.withParent(s.productID, s.machinesWhere(func(id string) machine.Filter { return machine.Filter{ProductID: id} })))
	g.GET("/products/:id/machines/:related", s.related("product", s.productID, s.findMachine))
	g.GET("/products/:id/releases", s.withParent(s.productID, s.releasesOfProduct))
	g.GET("/products/:id/releases/:related", s.related("product", s.productID, s.findRelease))
	g.GET("/products/:id/packages", s.withParent(s.productID, s.packagesOfProduct))
	g.GET("/products/:id/packages/:related", s.related("product", s.productID, s.findPackage))
	g.GET("/products/:id/tokens/:related", s.related("product", s.productID, s.findToken))
	g.GET("/users/:id/tokens/:related", s.related("user", s.userID, s.findToken))
	g.GET("/licenses/:id/tokens/:related", s.related("license", idOf(s.pathLicense, func(l *license.License) string { return l.ID }), s.findToken))
	g.GET("/products/:id/users", s.withParent(s.productID, s.usersOfProduct))
	g.GET("/products/:id/artifacts", s.withParent(s.productID, s.artifactsOfProduct))
	g.GET("/products/:id/artifacts/:related", s.related("product", s.productID, s.findArtifact))

	g.GET("/users/:id/licenses", s.withParent(s.userID, s.licensesWhere(func(id string) license.Filter { return license.Filter{UserID: id} })))
	g.GET("/users/:id/machines", s.withParent(s.userID, s.machinesWhere(func(id string) machine.Filter { return machine.Filter{UserID: id} })))
	g.GET("/users/:id/products", s.withParent(s.userID, s.productsOfUser))
	g.GET("/users/:id/licenses/:related", s.related("user", s.userID, s.findLicense))

	g.GET("/policies/:id/licenses", s.withParent(idOf(s.pathPolicy, func(p *policy.Policy) string { return p.ID }), s.licensesWhere(func(id string) license.Filter { return license.Filter{PolicyID: id} })))
	g.GET("/policies/:id/licenses/:related", s.related("policy", idOf(s.pathPolicy, func(p *policy.Policy) string { return p.ID }), s.findLicense))
	g.GET("/policies/:id/product", toOne(s.pathPolicy, func(c echo.Context, p *policy.Policy) error { return s.renderProduct(c, p.ProductID) }))

	g.GET("/licenses/:id/product", toOne(s.pathLicense, func(c echo.Context, l *license.License) error { return s.renderProduct(c, l.ProductID) }))
	g.GET("/licenses/:id/user", s.showLicenseOwner)
	g.PUT("/licenses/:id/owner", s.changeLicenseOwner)
	g.PUT("/licenses/:id/user", s.changeLicenseOwner)
	g.GET("/licenses/:id/machines/:related", s.related("license", idOf(s.pathLicense, func(l *license.License) string { return l.ID }), s.findMachine))

	g.GET("/machines/:id/license", toOne(s.pathMachine, func(c echo.Context, m *machine.Machine) error { return s.renderLicense(c, http.StatusOK, m.LicenseID) }))
	g.GET("/machines/:id/product", toOne(s.pathMachine, func(c echo.Context, m *machine.Machine) error { return s.renderProduct(c, m.ProductID) }))
	g.GET("/machines/:id/user", s.showMachineOwner)
	g.GET("/machines/:id/processes/:related", s.related("machine", idOf(s.pathMachine, func(m *machine.Machine) string { return m.ID }), s.findProcess))

	g.GET("/machines/:id/components/:related", s.related("machine", idOf(s.pathMachine, func(m *machine.Machine) string { return m.ID }), s.findComponent))
	g.GET("/components", s.listComponents)
	g.GET("/components/:id", s.showComponent)
	g.GET("/components/:id/machine", toOne(s.visibleComponent, func(c echo.Context, p *machine.Component) error { return s.renderMachine(c, p.MachineID) }))
	g.GET("/components/:id/license", toOne(s.visibleComponent, func(c echo.Context, p *machine.Component) error {
		return s.renderLicense(c, http.StatusOK, p.LicenseID)
	}))
	g.GET("/components/:id/product", toOne(s.visibleComponent, func(c echo.Context, p *machine.Component) error { return s.renderProduct(c, p.ProductID) }))
	g.GET("/processes", s.listProcesses)
	g.GET("/processes/:id/machine", toOne(s.visibleProcess, func(c echo.Context, p *machine.Process) error { return s.renderMachine(c, p.MachineID) }))
	g.GET("/processes/:id/license", toOne(s.visibleProcess, func(c echo.Context, p *machine.Process) error { return s.renderLicense(c, http.StatusOK, p.LicenseID) }))
	g.GET("/processes/:id/product", toOne(s.visibleProcess, func(c echo.Context, p *machine.Process) error { return s.renderProduct(c, p.ProductID) }))

	g.GET("/releases/:id/product", toOne(s.pathRelease, func(c echo.Context, r *release.Release) error { return s.renderProduct(c, r.ProductID) }))
	g.GET("/releases/:id/artifacts", s.withParent(idOf(s.pathRelease, func(r *release.Release) string { return r.ID }), s.artifactsOfRelease))

	g.GET("/artifacts/:id/release", s.artifactRelease)

	g.GET("/users/:id/products/:related", s.withParent(s.userID, func(c echo.Context, userID string) error {
		return oneOf(s, c, "product", func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]product.Product, int64, error) {
			return s.Products.OfUser(ctx, who, t, userID, p)
		}, serializer.Product)
	}))
	g.GET("/users/:id/machines/:related", s.withParent(s.userID, func(c echo.Context, userID string) error {
		return oneOf(s, c, "machine", func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]machine.WithPolicy[machine.Machine], int64, error) {
			return s.Machines.List(ctx, who, t, machine.Filter{UserID: userID}, p)
		}, machineNode)
	}))
	g.GET("/products/:id/users/:related", s.withParent(s.productID, func(c echo.Context, productID string) error {
		return oneOf(s, c, "user", func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]user.User, int64, error) {
			return s.Users.OfProduct(ctx, who, t, productID, p)
		}, serializer.User)
	}))
	g.GET("/licenses/:id/users/:related", func(c echo.Context) error {
		return oneOf(s, c, "user", func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]user.User, int64, error) {
			return s.Licenses.Users(ctx, who, t, pathRef(c), p)
		}, serializer.User)
	})
	g.GET("/licenses/:id/entitlements/:related", s.attachedOne(entitlement.OnLicense))
	g.GET("/policies/:id/entitlements/:related", s.attachedOne(entitlement.OnPolicy))
	g.GET("/releases/:id/entitlements/:related", s.attachedOne(entitlement.OnRelease))
	g.GET("/releases/:id/constraints/:related", func(c echo.Context) error {
		return oneOf(s, c, "constraint", func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]entitlement.Attachment, int64, error) {
			return s.Entitlements.Constraints(ctx, who, t, attachedRef(c), p)
		}, serializer.Attachment(entitlement.OnRelease))
	})

	// Keygen's to-one relationship routes take PATCH as PUT.
	g.PATCH("/licenses/:id/policy", s.transferLicense)
	g.PATCH("/licenses/:id/owner", s.changeLicenseOwner)
	g.PATCH("/licenses/:id/user", s.changeLicenseOwner)
	g.PATCH("/releases/:id/package", s.changeReleasePackage)
	g.PUT("/machines/:id/owner", s.changeMachineOwner)
	g.PATCH("/machines/:id/owner", s.changeMachineOwner)
}

// changeMachineOwner is PUT (or PATCH) /machines/:id/owner with a user
// identifier, one of the license's users, or data null; like Keygen, it
// answers with the machine.
func (s *Server) changeMachineOwner(c echo.Context) error {
	ref, err := s.identifier(c, userResource, true)
	if err != nil {
		return err
	}
	m, pol, err := s.Machines.ChangeOwner(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), ref)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Machine(m, pol), nil)
}

// oneOf is GET /<parent>/:id/<related>/:related of a to-many relationship
// whose records list reads: the record of that id when it is among them
// (as the bearer may see them), else 404 on resource.
func oneOf[T any](s *Server, c echo.Context, resource string, list func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]T, int64, error),
	node func(*T) *jsonapi.Node) error {
	ref := relatedRef(c)
	if uuid.Validate(ref) != nil || len(ref) != 36 {
		return apperr.NotFoundResource(resource, ref)
	}
	items, _, err := list(c.Request().Context(), principalOf(c), tenantOf(c), page.Request{Limit: 1, Only: ref})
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return apperr.NotFoundResource(resource, ref)
	}
	return s.renderOne(c, http.StatusOK, node(&items[0]), nil)
}

// attachedOne is GET /<policies|licenses|releases>/:id/entitlements/:related:
// one of the entitlements listAttached lists.
func (s *Server) attachedOne(on entitlement.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		return oneOf(s, c, "entitlement", func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]entitlement.Entitlement, int64, error) {
			return s.Entitlements.Attached(ctx, who, t, on, attachedRef(c), p)
		}, serializer.Entitlement)
	}
}

// parentOf resolves the path's parent to its id, as the bearer may see it.
type parentOf func(c echo.Context) (string, error)

// childFinder finds a related record as the bearer may see it, returning
// the id of its parent of the route's kind (under: product, user, policy,
// license, machine or release) and its document.
type childFinder func(c echo.Context, ref, under string) (parent string, node *jsonapi.Node, err error)

func (s *Server) withParent(parent parentOf, list func(c echo.Context, parentID string) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := parent(c)
		if err != nil {
			return err
		}
		return list(c, id)
	}
}

// related is GET /<parent>/:id/<related>/:related: the related record
// when it belongs to the parent (of kind under), else 404.
func (s *Server) related(under string, parent parentOf, find childFinder) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := parent(c)
		if err != nil {
			return err
		}
		ref := relatedRef(c)
		owner, node, err := find(c, ref, under)
		if err != nil {
			return err
		}
		if owner != id {
			return apperr.NotFoundResource(node.Type, ref)
		}
		return s.renderOne(c, http.StatusOK, node, nil)
	}
}

func relatedRef(c echo.Context) string {
	ref, err := url.PathUnescape(c.Param("related"))
	if err != nil {
		return c.Param("related")
	}
	return ref
}

func (s *Server) productID(c echo.Context) (string, error) {
	p, err := s.Products.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return "", err
	}
	return p.ID, nil
}

func (s *Server) userID(c echo.Context) (string, error) {
	return s.Users.VisibleID(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
}

// The records the path's :id names, as the bearer may see them.

func (s *Server) pathPolicy(c echo.Context) (*policy.Policy, error) {
	return s.Policies.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
}

func (s *Server) pathLicense(c echo.Context) (*license.License, error) {
	return s.Licenses.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
}

func (s *Server) pathMachine(c echo.Context) (*machine.Machine, error) {
	return s.Machines.Visible(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
}

func (s *Server) pathRelease(c echo.Context) (*release.Release, error) {
	return s.Releases.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), releaseNarrowing(c))
}

// idOf turns a finder of the path's record into a parentOf.
func idOf[T any](find func(echo.Context) (*T, error), id func(*T) string) parentOf {
	return func(c echo.Context) (string, error) {
		v, err := find(c)
		if err != nil {
			return "", err
		}
		return id(v), nil
	}
}

// toOne is GET /<parent>/:id/<related> of a to-one relationship: the
// parent as the bearer may see it, then the related record render reads
// from it.
func toOne[T any](find func(echo.Context) (*T, error), render func(echo.Context, *T) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		parent, err := find(c)
		if err != nil {
			return err
		}
		return render(c, parent)
	}
}

func (s *Server) findPolicy(c echo.Context, ref, _ string) (string, *jsonapi.Node, error) {
	pol, err := s.Policies.Find(c.Request().Context(), principalOf(c), tenantOf(c), ref)
	if err != nil {
		return "", nil, err
	}
	return pol.ProductID, serializer.Policy(pol), nil
}

func (s *Server) findLicense(c echo.Context, ref, under string) (string, *jsonapi.Node, error) {
	l, err := s.Licenses.Find(c.Request().Context(), principalOf(c), tenantOf(c), ref)
	if err != nil {
		return "", nil, err
	}
	shown, err := s.showLicenses(c, nil, l)
	if err != nil {
		return "", nil, err
	}
	node := serializer.License(&shown[0])
	switch under {
	case "product":
		return l.ProductID, node, nil
	case "user":
		if l.OwnerID == nil {
			return "", node, nil
		}
		return *l.OwnerID, node, nil
	}
	return l.PolicyID, node, nil
}

func (s *Server) findMachine(c echo.Context, ref, under string) (string, *jsonapi.Node, error) {
	m, pol, err := s.Machines.Find(c.Request().Context(), principalOf(c), tenantOf(c), ref)
	if err != nil {
		return "", nil, err
	}
	if under == "product" {
		return m.ProductID, serializer.Machine(m, pol), nil
	}
	return m.LicenseID, serializer.Machine(m, pol), nil
}

func (s *Server) findProcess(c echo.Context, ref, _ string) (string, *jsonapi.Node, error) {
	proc, pol, err := s.Machines.FindProcess(c.Request().Context(), principalOf(c), tenantOf(c), ref)
	if err != nil {
		return "", nil, err
	}
	return proc.MachineID, serializer.Process(proc, pol), nil
}

func (s *Server) findComponent(c echo.Context, ref, _ string) (string, *jsonapi.Node, error) {
	comp, err := s.Machines.FindComponent(c.Request().Context(), principalOf(c), tenantOf(c), ref)
	if err != nil {
		return "", nil, err
	}
	return comp.MachineID, serializer.Component(comp), nil
}

// findToken finds a token the bearer may see; its parent is its bearer.
func (s *Server) findToken(c echo.Context, ref, _ string) (string, *jsonapi.Node, error) {
	tok, err := s.Tokens.Find(c.Request().Context(), principalOf(c), tenantOf(c), ref)
	if err != nil {
		return "", nil, err
	}
	return tok.BearerID, serializer.Token(tok, ""), nil
}

func (s *Server) findRelease(c echo.Context, ref, _ string) (string, *jsonapi.Node, error) {
	r, err := s.Releases.Show(c.Request().Context(), principalOf(c), tenantOf(c), ref, release.Narrowing{})
	if err != nil {
		return "", nil, err
	}
	return r.ProductID, serializer.Release(r), nil
}

func (s *Server) findPackage(c echo.Context, ref, _ string) (string, *jsonapi.Node, error) {
	p, err := s.Packages.Find(c.Request().Context(), principalOf(c), tenantOf(c), ref)
	if err != nil {
		return "", nil, err
	}
	return p.ProductID, serializer.Package(p), nil
}

func (s *Server) findArtifact(c echo.Context, ref, under string) (string, *jsonapi.Node, error) {
	a, err := s.Artifacts.Find(c.Request().Context(), principalOf(c), tenantOf(c), ref, artifact.Filter{})
	if err != nil {
		return "", nil, err
	}
	if under == "product" {
		return a.ProductID, serializer.Artifact(a), nil
	}
	return a.ReleaseID, serializer.Artifact(a), nil
}

func (s *Server) listPoliciesOf(c echo.Context, productID string) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]policy.Policy, int64, error) {
		return s.Policies.List(ctx, who, t, productID, p)
	}, serializer.Policy)
}

// licensesWhere lists the licenses the filter of the parent's id picks.
func (s *Server) licensesWhere(filter func(parentID string) license.Filter) func(echo.Context, string) error {
	return func(c echo.Context, parentID string) error {
		return s.pageLicenses(c, filter(parentID))
	}
}

// machinesWhere lists the machines the filter of the parent's id picks.
func (s *Server) machinesWhere(filter func(parentID string) machine.Filter) func(echo.Context, string) error {
	return func(c echo.Context, parentID string) error {
		return s.pageMachines(c, filter(parentID))
	}
}

func (s *Server) productsOfUser(c echo.Context, userID string) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]product.Product, int64, error) {
		return s.Products.OfUser(ctx, who, t, userID, p)
	}, serializer.Product)
}

func (s *Server) usersOfProduct(c echo.Context, productID string) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]user.User, int64, error) {
		return s.Users.OfProduct(ctx, who, t, productID, p)
	}, serializer.User)
}

func (s *Server) releasesOfProduct(c echo.Context, productID string) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]release.Release, int64, error) {
		return s.Releases.List(ctx, who, t, release.Filter{ProductID: productID}, p)
	}, serializer.Release)
}

func (s *Server) packagesOfProduct(c echo.Context, productID string) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]releasepackage.Package, int64, error) {
		return s.Packages.List(ctx, who, t, releasepackage.Filter{ProductID: productID}, p)
	}, serializer.Package)
}

func (s *Server) artifactsOfProduct(c echo.Context, productID string) error {
	return s.pageArtifacts(c, artifact.Filter{Product: productID})
}

func (s *Server) artifactsOfRelease(c echo.Context, releaseID string) error {
	return s.pageArtifacts(c, artifact.Filter{Release: releaseID})
}

func (s *Server) pageArtifacts(c echo.Context, f artifact.Filter) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]artifact.Artifact, int64, error) {
		return s.Artifacts.List(ctx, who, t, f, p)
	}, serializer.Artifact)
}

// renderProduct renders the product of a record the bearer may see: seeing
// a record lets a bearer see its product, as Keygen's relationship
// policies allow.
func (s *Server) renderProduct(c echo.Context, productID string) error {
	p, err := s.Products.Bearer(c.Request().Context(), tenantOf(c).ID, productID)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Product(p), nil)
}

// changeLicenseOwner is PUT /licenses/:id/owner (and Keygen-Version 1.5's
// /licenses/:id/user) with a user identifier or data null; like Keygen, it
// answers with the license.
func (s *Server) changeLicenseOwner(c echo.Context) error {
	ref, err := s.identifier(c, userResource, true)
	if err != nil {
		return err
	}
	l, err := s.Licenses.ChangeOwner(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), ref)
	if err != nil {
		return err
	}
	return s.renderLicenseValue(c, http.StatusOK, l)
}

func (s *Server) listComponents(c echo.Context) error {
	f, err := partFilter(c.QueryParams())
	if err != nil {
		return err
	}
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]machine.Component, int64, error) {
		return s.Machines.AllComponents(ctx, who, t, f, p)
	}, serializer.Component)
}

func (s *Server) listProcesses(c echo.Context) error {
	f, err := processFilter(c.QueryParams())
	if err != nil {
		return err
	}
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]machine.WithPolicy[machine.Process], int64, error) {
		return s.Machines.AllProcesses(ctx, who, t, f, p)
	}, processNode)
}

func (s *Server) visibleComponent(c echo.Context) (*machine.Component, error) {
	return s.Machines.FindComponent(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
}

func (s *Server) showComponent(c echo.Context) error {
	comp, err := s.visibleComponent(c)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Component(comp), nil)
}

func (s *Server) renderMachine(c echo.Context, machineID string) error {
	m, pol, err := s.Machines.Find(c.Request().Context(), principalOf(c), tenantOf(c), machineID)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Machine(m, pol), nil)
}

func (s *Server) visibleProcess(c echo.Context) (*machine.Process, error) {
	proc, _, err := s.Machines.FindProcess(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	return proc, err
}

func (s *Server) artifactRelease(c echo.Context) error {
	a, err := s.Artifacts.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), artifactFilter(c))
	if err != nil {
		return err
	}
	r, err := s.Releases.Show(c.Request().Context(), principalOf(c), tenantOf(c), a.ReleaseID, release.Narrowing{})
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Release(r), nil)
}
