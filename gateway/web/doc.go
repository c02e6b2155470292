// Package web serves the gateway's built-in browser assets: the demo page at "/"
// (index.html with app.js and app.css) and the browser client at "/wssgate.js".
//
// All assets are embedded at build time and never change at run time, so the
// handlers hold no mutable state: every exported function and every handler they
// return is safe for concurrent use by any number of goroutines.
//
// The assets contain no unencrypted URL: the client reads the gateway's endpoints
// from /.well-known/wssgate or derives a wss: URL from the page's origin.
package web
