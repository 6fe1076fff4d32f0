// Package tsa is an RFC 3161 time-stamping client for Authenticode
// signatures.
//
// It asks a list of time-stamping authorities in order, each with a timeout
// and a bounded number of retries, and accepts a token only if its signature
// verifies, its nonce and message imprint (algorithm and value) are the ones
// of this request, and the certificate that signed it carries the
// time-stamping extended key usage, marked critical as RFC 3161 §2.3
// requires. A token made for another request (a replay) is therefore refused.
// Whether the TSA's certificate chains to a trusted root is the verifier's
// business, not the signer's.
package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sassoftware/relic/v7/lib/pkcs7"
	"github.com/sassoftware/relic/v7/lib/pkcs9"
	"github.com/sassoftware/relic/v7/lib/x509tools"

	"github.com/signet-dev/signet/signet/internal/limitread"
)

// Defaults used when the Client's fields are zero.
const (
	DefaultTimeout = 10 * time.Second
	DefaultRetries = 2
	DefaultBackoff = 500 * time.Millisecond
	// MaxResponseSize bounds a TSA's answer; real tokens are a few KiB.
	MaxResponseSize = 1 << 20
)

// Client asks RFC 3161 authorities for time-stamp tokens. It implements
// pkcs9.Timestamper.
type Client struct {
	// URLs are tried in order; the first good token wins.
	URLs []string
	// Timeout bounds one HTTP exchange (DefaultTimeout if zero).
	Timeout time.Duration
	// Retries is how many more times one URL is tried after a transport
	// failure or an HTTP 5xx: 0 means DefaultRetries, negative means none.
	// A response that fails verification is never retried.
	Retries int
	// Backoff is the pause before retry n, multiplied by n (DefaultBackoff if zero).
	Backoff time.Duration
	// HTTPClient is used for requests (a plain client if nil).
	HTTPClient *http.Client
	// Log, if set, receives one line per failed attempt.
	Log io.Writer
}

// Timestamp returns a verified token over req.EncryptedDigest using the
// RFC 3161 protocol with the imprint hash req.Hash (SHA-256 if zero).
func (c *Client) Timestamp(ctx context.Context, req *pkcs9.Request) (*pkcs7.ContentInfoSignedData, error) {
	if req.Legacy {
		return nil, errors.New("tsa: legacy (non RFC 3161) time-stamping is not supported")
	}
	if len(c.URLs) == 0 {
		return nil, errors.New("tsa: no time-stamping URL given")
	}
	hash := req.Hash
	if hash == 0 {
		hash = crypto.SHA256
	}
	if !hash.Available() {
		return nil, fmt.Errorf("tsa: hash %v not available", hash)
	}
	h := hash.New()
	h.Write(req.EncryptedDigest)
	imprint := h.Sum(nil)

	var failures []string
	for _, url := range c.URLs {
		tok, err := c.tryURL(ctx, url, hash, imprint)
		if err == nil {
			return tok, nil
		}
		failures = append(failures, fmt.Sprintf("%s: %v", url, err))
		if ctxErr := ctx.Err(); ctxErr != nil { // cancelled (Ctrl-C) or over the caller's deadline
			return nil, fmt.Errorf("tsa: time stamping stopped: %w:\n  %s", ctxErr, strings.Join(failures, "\n  "))
		}
	}
	return nil, fmt.Errorf("tsa: no time-stamping authority gave a valid token:\n  %s", strings.Join(failures, "\n  "))
}

// retryable marks failures worth asking the same URL again for.
type retryable struct{ err error }

func (r retryable) Error() string { return r.err.Error() }
func (r retryable) Unwrap() error { return r.err }

func (c *Client) tryURL(ctx context.Context, url string, hash crypto.Hash, imprint []byte) (*pkcs7.ContentInfoSignedData, error) {
	retries := c.Retries
	switch {
	case retries < 0:
		retries = 0
	case retries == 0:
		retries = DefaultRetries
	}
	backoff := c.Backoff
	if backoff <= 0 {
		backoff = DefaultBackoff
	}
	var err error
	for attempt := 0; attempt <= retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(attempt) * backoff):
			}
		}
		var tok *pkcs7.ContentInfoSignedData
		tok, err = c.once(ctx, url, hash, imprint)
		if err == nil {
			return tok, nil
		}
		if c.Log != nil {
			fmt.Fprintf(c.Log, "time-stamping authority %s, attempt %d: %v\n", url, attempt+1, err)
		}
		var r retryable
		if !errors.As(err, &r) {
			return nil, err // a bad answer is not cured by asking again
		}
	}
	return nil, err
}

func (c *Client) once(ctx context.Context, url string, hash crypto.Hash, imprint []byte) (*pkcs7.ContentInfoSignedData, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	msg, httpReq, err := newRequest(ctx, url, hash, imprint)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	client := c.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	resp, err := client.Do(httpReq)
	if err != nil {
		return nil, retryable{err}
	}
	defer resp.Body.Close()
	body, err := limitread.All(resp.Body, MaxResponseSize, "the response")
	tooLarge := errors.Is(err, limitread.ErrTooLarge)
	if err != nil && !tooLarge {
		return nil, retryable{err}
	}
	if resp.StatusCode >= 500 {
		return nil, retryable{fmt.Errorf("HTTP %s", resp.Status)}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	if tooLarge {
		return nil, err
	}
	return CheckResponse(msg, body)
}

// newRequest builds an RFC 3161 TimeStampReq for imprint (with a fresh nonce, asking for the
// TSA's certificate) and the HTTP POST that carries it, bound to ctx. It is
// pkcs9.NewRequest with the context given at the start.
func newRequest(ctx context.Context, url string, hash crypto.Hash, imprint []byte) (*pkcs9.TimeStampReq, *http.Request, error) {
	alg, ok := x509tools.PkixDigestAlgorithm(hash)
	if !ok {
		return nil, nil, fmt.Errorf("unknown digest algorithm %v", hash)
	}
	msg := &pkcs9.TimeStampReq{
		Version:        1,
		MessageImprint: pkcs9.MessageImprint{HashAlgorithm: alg, HashedMessage: imprint},
		Nonce:          x509tools.MakeSerial(),
		CertReq:        true,
	}
	body, err := asn1.Marshal(*msg)
	if err != nil {
		return nil, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/timestamp-query")
	return msg, req, nil
}

// CheckResponse parses a TimeStampResp and returns its token if it answers
// req: granted status, valid signature, same nonce, same imprint algorithm
// and value, and a signer certificate with a critical timeStamping EKU.
func CheckResponse(req *pkcs9.TimeStampReq, body []byte) (tok *pkcs7.ContentInfoSignedData, err error) {
	defer func() {
		if r := recover(); r != nil {
			tok, err = nil, errors.New("malformed time-stamp response")
		}
	}()
	// ParseResponse checks status, the token's signature, nonce and the
	// imprint value.
	tok, err = req.ParseResponse(body)
	if err != nil {
		return nil, err
	}
	info, err := tokenInfo(tok)
	if err != nil {
		return nil, err
	}
	if info.Nonce == nil || req.Nonce == nil || info.Nonce.Cmp(req.Nonce) != 0 {
		return nil, errors.New("token nonce does not match the request (replayed token?)")
	}
	if !info.MessageImprint.HashAlgorithm.Algorithm.Equal(req.MessageImprint.HashAlgorithm.Algorithm) ||
		!hmac.Equal(info.MessageImprint.HashedMessage, req.MessageImprint.HashedMessage) {
		return nil, errors.New("token message imprint does not match the request")
	}
	sig, err := tok.Content.Verify(nil, false)
	if err != nil {
		return nil, fmt.Errorf("token signature: %w", err)
	}
	if err := CheckTSACert(sig.Certificate); err != nil {
		return nil, err
	}
	return tok, nil
}

var oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}

// CheckTSACert reports whether cert may sign time-stamp tokens: it must carry
// the timeStamping extended key usage in a critical extension.
func CheckTSACert(cert *x509.Certificate) error {
	hasTS := false
	for _, u := range cert.ExtKeyUsage {
		if u == x509.ExtKeyUsageTimeStamping {
			hasTS = true
		}
	}
	if !hasTS {
		return fmt.Errorf("token signed by %q, whose certificate lacks the timeStamping extended key usage", cert.Subject.String())
	}
	for _, e := range cert.Extensions {
		if e.Id.Equal(oidExtKeyUsage) && !e.Critical {
			return fmt.Errorf("token signed by %q, whose extended key usage is not critical (RFC 3161 §2.3)", cert.Subject.String())
		}
	}
	return nil
}

func tokenInfo(tok *pkcs7.ContentInfoSignedData) (*pkcs9.TSTInfo, error) {
	if !tok.Content.ContentInfo.ContentType.Equal(pkcs9.OidTSTInfo) {
		return nil, errors.New("token content is not a TSTInfo")
	}
	raw, err := tok.Content.ContentInfo.Bytes()
	if err != nil {
		return nil, fmt.Errorf("token content: %w", err)
	}
	if len(raw) > 0 && raw[0] == 0x04 { // OCTET STRING wrapper
		if _, err := asn1.Unmarshal(raw, &raw); err != nil {
			return nil, fmt.Errorf("token content: %w", err)
		}
	}
	info := new(pkcs9.TSTInfo)
	rest, err := asn1.Unmarshal(raw, info)
	if err != nil {
		return nil, fmt.Errorf("token TSTInfo: %w", err)
	}
	if len(rest) != 0 {
		return nil, errors.New("token TSTInfo: trailing bytes")
	}
	if _, err := x509tools.PkixDigestToHashE(info.MessageImprint.HashAlgorithm); err != nil {
		return nil, fmt.Errorf("token imprint: %w", err)
	}
	return info, nil
}

// Verify that Client satisfies the interface relic's signers use.
var _ pkcs9.Timestamper = (*Client)(nil)
