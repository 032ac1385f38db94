package api

// Limits the HTTP-level tests (package api_test) check against. The
// browser flow's are api/hosted's (flow.go, pagesession.go), repeated
// here while its HTTP-level tests still run in this package.
const (
	FlowCookiePrefix = "unilogin_flow_"
	MaxFlowCookies   = 4
	MaxFlowCookieLen = 2048
	PageCookie       = "unilogin_page"
	PreCookie        = "unilogin_pre"
)
