/*
 * wssgate.js: a small, dependency-free browser client for the wssgate gateway.
 *
 *   const gw = new WSSGate({ onState: (state) => console.log(state) });
 *   gw.subscribe("devices/+/up", (msg) => console.log(msg.channel, msg.data));
 *   gw.publish("devices/42/down", { led: "on" }).then((ack) => console.log(ack.reached));
 *
 * Without a url option the client reads the gateway's endpoints from
 * /.well-known/wssgate (app_ws_url); if that fails it derives a wss: URL from
 * the origin this script was loaded from. It never builds an unencrypted URL.
 *
 * States: "connecting", "connected" (socket open and every active subscription
 * acknowledged or refused), "disconnected". The client reconnects with
 * exponential backoff and full jitter and subscribes again to every active
 * pattern. Errors carry a .code: the server's (bad_request, forbidden,
 * not_found, too_large, internal, unauthenticated) or the client's (timeout,
 * disconnected, closed).
 *
 * Tokens (app.auth.mode jwt): pass {token: "<JWT>"} or a provider, e.g.
 *
 *   new WSSGate({ token: () => fetch("/my-token").then((r) => r.text()) });
 *
 * The provider is called before every connection (the token goes as ?token=, the one
 * way a browser WebSocket can carry it), and again before the token expires: the client
 * reads the JWT's exp and sends {"type":"refresh","token":...} 30 s (or 10 % of the
 * remaining lifetime, if shorter) before it, so that the gateway does not close the
 * session with 4003 "token expired". A refused refresh is reported to onError; the
 * gateway then closes at expiry and the client reconnects with a fresh token.
 *
 * Served by the gateway at /wssgate.js; a classic script that defines window.WSSGate.
 */
(function (root) {
  "use strict";

  const WELL_KNOWN_PATH = "/.well-known/wssgate";
  const WS_PATH = "/ws";
  const OPEN = 1; // WebSocket.OPEN
  const DEFAULTS = {
    url: null, // wss: URL of the gateway's /ws endpoint, or a path on the script's host
    onState: null, // function (state) called on every state change
    onError: null, // function (err) for errors no promise reports (bad frames, handler throws)
    requestTimeout: 10000, // ms without a reply before a request rejects with "timeout"
    backoffMin: 500, // ms, cap of the first reconnect delay
    backoffMax: 30000, // ms, cap of every reconnect delay
    stableAfter: 10000, // ms a connection must stay open to reset the backoff
    fetchTimeout: 5000, // ms for the /.well-known/wssgate lookup
    token: null, // a JWT string, or a function returning one (or a promise of one)
    refreshLead: 30000, // ms before exp to refresh (at most 10 % of the remaining lifetime)
  };

  // The origin the script came from: the gateway, even when a page on another origin includes it.
  const base = (function () {
    try {
      const script = root.document && root.document.currentScript;
      if (script && script.src) return new URL(script.src);
      if (root.location && root.location.host) return new URL(root.location.href);
    } catch (_) {
      // No usable origin: a url option is required.
    }
    return null;
  })();

  function gatewayError(code, message, fromServer) {
    const err = new Error(message);
    err.code = code;
    err.fromServer = Boolean(fromServer);
    return err;
  }

  function derivedURL() {
    if (!base) throw gatewayError("bad_request", "wssgate: no url option and no page origin");
    return "wss://" + base.host + WS_PATH;
  }

  function absoluteURL(url) {
    if (url.charAt(0) === "/" && base) return "wss://" + base.host + url;
    return url;
  }

  // matches reports whether an MQTT-style pattern ("+" one level, "#" the rest) matches channel.
  function matches(pattern, channel) {
    const p = pattern.split("/");
    const c = channel.split("/");
    for (let i = 0; i < p.length; i++) {
      if (p[i] === "#") return true;
      if (i >= c.length || (p[i] !== "+" && p[i] !== c[i])) return false;
    }
    return p.length === c.length;
  }

  function toBytes(value) {
    if (value instanceof Uint8Array) return value;
    if (value instanceof ArrayBuffer) return new Uint8Array(value);
    if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return null;
  }

  function toBase64(bytes) {
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return root.btoa(s);
  }

  function fromBase64(text) {
    const s = root.atob(text);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }

  // tokenExpiry returns a JWT's exp in ms since the epoch, or null (not a JWT, no exp).
  function tokenExpiry(token) {
    const parts = String(token).split(".");
    if (parts.length !== 3) return null;
    try {
      const b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
      const claims = JSON.parse(root.atob(b64 + "===".slice((b64.length + 3) % 4)));
      return typeof claims.exp === "number" ? claims.exp * 1000 : null;
    } catch (_) {
      return null;
    }
  }

  function withToken(url, token) {
    return url + (url.indexOf("?") < 0 ? "?" : "&") + "token=" + encodeURIComponent(token);
  }

  class WSSGate {
    /** Creates a client and starts connecting (in a microtask, so onState may use the result). */
    constructor(opts) {
      this._opts = Object.assign({}, DEFAULTS, opts || {});
      this.state = "connecting";
      this.url = null; // the URL of the current or last connection attempt
      this._subs = new Map(); // pattern -> {pattern, handler, waiters}
      this._pending = new Map(); // request id -> {resolve, reject, timer}
      this._readyWaiters = [];
      this._nextId = 1;
      this._ws = null;
      this._gen = 0; // bumped per attempt; stale attempts and sockets are ignored
      this._attempt = 0;
      this._retryTimer = null;
      this._stableTimer = null;
      this._refreshTimer = null;
      this._closed = false;
      this._onOnline = () => this._retryNow();
      if (typeof root.addEventListener === "function") root.addEventListener("online", this._onOnline);
      Promise.resolve().then(() => {
        this._emitState();
        this._open();
      });
    }

    /** Same as new WSSGate(opts). */
    static connect(opts) {
      return new WSSGate(opts);
    }

    /** Resolves with the client once it is "connected"; rejects if it is closed first. */
    ready() {
      if (this._closed) return Promise.reject(gatewayError("closed", "wssgate: client closed"));
      if (this.state === "connected") return Promise.resolve(this);
      return new Promise((resolve, reject) => this._readyWaiters.push({ resolve, reject }));
    }

    /**
     * Subscribes handler to pattern (one handler per pattern; a second call replaces it).
     * handler(msg) gets {channel, data?, data_base64?, binary, bytes?}. Resolves with the
     * ack; rejects with the server's error (the subscription is then dropped), or with
     * "timeout"/"disconnected" (the subscription stays active and is sent again on reconnect).
     */
    subscribe(pattern, handler) {
      if (typeof pattern !== "string" || pattern === "") {
        return Promise.reject(gatewayError("bad_request", "wssgate: pattern must be a non-empty string"));
      }
      if (typeof handler !== "function") {
        return Promise.reject(gatewayError("bad_request", "wssgate: handler must be a function"));
      }
      if (this._closed) return Promise.reject(gatewayError("closed", "wssgate: client closed"));
      const sub = { pattern, handler, waiters: [] };
      this._subs.set(pattern, sub);
      if (this._isOpen()) return this._sendSubscribe(sub);
      return new Promise((resolve, reject) => sub.waiters.push({ resolve, reject }));
    }

    /** Drops the subscription; resolves with the server's ack, or null when not connected. */
    unsubscribe(pattern) {
      const sub = this._subs.get(pattern);
      this._subs.delete(pattern);
      if (sub) this._settle(sub.waiters.splice(0), null, gatewayError("closed", "wssgate: unsubscribed"));
      if (!this._isOpen()) return Promise.resolve(null);
      return this._request("unsubscribe", { channel: pattern });
    }

    /**
     * Publishes data (any JSON value) to channel, or, with {binary: Uint8Array|ArrayBuffer},
     * those bytes. Resolves with the ack ({type, id, reached}); rejects when not connected.
     */
    publish(channel, data, opts) {
      if (typeof channel !== "string" || channel === "") {
        return Promise.reject(gatewayError("bad_request", "wssgate: channel must be a non-empty string"));
      }
      const fields = { channel };
      const binary = opts && opts.binary;
      if (binary !== undefined && binary !== null) {
        const bytes = toBytes(binary);
        if (!bytes) return Promise.reject(gatewayError("bad_request", "wssgate: binary must be a Uint8Array or ArrayBuffer"));
        fields.data_base64 = toBase64(bytes);
      } else if (data === undefined) {
        return Promise.reject(gatewayError("bad_request", "wssgate: publish needs data or {binary}"));
      } else {
        fields.data = data;
      }
      return this._request("publish", fields);
    }

    /** Closes the connection for good: no reconnect; pending requests reject with "closed". */
    close() {
      if (this._closed) return;
      this._closed = true;
      this._gen++;
      clearTimeout(this._retryTimer);
      clearTimeout(this._stableTimer);
      clearTimeout(this._refreshTimer);
      if (typeof root.removeEventListener === "function") root.removeEventListener("online", this._onOnline);
      const ws = this._ws;
      this._ws = null;
      const err = gatewayError("closed", "wssgate: client closed");
      this._rejectPending(err);
      for (const sub of this._subs.values()) this._settle(sub.waiters.splice(0), null, err);
      this._settle(this._readyWaiters.splice(0), null, err);
      if (ws) {
        try {
          ws.close(1000, "client closed");
        } catch (_) {
          // Already closing.
        }
      }
      this._setState("disconnected");
    }

    async _open() {
      if (this._closed) return;
      const gen = ++this._gen;
      this._setState("connecting");
      let url, token;
      try {
        url = await this._resolveURL();
        token = await this._token();
      } catch (err) {
        url = null;
        this._report(err);
      }
      if (this._closed || gen !== this._gen) return;
      let ws = null;
      if (url) {
        this.url = url; // never with the token
        try {
          ws = new root.WebSocket(token ? withToken(url, token) : url);
        } catch (err) {
          this._report(err);
        }
      }
      if (!ws) {
        this._setState("disconnected");
        this._scheduleRetry();
        return;
      }
      this._ws = ws;
      ws.onopen = () => {
        if (ws !== this._ws) return;
        this._scheduleRefresh(token);
        this._onOpen(ws);
      };
      ws.onmessage = (ev) => ws === this._ws && this._onFrame(ev.data);
      ws.onclose = (ev) => ws === this._ws && this._onClose(ev);
      ws.onerror = () => {}; // onclose follows and reports
    }

    async _resolveURL() {
      const o = this._opts;
      if (o.url) return absoluteURL(String(o.url));
      if (base && typeof root.fetch === "function") {
        const ctl = typeof AbortController === "function" ? new AbortController() : null;
        const timer = ctl ? setTimeout(() => ctl.abort(), o.fetchTimeout) : null;
        try {
          const res = await root.fetch(new URL(WELL_KNOWN_PATH, base).href, {
            cache: "no-store",
            signal: ctl ? ctl.signal : undefined,
          });
          if (res.ok) {
            const info = await res.json();
            if (info && typeof info.app_ws_url === "string" && /^wss:/i.test(info.app_ws_url)) return info.app_ws_url;
          }
        } catch (_) {
          // Fall back to the derived URL.
        } finally {
          clearTimeout(timer);
        }
      }
      return derivedURL();
    }

    // _token calls the token option: null without one.
    async _token() {
      const t = this._opts.token;
      if (t === null || t === undefined) return null;
      const v = typeof t === "function" ? await t() : t;
      if (typeof v !== "string" || v.trim() === "") throw gatewayError("unauthenticated", "wssgate: the token provider gave no token");
      return v.trim();
    }

    // _scheduleRefresh arms the refresh of token before its exp, if it has one.
    _scheduleRefresh(token) {
      clearTimeout(this._refreshTimer);
      this._refreshTimer = null;
      const exp = token ? tokenExpiry(token) : null;
      if (exp === null) return;
      const left = exp - Date.now();
      const lead = Math.min(this._opts.refreshLead, left / 10);
      this._refreshTimer = setTimeout(() => this._refresh(), Math.max(0, left - lead));
    }

    async _refresh() {
      this._refreshTimer = null;
      const ws = this._ws;
      try {
        const token = await this._token();
        if (ws !== this._ws || !this._isOpen()) return;
        await this._request("refresh", { token });
        if (ws === this._ws) this._scheduleRefresh(token);
      } catch (err) {
        this._report(err); // the gateway closes at expiry; the reconnect asks for a new token
      }
    }

    _onOpen(ws) {
      clearTimeout(this._stableTimer);
      this._stableTimer = setTimeout(() => {
        this._attempt = 0;
      }, this._opts.stableAfter);
      const acks = [];
      for (const sub of this._subs.values()) acks.push(this._sendSubscribe(sub));
      Promise.allSettled(acks).then(() => {
        if (ws === this._ws && ws.readyState === OPEN) this._setState("connected");
      });
    }

    _onClose(ev) {
      clearTimeout(this._stableTimer);
      clearTimeout(this._refreshTimer);
      this._refreshTimer = null;
      this._ws = null;
      const why = ev && ev.code ? " (code " + ev.code + (ev.reason ? ": " + ev.reason : "") + ")" : "";
      this._rejectPending(gatewayError("disconnected", "wssgate: connection closed" + why));
      this._setState("disconnected");
      this._scheduleRetry();
    }

    _scheduleRetry() {
      if (this._closed) return;
      const o = this._opts;
      const cap = Math.min(o.backoffMax, o.backoffMin * Math.pow(2, Math.min(this._attempt, 30)));
      this._attempt++;
      clearTimeout(this._retryTimer);
      this._retryTimer = setTimeout(() => {
        this._retryTimer = null;
        this._open();
      }, Math.random() * cap);
    }

    _retryNow() {
      if (this._closed || this._retryTimer === null) return;
      clearTimeout(this._retryTimer);
      this._retryTimer = null;
      this._open();
    }

    _onFrame(data) {
      if (typeof data !== "string") return; // the gateway only sends JSON text frames
      let msg;
      try {
        msg = JSON.parse(data);
      } catch (err) {
        this._report(err);
        return;
      }
      if (!msg || typeof msg !== "object") return;
      const pending = msg.id ? this._pending.get(msg.id) : undefined;
      if (msg.type === "message") {
        this._dispatch(msg);
      } else if (pending && (msg.type === "ack" || msg.type === "error")) {
        this._pending.delete(msg.id);
        clearTimeout(pending.timer);
        if (msg.type === "ack") pending.resolve(msg);
        else pending.reject(gatewayError(msg.code || "internal", msg.message || "wssgate: request failed", true));
      } else if (msg.type === "error") {
        this._report(gatewayError(msg.code || "internal", msg.message || "wssgate: error", true));
      }
    }

    _dispatch(msg) {
      if (typeof msg.channel !== "string") return;
      const out = { channel: msg.channel, binary: false };
      if (typeof msg.data_base64 === "string") {
        out.binary = true;
        out.data_base64 = msg.data_base64;
        try {
          out.bytes = fromBase64(msg.data_base64);
        } catch (err) {
          this._report(err);
        }
      } else {
        out.data = msg.data;
      }
      for (const sub of this._subs.values()) {
        if (!matches(sub.pattern, msg.channel)) continue;
        try {
          sub.handler(out);
        } catch (err) {
          this._report(err);
        }
      }
    }

    _sendSubscribe(sub) {
      const waiters = sub.waiters.splice(0);
      const p = this._request("subscribe", { channel: sub.pattern });
      p.then(
        (ack) => this._settle(waiters, ack, null),
        (err) => {
          if (err.fromServer && this._subs.get(sub.pattern) === sub) this._subs.delete(sub.pattern);
          this._settle(waiters, null, err);
        }
      );
      return p;
    }

    _request(type, fields) {
      const ws = this._ws;
      if (!ws || ws.readyState !== OPEN) {
        return Promise.reject(gatewayError(this._closed ? "closed" : "disconnected", "wssgate: not connected"));
      }
      const id = this._nextId++;
      const frame = Object.assign({ type, id }, fields);
      const ms = this._opts.requestTimeout;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          this._pending.delete(id);
          reject(gatewayError("timeout", "wssgate: no reply to " + type + " " + id + " within " + ms + " ms"));
        }, ms);
        this._pending.set(id, { resolve, reject, timer });
        try {
          ws.send(JSON.stringify(frame));
        } catch (err) {
          clearTimeout(timer);
          this._pending.delete(id);
          reject(gatewayError("disconnected", "wssgate: send " + type + ": " + err.message));
        }
      });
    }

    _rejectPending(err) {
      const pending = Array.from(this._pending.values());
      this._pending.clear();
      for (const p of pending) {
        clearTimeout(p.timer);
        p.reject(err);
      }
    }

    _settle(waiters, value, err) {
      for (const w of waiters) {
        if (err) w.reject(err);
        else w.resolve(value);
      }
    }

    _isOpen() {
      return Boolean(this._ws) && this._ws.readyState === OPEN;
    }

    _setState(state) {
      if (this.state === state) return;
      this.state = state;
      this._emitState();
      if (state === "connected") this._settle(this._readyWaiters.splice(0), this, null);
    }

    _emitState() {
      if (typeof this._opts.onState !== "function") return;
      try {
        this._opts.onState(this.state);
      } catch (err) {
        this._report(err);
      }
    }

    _report(err) {
      if (typeof this._opts.onError === "function") {
        try {
          this._opts.onError(err);
        } catch (_) {
          // Nothing left to report to.
        }
      } else if (root.console) {
        root.console.warn(err);
      }
    }
  }

  WSSGate.matches = matches;
  root.WSSGate = WSSGate;
})(typeof window !== "undefined" ? window : globalThis);
