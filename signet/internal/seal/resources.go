package seal

import (
	"strings"

	"github.com/signet-dev/signet/signet/internal/winresource"
)

// ResourceField is one field of a Windows loader's version information as a command-line
// flag: `signet seal` and the Bazel helper register the same flags from this table.
type ResourceField struct {
	Flag    string // flag name, without dashes: "company"
	What    string // flag usage; a back-quoted word names the value
	Version bool   // FileVersion or ProductVersion: 1.2.3 or 1.2.3.4
	Field   func(*winresource.Info) *string
}

// ResourceFields lists the version-information flags, in the order of winresource.Info.
var ResourceFields = []ResourceField{
	{"company", "company `name`", false, func(i *winresource.Info) *string { return &i.CompanyName }},
	{"product", "product `name`", false, func(i *winresource.Info) *string { return &i.ProductName }},
	{"description", "file `description` Explorer shows", false, func(i *winresource.Info) *string { return &i.FileDescription }},
	{"file-version", "file `version` 1.2.3 or 1.2.3.4", true, func(i *winresource.Info) *string { return &i.FileVersion }},
	{"product-version", "product `version` 1.2.3 or 1.2.3.4", true, func(i *winresource.Info) *string { return &i.ProductVersion }},
	{"copyright", "copyright `notice`", false, func(i *winresource.Info) *string { return &i.LegalCopyright }},
	{"original-filename", "original file `name`, e.g. hello.exe", false, func(i *winresource.Info) *string { return &i.OriginalFilename }},
	{"internal-name", "internal `name`", false, func(i *winresource.Info) *string { return &i.InternalName }},
	{"comments", "`comments`", false, func(i *winresource.Info) *string { return &i.Comments }},
}

// ResourceFlagsError is the message for resource flags given for a target that is not
// Windows.
func ResourceFlagsError(target string) string {
	names := make([]string, 0, len(ResourceFields)+1)
	for _, f := range ResourceFields {
		names = append(names, "--"+f.Flag)
	}
	return strings.Join(names, ", ") + " and --icon are for a windows target, not " + target
}
