// Package web serves the gateway's browser assets: the built-in demo page at
// "/" (index.html with app.js and app.css), the browser client at
// "/wssgate.js", and, with Static, an operator's static_dir (through
// os.OpenRoot: no symlink escapes, no dotfiles, no directory listings).
//
// The embedded assets never change at run time, so their handlers hold no
// mutable state. A Static handler holds one open root directory for its
// lifetime and nothing else. Every exported function and every handler they
// return is safe for concurrent use by any number of goroutines; the
// package starts no goroutines.
//
// The assets contain no unencrypted URL: the client reads the gateway's endpoints
// from /.well-known/wssgate or derives a wss: URL from the page's origin.
package web
