package keygenimport

import (
	"fmt"
	"io"
	"time"
)

// Kind is a kind of resource an import copies, in the summary's words.
type Kind string

// The kinds, in the order they are imported.
const (
	Products            Kind = "products"
	Entitlements        Kind = "entitlements"
	Policies            Kind = "policies"
	PolicyEntitlements  Kind = "policy entitlements"
	Groups              Kind = "groups"
	Users               Kind = "users"
	GroupOwners         Kind = "group owners"
	Licenses            Kind = "licenses"
	LicenseEntitlements Kind = "license entitlements"
	Machines            Kind = "machines"
	Components          Kind = "components"
	Packages            Kind = "packages"
	Releases            Kind = "releases"
	ReleaseConstraints  Kind = "release constraints"
	Artifacts           Kind = "artifacts"
)

var kinds = []Kind{Products, Entitlements, Policies, PolicyEntitlements, Groups, Users, GroupOwners, Licenses, LicenseEntitlements,
	Machines, Components, Packages, Releases, ReleaseConstraints, Artifacts}

// Counts are what became of the items of one kind.
type Counts struct {
	Created, Skipped, Failed int
}

// Failure is an item that was not imported, and why.
type Failure struct {
	Kind   Kind
	Item   string
	Reason string
}

// Summary is what an import did.
type Summary struct {
	counts   map[Kind]*Counts
	Failures []Failure
	// PasswordResets is how many imported users were sent a password reset.
	PasswordResets int
	// Notes are what was not imported as a whole, and why.
	Notes []string
}

func newSummary() *Summary {
	s := &Summary{counts: map[Kind]*Counts{}}
	for _, k := range kinds {
		s.counts[k] = &Counts{}
	}
	return s
}

// Of returns the counts of a kind.
func (s *Summary) Of(k Kind) Counts { return *s.counts[k] }

func (s *Summary) count(k Kind, o outcome) {
	if o == created {
		s.counts[k].Created++
	} else {
		s.counts[k].Skipped++
	}
}

func (s *Summary) fail(k Kind, item, reason string) {
	s.counts[k].Failed++
	s.Failures = append(s.Failures, Failure{Kind: k, Item: item, Reason: reason})
}

// Failed is how many items failed, of every kind.
func (s *Summary) Failed() int {
	n := 0
	for _, c := range s.counts {
		n += c.Failed
	}
	return n
}

// Write prints the summary: a table of counts per kind, the password
// resets, the notes and every failure.
func (s *Summary) Write(w io.Writer) {
	fmt.Fprintf(w, "%-22s %8s %8s %8s\n", "imported", "created", "skipped", "failed")
	for _, k := range kinds {
		c := s.counts[k]
		fmt.Fprintf(w, "%-22s %8d %8d %8d\n", k, c.Created, c.Skipped, c.Failed)
	}
	fmt.Fprintf(w, "password resets requested: %d (users come without passwords: each new one gets a reset token, published as POST /passwords does)\n", s.PasswordResets)
	for _, n := range s.Notes {
		fmt.Fprintln(w, n)
	}
	if len(s.Failures) > 0 {
		fmt.Fprintf(w, "failed (%d):\n", len(s.Failures))
		for _, f := range s.Failures {
			fmt.Fprintf(w, "  %s %s: %s\n", f.Kind, f.Item, f.Reason)
		}
	}
}

// progress shows the kind being imported and its counts: a line per kind,
// rewritten in place at most ten times a second when live.
type progress struct {
	w     io.Writer
	live  bool
	kind  Kind
	total int
	last  time.Time
}

func (p *progress) start(k Kind, total int) {
	p.kind, p.total, p.last = k, total, time.Time{}
}

func (p *progress) line(c *Counts) string {
	done := c.Created + c.Skipped + c.Failed
	of := ""
	if p.total >= 0 {
		of = fmt.Sprintf("/%d", p.total)
	}
	return fmt.Sprintf("importing %-13s %d%s (created %d, skipped %d, failed %d)", p.kind, done, of, c.Created, c.Skipped, c.Failed)
}

func (p *progress) step(c *Counts) {
	if p.w == nil || !p.live || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\r\033[K%s", p.line(c))
}

func (p *progress) finish(c *Counts) {
	if p.w == nil {
		return
	}
	if p.live {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(p.w, p.line(c))
}
