// Package mail owns outgoing e-mail: composing a message from the shared
// templates with the hosted pages' branding (a text/plain part with every
// link alone on a line, and an HTML part), rendering it as an RFC 5322
// multipart/alternative message, and delivering it.
//
// Delivery goes through a small persistent queue (QueueStore, implemented by
// the accounts store backends), so a mail server outage delays mail instead
// of losing it or failing the request that sent it: Queue.Enqueue is one
// durable write, and a Worker delivers in the background with retries and
// capped exponential backoff until a message is delivered or too old. Several
// instances may run workers on one database; a lease taken by one atomic
// store operation makes one instance deliver each message. The queue also
// bounds how many messages one address may receive per window, so it cannot
// be used to flood an inbox.
//
// A Sender is the last hop: SMTP (STARTTLS, implicit TLS, or plain to a
// loopback host; SMTP AUTH; dial and command timeouts) through
// github.com/wneessen/go-mail, or an outbox directory holding one .eml file
// per message for development. Neither ever logs a message body, so links
// and tokens stay out of the logs.
//
// The package does NOT generate or check tokens, nor decide who gets which
// message: the account flows do that and hand it finished links.
package mail
