package tsa

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sassoftware/relic/v7/lib/pkcs7"
	"github.com/sassoftware/relic/v7/lib/pkcs9"
	"github.com/signet-dev/signet/signet/internal/authenticode/authenticodetest"
)

func TestMain(m *testing.M) { authenticodetest.Main(m) }

var signature = []byte("the encrypted digest of some signer info")

func fastClient(urls ...string) *Client {
	return &Client{URLs: urls, Timeout: 5 * time.Second, Backoff: 10 * time.Millisecond}
}

func TestOpensslAuthority(t *testing.T) {
	pki := authenticodetest.SharedPKI(t)
	good := authenticodetest.StartTSA(t, pki, authenticodetest.TSAGood)
	replay := authenticodetest.StartTSA(t, pki, authenticodetest.TSAReplay)
	dead := authenticodetest.DeadURL(t)
	for _, tc := range []struct {
		name    string
		urls    []string
		wantErr string
	}{
		{"fresh token", []string{good.URL}, ""},
		{"dead URL, then a good one", []string{dead, good.URL}, ""},
		{"replayed token", []string{replay.URL}, "nonce mismatch"},
		{"replayed token, then a good one", []string{replay.URL, good.URL}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := fastClient(tc.urls...).Timestamp(context.Background(), &pkcs9.Request{EncryptedDigest: signature, Hash: crypto.SHA256})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The token really is over this signature, checked by relic's
			// independent verifier.
			cs, err := pkcs9.Verify(tok, signature, nil)
			if err != nil {
				t.Fatalf("token does not verify over the signature: %v", err)
			}
			if !strings.Contains(cs.Certificate.Subject.CommonName, "signet test TSA") {
				t.Errorf("token signed by %v", cs.Certificate.Subject)
			}
		})
	}
}

// goTSA is an in-process authority whose faults the test chooses.
type goTSA struct {
	key          *ecdsa.PrivateKey
	cert         *x509.Certificate
	wrongImprint bool
	wrongAlg     bool
	status       int // HTTP status to answer with before good answers
	failFirst    int // how many requests get status
	requests     atomic.Int32
}

func newGoTSA(t *testing.T, eku []x509.ExtKeyUsage, critical bool) *goTSA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "go test TSA"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  eku,
	}
	if critical && len(eku) > 0 {
		oids := []asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}}
		val, err := asn1.Marshal(oids)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.ExtraExtensions = []pkix.Extension{{Id: oidExtKeyUsage, Critical: true, Value: val}}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &goTSA{key: key, cert: cert}
}

func (g *goTSA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := g.requests.Add(1)
	if int(n) <= g.failFirst {
		http.Error(w, "try later", g.status)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req pkcs9.TimeStampReq
	if _, err := asn1.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	imprint := req.MessageImprint
	if g.wrongImprint {
		sum := sha256.Sum256([]byte("something else"))
		imprint.HashedMessage = sum[:]
	}
	if g.wrongAlg {
		imprint.HashAlgorithm.Algorithm = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3} // sha512
	}
	genTime, _ := asn1.MarshalWithParams(time.Now().UTC().Truncate(time.Second), "generalized")
	info := pkcs9.TSTInfo{
		Version:        1,
		Policy:         asn1.ObjectIdentifier{1, 2, 3, 4},
		MessageImprint: imprint,
		SerialNumber:   big.NewInt(int64(n)),
		GenTime:        asn1.RawValue{FullBytes: genTime},
		Nonce:          req.Nonce,
	}
	infoDER, err := asn1.Marshal(info)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b := pkcs7.NewBuilder(g.key, []*x509.Certificate{g.cert}, crypto.SHA256)
	if err := b.SetContent(pkcs9.OidTSTInfo, infoDER); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	psd, err := b.Sign()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp, err := asn1.Marshal(pkcs9.TimeStampResp{Status: pkcs9.PKIStatusInfo{Status: pkcs9.StatusGranted}, TimeStampToken: *psd})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	_, _ = w.Write(resp)
}

func TestTokenChecks(t *testing.T) {
	tsEKU := []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}
	for _, tc := range []struct {
		name    string
		tsa     func(t *testing.T) *goTSA
		wantErr string
	}{
		{"good token", func(t *testing.T) *goTSA { return newGoTSA(t, tsEKU, true) }, ""},
		{"imprint for other data", func(t *testing.T) *goTSA {
			g := newGoTSA(t, tsEKU, true)
			g.wrongImprint = true
			return g
		}, "imprint mismatch"},
		{"imprint algorithm changed", func(t *testing.T) *goTSA {
			g := newGoTSA(t, tsEKU, true)
			g.wrongAlg = true
			return g
		}, "imprint does not match"},
		{"TSA cert without timeStamping EKU", func(t *testing.T) *goTSA {
			return newGoTSA(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, false)
		}, "lacks the timeStamping extended key usage"},
		{"TSA cert with no EKU at all", func(t *testing.T) *goTSA { return newGoTSA(t, nil, false) }, "lacks the timeStamping"},
		{"timeStamping EKU not critical", func(t *testing.T) *goTSA { return newGoTSA(t, tsEKU, false) }, "not critical"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.tsa(t)
			srv := httptest.NewServer(g)
			defer srv.Close()
			_, err := fastClient(srv.URL).Timestamp(context.Background(), &pkcs9.Request{EncryptedDigest: signature, Hash: crypto.SHA256})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if g.requests.Load() != 1 {
				t.Errorf("a bad token was asked for %d times, want once", g.requests.Load())
			}
		})
	}
}

func TestRetries(t *testing.T) {
	tsEKU := []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}
	for _, tc := range []struct {
		name         string
		status       int
		failFirst    int
		retries      int
		wantErr      bool
		wantRequests int32
	}{
		{"two 503s then a token", http.StatusServiceUnavailable, 2, 0, false, 3},
		{"always 503: 1 try + 2 retries", http.StatusServiceUnavailable, 100, 0, true, 3},
		{"retries disabled", http.StatusServiceUnavailable, 100, -1, true, 1},
		{"400 is not retried", http.StatusBadRequest, 100, 0, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGoTSA(t, tsEKU, true)
			g.status, g.failFirst = tc.status, tc.failFirst
			srv := httptest.NewServer(g)
			defer srv.Close()
			c := fastClient(srv.URL)
			c.Retries = tc.retries
			_, err := c.Timestamp(context.Background(), &pkcs9.Request{EncryptedDigest: signature})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if got := g.requests.Load(); got != tc.wantRequests {
				t.Errorf("%d requests, want %d", got, tc.wantRequests)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	c := &Client{URLs: []string{srv.URL}, Timeout: 100 * time.Millisecond, Retries: -1}
	start := time.Now()
	_, err := c.Timestamp(context.Background(), &pkcs9.Request{EncryptedDigest: signature})
	if err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("err = %v after %v; want a timeout soon after 100ms", err, time.Since(start))
	}
}

func FuzzCheckResponse(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Add([]byte{0x30, 0x80})
	f.Add([]byte{})
	msg, _, err := pkcs9.NewRequest("http://127.0.0.1/", crypto.SHA256, make([]byte, 32))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, err := CheckResponse(msg, body)
		if err == nil && tok == nil {
			t.Fatal("nil token without an error")
		}
	})
}

// TestContextEnds asks an authority that never answers, with a client whose own timeout
// and retries would take minutes: the caller's context ending (Ctrl-C in signet sign, a
// deadline) stops the request at once, and the error wraps the context's.
func TestContextEnds(t *testing.T) {
	block := make(chan struct{})
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, context.DeadlineExceeded},
		{"cancelled before", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requests.Store(0)
			ctx, cancel := tc.ctx()
			defer cancel()
			c := &Client{URLs: []string{srv.URL, srv.URL}, Timeout: time.Minute, Retries: 5, Backoff: time.Minute}
			start := time.Now()
			_, err := c.Timestamp(ctx, &pkcs9.Request{EncryptedDigest: signature})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want one wrapping %v", err, tc.want)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Timestamp returned %v after it started; want soon after the context ended", d)
			}
			if n := requests.Load(); n > 1 {
				t.Errorf("%d requests after the context ended; want at most 1 (no retry, no next URL)", n)
			}
		})
	}
}
