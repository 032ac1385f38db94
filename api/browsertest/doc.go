// Package browsertest drives unilogin's hosted sign-in and account pages in
// a real, headless Chromium (chromedp): sign-up, password and GitHub
// sign-in, linking and unlinking, revoking a session and a keyboard-only
// sign-in, each ending at a small test app that redeems the code.
//
// The tests need /usr/bin/chromium (Debian package "chromium"). Without it
// they skip with a loud message, unless UNILOGIN_REQUIRE_BROWSER=1, which
// makes a missing browser a failure (CI installs it: .ci/run). Every
// scenario saves a screenshot under testdata/output/ (git-ignored).
//
// The package holds tests only.
package browsertest
