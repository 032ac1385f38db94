package hosted

// Limits the HTTP-level tests (package hosted_test) check against.
const (
	FlowCookiePrefix = flowCookiePrefix
	MaxFlowCookies   = maxFlowCookies
	MaxFlowCookieLen = maxFlowCookieLen
	PageCookie       = pageCookie
	PreCookie        = preCookie
)
