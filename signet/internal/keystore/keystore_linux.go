package keystore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	dbus "github.com/godbus/dbus/v5"
)

const secretServiceName = "org.freedesktop.secrets"

const startHint = "start a Secret Service (e.g. gnome-keyring-daemon --components=secrets) in your D-Bus session"

// runtimeBus is where godbus looks for the session bus when
// DBUS_SESSION_BUS_ADDRESS is not set (a hook for tests).
var runtimeBus = func() string {
	return filepath.Join("/run/user", strconv.Itoa(os.Getuid()), "bus")
}

// Name names the keystore of this OS for messages.
func Name() string { return "Secret Service over D-Bus" }

// probeOS checks that a session bus is reachable and that a Secret Service is
// on it (running, or startable by D-Bus activation). It never lets godbus
// launch a new bus with dbus-launch (what it does when it finds no address):
// a bus started that way would outlive signet and could activate a keyring
// that nobody unlocks.
func probeOS() error {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" || addr == "autolaunch:" {
		if _, err := os.Stat(runtimeBus()); err != nil {
			return fmt.Errorf("%w: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set); %s", ErrUnavailable, startHint)
		}
	}
	// The shared connection, which go-keyring then uses too.
	conn, err := dbus.SessionBus()
	if err != nil {
		return fmt.Errorf("%w: cannot connect to the D-Bus session bus: %v; %s", ErrUnavailable, err, startHint)
	}
	bus := conn.BusObject()
	var owned bool
	if err := bus.Call("org.freedesktop.DBus.NameHasOwner", 0, secretServiceName).Store(&owned); err != nil {
		return fmt.Errorf("%w: asking the D-Bus session bus for %s: %v", ErrUnavailable, secretServiceName, err)
	}
	if owned {
		return nil
	}
	var activatable []string
	if err := bus.Call("org.freedesktop.DBus.ListActivatableNames", 0).Store(&activatable); err != nil {
		return fmt.Errorf("%w: asking the D-Bus session bus for %s: %v", ErrUnavailable, secretServiceName, err)
	}
	for _, n := range activatable {
		if n == secretServiceName {
			return nil
		}
	}
	return fmt.Errorf("%w: no Secret Service (%s) on the D-Bus session bus; %s", ErrUnavailable, secretServiceName, startHint)
}

// unavailable maps errors that mean "no usable keystore here" to
// ErrUnavailable, and returns nil for any other error.
func unavailable(err error) error {
	// go-keyring's words when the collection stays locked, e.g. because
	// no unlock prompt could be shown (no desktop session).
	if strings.HasPrefix(err.Error(), "failed to unlock correct collection") {
		return fmt.Errorf("%w: the Secret Service's default collection is locked and was not unlocked (%v); "+
			"unlock your keyring (log in to the desktop, or start gnome-keyring-daemon --unlock)", ErrUnavailable, err)
	}
	var name string
	var val dbus.Error
	var ptr *dbus.Error
	switch {
	case errors.As(err, &val):
		name = val.Name
	case errors.As(err, &ptr):
		name = ptr.Name
	}
	switch name {
	case "org.freedesktop.DBus.Error.ServiceUnknown",
		"org.freedesktop.DBus.Error.NameHasNoOwner",
		"org.freedesktop.DBus.Error.Spawn.ChildExited",
		"org.freedesktop.DBus.Error.Spawn.ExecFailed",
		"org.freedesktop.DBus.Error.NoServer",
		"org.freedesktop.DBus.Error.Disconnected":
		return fmt.Errorf("%w: the Secret Service did not answer (%s); %s", ErrUnavailable, name, startHint)
	}
	return nil
}
