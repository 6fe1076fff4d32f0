package authenticode

import (
	"crypto/x509"
	"fmt"
	"time"
)

// CheckSigningCert applies signet's signing policy to the leaf certificate
// at time now. It refuses (rather than warns about) a certificate that
// Windows would not accept for code signing, because a signature made with
// it is useless to the customer:
//   - not yet valid or expired at now;
//   - no extended key usage listing codeSigning (an absent EKU extension is
//     refused too: a code-signing CA always issues it);
//   - a key usage extension without digitalSignature.
func CheckSigningCert(leaf *x509.Certificate, now time.Time) error {
	name := leaf.Subject.String()
	if now.Before(leaf.NotBefore) {
		return fmt.Errorf("certificate %q is not valid before %s", name, leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.After(leaf.NotAfter) {
		return fmt.Errorf("certificate %q expired on %s", name, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	codeSigning := false
	for _, u := range leaf.ExtKeyUsage {
		if u == x509.ExtKeyUsageCodeSigning {
			codeSigning = true
		}
	}
	if !codeSigning {
		return fmt.Errorf("certificate %q does not allow code signing (no codeSigning extended key usage)", name)
	}
	if leaf.KeyUsage != 0 && leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return fmt.Errorf("certificate %q key usage lacks digitalSignature", name)
	}
	return nil
}
