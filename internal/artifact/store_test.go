package artifact

import (
	"reflect"
	"testing"
)

func TestFiltersAreOneStatementPerCombination(t *testing.T) {
	pkg, engine := "my-pkg", ""
	for _, tc := range []struct {
		name         string
		uploadedOnly bool
		f            Filter
		want         []string
	}{
		{"none", false, Filter{}, nil},
		{"uploaded only", true, Filter{}, []string{"artifacts.status = ?"}},
		{"columns in a fixed order", false, Filter{Arch: "ARM64", Platform: "Linux", Product: "p", Release: "r"},
			[]string{"artifacts.release_id = ?", "artifacts.product_id = ?", "artifacts.platform = ?", "artifacts.arch = ?"}},
		{"package and engine", false, Filter{Package: &pkg, Engine: &engine}, []string{
			"artifacts.release_id IN (SELECT releases.id FROM releases WHERE (releases.account_id = ?) AND (releases.package_id IN (SELECT id FROM packages WHERE account_id = ? AND key = ?)))",
			"artifacts.release_id NOT IN (SELECT releases.id FROM releases JOIN packages ON packages.id = releases.package_id WHERE releases.account_id = ? AND packages.engine IS NOT NULL)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Many times over: a map's order would change the text.
			for range 20 {
				var got []string
				for _, c := range filters("acct", tc.uploadedOnly, tc.f) {
					got = append(got, c.SQL)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("filters = %q, want %q", got, tc.want)
				}
			}
		})
	}
	conds := filters("acct", true, Filter{Platform: "Linux", Arch: "ARM64", Filetype: ".DMG", Status: "uploaded"})
	var args []any
	for _, c := range conds {
		args = append(args, c.Args...)
	}
	if want := []any{Uploaded, "linux", "arm64", "UPLOADED", "dmg"}; !reflect.DeepEqual(args, want) {
		t.Errorf("arguments = %v, want %v", args, want)
	}
}
