package legacyrelease

import (
	"context"
	"errors"
	"testing"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/release"
)

// fakeReleases finds one release; the other rules are not reached.
type fakeReleases struct {
	Releases
	r *release.Release
}

func (f fakeReleases) Find(context.Context, *access.Principal, *account.Tenant, string, release.Narrowing) (*release.Release, error) {
	return f.r, nil
}

// fakeArtifacts lists the files it holds and presigns any download.
type fakeArtifacts struct {
	Artifacts
	files []artifact.Artifact
}

func (f fakeArtifacts) List(context.Context, *access.Principal, *account.Tenant, artifact.Filter, page.Request) ([]artifact.Artifact, int64, error) {
	return f.files, int64(len(f.files)), nil
}

func (f fakeArtifacts) Download(_ context.Context, _ *access.Principal, _ *account.Tenant, req artifact.DownloadRequest) (*artifact.Artifact, string, error) {
	for i := range f.files {
		if f.files[i].ID == req.Ref && f.files[i].Status == artifact.Uploaded {
			return &f.files[i], "https://storage.test/" + req.Ref, nil
		}
	}
	return &artifact.Artifact{ID: req.Ref}, "", nil
}

// dropped records no events.
type dropped struct{}

func (dropped) Emit(event.Occurrence) {}

func TestDownloadTheReleasesOneFile(t *testing.T) {
	file := func(id, status string) artifact.Artifact { return artifact.Artifact{ID: id, Status: status} }
	for _, tt := range []struct {
		name          string
		status        string
		files         []artifact.Artifact
		code, located string
	}{
		{"one uploaded file", release.Published, []artifact.Artifact{file("a", artifact.Uploaded)}, "", "https://storage.test/a"},
		{"yanked and failed files are gone", release.Published,
			[]artifact.Artifact{file("y", artifact.Yanked), file("f", artifact.Failed), file("a", artifact.Uploaded)}, "", "https://storage.test/a"},
		{"no file", release.Published, nil, "NOT_FOUND", ""},
		{"a file still waiting", release.Draft, []artifact.Artifact{file("w", artifact.Waiting)}, "NOT_FOUND", ""},
		{"two files", release.Published, []artifact.Artifact{file("a", artifact.Uploaded), file("b", artifact.Waiting)}, "ARTIFACTS_MULTIPLE", ""},
		{"a yanked release", release.Yanked, []artifact.Artifact{file("a", artifact.Uploaded)}, "RELEASE_YANKED", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := NewService(fakeReleases{r: &release.Release{ID: "r", Status: tt.status}}, fakeArtifacts{files: tt.files}, nil, dropped{})
			_, located, err := s.Download(context.Background(), nil, &account.Tenant{}, "r", 0)
			var ae *apperr.Error
			switch {
			case tt.code == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.code != "" && (!errors.As(err, &ae) || ae.Code != tt.code):
				t.Fatalf("error %v, want %s", err, tt.code)
			case located != tt.located:
				t.Fatalf("located %q, want %q", located, tt.located)
			}
		})
	}
}
