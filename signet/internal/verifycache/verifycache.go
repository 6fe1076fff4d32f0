// Package verifycache remembers, for the user running a loader, which sealed files it has
// hashed and found intact, by their identity (device, inode, size, modification and change
// time), so that later starts check those files by fstat instead of reading them again. It
// makes start-up grow with what changed, not with what was shipped, and keeps the guarantee
// that every sealed file is checked before the app's first line:
//
//   - A file's change time (ctime) is set by the kernel on every write, truncation, rename,
//     link or permission change; no user can set it back. A file whose identity equals the
//     remembered one has not been changed since it was hashed, unless by the kernel's owner.
//   - Only files whose change time is more than Margin before the check began are
//     remembered, so a change in the same tick of a coarse clock cannot hide.
//   - The cache is used only on local file systems whose kernel drivers keep ctime (ext4, XFS,
//     Btrfs, tmpfs, overlayfs, F2FS, ZFS), for the app tree; elsewhere every file is hashed.
//   - The cache lives in the user's own cache directory, which must be owned by the user (or
//     root) and writable by no one else, as must every directory above it; its files are
//     owned by the user and readable by no one else. Someone who could write there could
//     already run code as the user.
//   - Import-time checks do not use it: the bootstrap still hashes the very bytes it
//     compiles or loads (docs/threat-model.md).
//
// A cache that is missing, unreadable, damaged or for another manifest is ignored and
// rewritten; all failures to use it only cost time.
package verifycache

import (
	"time"

	"github.com/signet-dev/signet/signet/internal/treecheck"
)

// Margin is how much older than the check a file's change time must be for the file to be
// remembered: longer than the coarsest change-time tick of the supported file systems.
const Margin = 2 * time.Second

// record is one remembered file: its index among the checked files and its identity.
type record struct {
	set bool
	id  treecheck.FileID
}

// Cache is the remembered state of one app tree under one manifest. The zero value and nil
// remember nothing. Known and Remember may be called concurrently for different indexes.
type Cache struct {
	file    string   // where it is saved
	key     [32]byte // what it is for: the manifest and the app root
	records []record // by file index
	since   int64    // unix nanoseconds before which a change time must lie to be remembered
	changed []bool   // by file index: remembered in this run
}

// Known reports whether file i is remembered with exactly this identity.
func (c *Cache) Known(i int, id treecheck.FileID) bool {
	if c == nil || i < 0 || i >= len(c.records) {
		return false
	}
	r := c.records[i]
	return r.set && r.id == id
}

// Remember records that file i was hashed and matched with this identity, if its change
// time is old enough (Margin).
func (c *Cache) Remember(i int, id treecheck.FileID) {
	if c == nil || i < 0 || i >= len(c.records) {
		return
	}
	if id.CtimeSec*int64(time.Second)+id.CtimeNsec >= c.since ||
		id.MtimeSec*int64(time.Second)+id.MtimeNsec >= c.since {
		return
	}
	if r := (record{set: true, id: id}); c.records[i] != r {
		c.records[i] = r
		c.changed[i] = true
	}
}
