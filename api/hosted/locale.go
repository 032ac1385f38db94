package hosted

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/unilogin/unilogin/accounts/i18n"
)

// langCookie remembers, for the browser's visit, the language an app asked
// for with ui_locales, so that every page of the flow after /authorize
// (the forms' POSTs, the provider round trip, the account page) speaks it.
const langCookie = "unilogin_lang"

const localeKey = "hosted.locale"

// withLocale is the middleware of every hosted route: it picks the page
// language (negotiate) and puts it into the request context, so that mail
// sent by the request is written in it too.
func (s *Server) withLocale(c *gin.Context) {
	l := s.negotiate(c)
	c.Set(localeKey, l)
	c.Request = c.Request.WithContext(i18n.WithLocale(c.Request.Context(), l))
	c.Next()
}

// locale is the page language of the request.
func (s *Server) locale(c *gin.Context) *i18n.Locale {
	if l, ok := c.Value(localeKey).(*i18n.Locale); ok {
		return l
	}
	return s.negotiate(c)
}

// negotiate picks the page language: ui_locales of a GET (the app's wish,
// OpenID Connect Core §3.1.2.1; remembered in langCookie, or forgotten
// when it names no language the pages speak), else the remembered one,
// else Accept-Language, else English. /authorize without ui_locales
// forgets the remembered one: a new app's sign-in starts afresh.
func (s *Server) negotiate(c *gin.Context) *i18n.Locale {
	accept := c.GetHeader("Accept-Language")
	q := c.Request.URL.Query()
	if c.Request.Method == http.MethodGet && (q.Has("ui_locales") || c.Request.URL.Path == "/authorize") {
		if l, ok := i18n.UILocale(q.Get("ui_locales")); ok {
			s.setCookie(c, langCookie, l.Lang(), "/", 0)
			return l
		}
		if _, err := c.Request.Cookie(s.cookieName(langCookie)); err == nil {
			s.clearCookie(c, langCookie, "/")
		}
		return i18n.Negotiate("", accept)
	}
	if ck, err := c.Request.Cookie(s.cookieName(langCookie)); err == nil {
		if l, ok := i18n.Match(ck.Value); ok {
			return l
		}
	}
	return i18n.Negotiate("", accept)
}
