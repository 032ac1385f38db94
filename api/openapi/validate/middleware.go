package validate

import (
	"bytes"
	"io"
	"net/http"
)

// TB is the part of testing.TB the wrappers use (the package does not
// import testing, so that serving the document pulls no test code into
// the binary). Errorf must be safe to call from a handler goroutine, as
// testing.T's is.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// Middleware wraps the API's handler for tests: every exchange it serves
// is validated and a mismatch fails t. Responses are always checked;
// requests only when the server accepted them (2xx) and the document
// describes them (not CORS preflights), so bad-input tests
// may send malformed requests on purpose. The hosted pages
// (HostedPage) pass unchecked.
func (v *Validator) Middleware(t TB, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v.HostedPage(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		var reqBody []byte
		if r.Body != nil {
			b, err := io.ReadAll(r.Body)
			r.Body.Close()
			if err != nil {
				// A client that breaks off; the server sees the same.
				r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), errReader{err}))
			} else {
				r.Body = newBody(b)
			}
			reqBody = b
		}
		// The handler may change the request (gin reuses it): validate a copy.
		orig := r.Clone(r.Context())
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		v.check(t, orig, reqBody, rec.status, rec.Header().Clone(), rec.body.Bytes())
	})
}

// Transport wraps a client's transport for tests against a server not
// built with Middleware; the same rules apply.
func (v *Validator) Transport(t TB, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		var reqBody []byte
		if r.Body != nil {
			b, err := io.ReadAll(r.Body)
			r.Body.Close()
			if err != nil {
				return nil, err
			}
			reqBody = b
			r = r.Clone(r.Context())
			r.Body = newBody(b)
		}
		res, err := next.RoundTrip(r)
		if err != nil || v.HostedPage(r.URL.Path) {
			return res, err
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return nil, err
		}
		res.Body = newBody(b)
		v.check(t, r, reqBody, res.StatusCode, res.Header, b)
		return res, nil
	})
}

func (v *Validator) check(t TB, r *http.Request, reqBody []byte, status int, header http.Header, body []byte) {
	t.Helper()
	if err := v.ValidateResponse(withBody(r, reqBody), status, header, body); err != nil {
		t.Errorf("openapi: %v", err)
	}
	if status >= 200 && status < 300 && v.HasOperation(r) {
		if err := v.ValidateRequest(withBody(r, reqBody)); err != nil {
			t.Errorf("openapi: %v", err)
		}
	}
}

func withBody(r *http.Request, b []byte) *http.Request {
	c := r.Clone(r.Context())
	c.Body = newBody(b)
	c.ContentLength = int64(len(b))
	return c
}

func newBody(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// recorder passes a response through while keeping a copy.
type recorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
