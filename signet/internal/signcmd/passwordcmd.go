package signcmd

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/signet-dev/signet/signet/internal/keystore"
)

const passwordUsage = `usage:
  signet password save [--password-stdin] PFX
  signet password forget PFX
  signet password forget --sha256 HEX

save asks for the password of the .pfx file PFX on the terminal (without
echo), or reads the first line of stdin with --password-stdin, checks that it
opens PFX, and stores it in the OS keystore of the current user, keyed by the
SHA-256 of PFX's bytes. 'signet sign --pfx PFX --saved-password' then uses it.
A re-exported or changed .pfx is another file: save its password again.

forget removes the saved password of PFX, or the one with the SHA-256 that
save printed (for a .pfx that no longer exists).

Any program running as the same user can read saved passwords from the
keystore; see docs/signing.md.
`

// RunPassword runs `signet password` with args (without the "password"
// word), reading the password from os.Stdin. It returns the process exit
// code: 0 success, 1 failure, 2 usage error.
func RunPassword(args []string, stdout, stderr io.Writer) int {
	return runPassword(args, os.Stdin, stdout, stderr)
}

// errUsage marks errors that are usage errors (exit 2).
var errUsage = errors.New("usage")

func runPassword(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "signet password: want save or forget\n%s", passwordUsage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, passwordUsage)
		return exitOK
	case "save":
		err = savePassword(args[1:], stdin, stderr)
	case "forget":
		err = forgetPassword(args[1:], stderr)
	default:
		err = fmt.Errorf("%w: unknown subcommand %q, want save or forget", errUsage, args[0])
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, passwordUsage)
		return exitOK
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "signet password: %s\n%s", strings.TrimPrefix(err.Error(), errUsage.Error()+": "), passwordUsage)
		return exitUsage
	}
	fmt.Fprintf(stderr, "signet password %s: %v\n", args[0], err)
	return exitFailure
}

// parseArgs parses fs's flags, which may come before or after the
// positional arguments, and returns those.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func savePassword(args []string, stdin *os.File, stderr io.Writer) error {
	fs := flag.NewFlagSet("save", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	positional, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return fmt.Errorf("%w: want exactly one .pfx file, got %d", errUsage, len(positional))
	}
	path := positional[0]
	if !*fromStdin && !term.IsTerminal(int(stdin.Fd())) {
		return fmt.Errorf("%w: stdin is not a terminal; pass --password-stdin to read the password from it", errUsage)
	}
	data, err := readPFX(path)
	if err != nil {
		return err
	}
	var password []byte
	if *fromStdin {
		password, err = readStdinPassword(stdin)
	} else {
		fmt.Fprintf(stderr, "Password for %s: ", path)
		password, err = term.ReadPassword(int(stdin.Fd()))
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return fmt.Errorf("reading the password: %w", err)
	}
	defer clear(password)
	id, err := openPFX(path, data, password)
	if err != nil {
		return fmt.Errorf("%w; nothing saved", err)
	}
	account := pfxAccount(data)
	if err := keystore.Save(account, password); err != nil {
		if errors.Is(err, keystore.ErrUnavailable) {
			return fmt.Errorf("%w; nothing saved (signet sign also takes --password-file or --password-env)", err)
		}
		return fmt.Errorf("%w; nothing saved", err)
	}
	fmt.Fprintf(stderr, "saved the password of %s (certificate %q) in the %s as %s\n",
		path, id.Leaf.Subject.String(), keystore.Name(), account)
	return nil
}

// readStdinPassword reads the first line of stdin; empty stdin is refused
// (an empty line is an empty password).
func readStdinPassword(stdin io.Reader) ([]byte, error) {
	var first [1]byte
	n, err := io.ReadFull(stdin, first[:])
	if n == 0 {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, errors.New("stdin is empty")
		}
		return nil, err
	}
	pw, err := readPasswordLine(io.MultiReader(strings.NewReader(string(first[:])), stdin))
	if err != nil {
		return nil, fmt.Errorf("stdin: %w", err)
	}
	return pw, nil
}

func forgetPassword(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("forget", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	digest := fs.String("sha256", "", "the SHA-256 (64 hex digits) that save printed")
	positional, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	var name, account string
	switch {
	case *digest != "" && len(positional) == 0:
		d := strings.ToLower(strings.TrimPrefix(*digest, "sha256:"))
		if b, err := hex.DecodeString(d); err != nil || len(b) != 32 {
			return fmt.Errorf("%w: --sha256 %q: want 64 hex digits", errUsage, *digest)
		}
		account = "sha256:" + d
		name = account
	case *digest == "" && len(positional) == 1:
		data, err := readPFX(positional[0])
		if err != nil {
			return err
		}
		account = pfxAccount(data)
		name = fmt.Sprintf("%s (%s)", positional[0], account)
	default:
		return fmt.Errorf("%w: give one .pfx file or --sha256 HEX", errUsage)
	}
	err = keystore.Delete(account)
	if errors.Is(err, keystore.ErrNotFound) {
		return fmt.Errorf("no password is saved for %s", name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "removed the saved password of %s from the %s\n", name, keystore.Name())
	return nil
}
