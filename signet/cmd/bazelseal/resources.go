package main

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/signet-dev/signet/signet/internal/limitread"
	"github.com/signet-dev/signet/signet/internal/seal"
	"github.com/signet-dev/signet/signet/internal/winresource"
)

// unstampedVersion replaces a version field that names a status key when the build is not
// stamped: fixed, so unstamped builds stay reproducible.
const unstampedVersion = "0.0.0.0"

// placeholder is a workspace status key in a resource value: {KEY}, as rules_go's x_defs.
var placeholder = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// maxStatusFile bounds a workspace status file.
const maxStatusFile = 1 << 20

// readStatus reads Bazel workspace status files ("KEY value" lines; stable-status.txt,
// volatile-status.txt). A key in a later file does not replace one of an earlier file.
func readStatus(files []string) (map[string]string, error) {
	status := map[string]string{}
	for _, name := range files {
		b, err := limitread.File(name, maxStatusFile)
		if err != nil {
			return nil, fmt.Errorf("reading the workspace status: %w", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 64<<10), maxStatusFile)
		for sc.Scan() {
			key, value, _ := strings.Cut(sc.Text(), " ")
			if _, seen := status[key]; key != "" && !seen {
				status[key] = value
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("reading the workspace status %s: %w", name, err)
		}
	}
	return status, nil
}

// expand substitutes the {KEY} placeholders of a resource value. Stamped (status != nil), each
// is the key's value in the workspace status, and an unknown key is an error. Unstamped, a
// version field with a placeholder becomes 0.0.0.0 and a placeholder elsewhere is dropped.
func expand(value, flag string, version bool, status map[string]string) (string, error) {
	if !placeholder.MatchString(value) {
		return value, nil
	}
	if status == nil {
		if version {
			return unstampedVersion, nil
		}
		return placeholder.ReplaceAllString(value, ""), nil
	}
	var missing []string
	out := placeholder.ReplaceAllStringFunc(value, func(m string) string {
		key := m[1 : len(m)-1]
		v, ok := status[key]
		if !ok {
			missing = append(missing, key)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("--%s %q: the workspace status has no %s (set it in your --workspace_status_command)", flag, value, strings.Join(missing, ", "))
	}
	return out, nil
}

// resourceRequest is what the action asked to write into a Windows stub's resources.
type resourceRequest struct {
	values     map[string]*string // flag name -> value as given
	icon       string             // icon file, "" for none
	statusFile []string           // workspace status files: stamping is on when any is given
}

// given reports whether any resource flag was set.
func (r *resourceRequest) given() bool {
	if r.icon != "" {
		return true
	}
	for _, v := range r.values {
		if *v != "" {
			return true
		}
	}
	return false
}

// info builds the winresource.Info: placeholders expanded, the icon read.
func (r *resourceRequest) info() (winresource.Info, error) {
	var info winresource.Info
	var status map[string]string
	if len(r.statusFile) > 0 {
		s, err := readStatus(r.statusFile)
		if err != nil {
			return info, err
		}
		status = s
	}
	for _, f := range seal.ResourceFields {
		v, err := expand(*r.values[f.Flag], f.Flag, f.Version, status)
		if err != nil {
			return info, err
		}
		*f.Field(&info) = v
	}
	if r.icon != "" {
		b, err := readIcon(r.icon)
		if err != nil {
			return info, err
		}
		info.Icon = b
	}
	if err := info.Validate(); err != nil {
		return info, fmt.Errorf("windows resources: %w", err)
	}
	return info, nil
}

func readIcon(name string) ([]byte, error) {
	b, err := limitread.File(name, winresource.MaxIconSize)
	if err != nil {
		return nil, fmt.Errorf("--icon: %w", err)
	}
	return b, nil
}
