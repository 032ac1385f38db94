package api

// Internal limits the HTTP-level tests (package api_test) check against.
const (
	FlowCookiePrefix = flowCookiePrefix
	MaxAppState      = maxAppState
	MaxFlowCookies   = maxFlowCookies
	MaxFlowCookieLen = maxFlowCookieLen
	PageCookie       = pageCookie
	PreCookie        = preCookie
)
