package hosted

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// pruneFlowCookies makes room for one more flow cookie: it clears the
// browser's unreadable or expired flow cookies and, of the live ones, the
// oldest beyond maxFlowCookies-1.
func (s *Server) pruneFlowCookies(c *gin.Context) {
	type live struct {
		name    string
		expires time.Time
	}
	var flows []live
	clear := func(name string) {
		http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: "", Path: flowCookiePath, MaxAge: -1,
			HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode})
	}
	for _, ck := range c.Request.Cookies() {
		if !strings.HasPrefix(ck.Name, flowCookiePrefix) {
			continue
		}
		var fs flowState
		if len(ck.Value) > maxFlowCookieLen || s.flow.Open(ck.Value, "flow-cookie", &fs) != nil ||
			flowCookiePrefix+fs.ID != ck.Name || s.now().After(fs.Expires) {
			clear(ck.Name)
			continue
		}
		flows = append(flows, live{ck.Name, fs.Expires})
	}
	slices.SortFunc(flows, func(a, b live) int { return a.expires.Compare(b.expires) })
	for len(flows) > maxFlowCookies-1 {
		clear(flows[0].name)
		flows = flows[1:]
	}
}
