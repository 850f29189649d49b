package setting

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/relkey/relkey/internal/apperr"
)

func TestCheckValue(t *testing.T) {
	for _, tt := range []struct {
		key, value, detail string
	}{
		{DefaultLicensePermissions, `["license.read","license.validate"]`, ""},
		{DefaultLicensePermissions, `[]`, ""},
		{DefaultUserPermissions, `["user.update","license.create"]`, ""},
		{DefaultLicensePermissions, `["license.create"]`, "must be an array of valid license permissions"},
		{DefaultLicensePermissions, `["license.read","license.read"]`, "must be an array of valid license permissions"},
		{DefaultUserPermissions, `["user.read",null]`, "must be an array of valid user permissions"},
		{DefaultUserPermissions, `["*"]`, "must be an array of valid user permissions"},
		{DefaultUserPermissions, `"user.read"`, "must be a valid setting"},
		{DefaultUserPermissions, `null`, "must be a valid setting"},
		{"foo", `["user.read"]`, "must be a valid setting"},
	} {
		err := check(tt.key, json.RawMessage(tt.value))
		var ae *apperr.Error
		switch {
		case tt.detail == "" && err != nil:
			t.Errorf("%s %s: %v", tt.key, tt.value, err)
		case tt.detail != "" && (!errors.As(err, &ae) || ae.Detail != tt.detail || ae.Code != "VALUE_NOT_ALLOWED"):
			t.Errorf("%s %s: %v, want VALUE_NOT_ALLOWED %q", tt.key, tt.value, err, tt.detail)
		}
	}
}
