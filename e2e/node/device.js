#!/usr/bin/env node
/*
 * device.js: a wssgate device written the way Node.js users write one, with
 * the npm "ws" package. It connects to the device port over TLS, verifying the
 * gateway's certificate (never rejectUnauthorized: false) against --ca, or
 * against Node's store plus NODE_EXTRA_CA_CERTS without it; it proves its
 * identity with a client certificate (--cert, --key), or in development mode
 * names itself in the URL (?device_id=). It sends one text and one binary
 * frame, waits for one command, prints it and exits.
 *
 *   node device.js --url wss://localhost:9443/device --ca ca.pem \
 *     --cert device.pem --key device-key.pem \
 *     [--text '{"t":21.5}'] [--binary-hex 00010203] [--timeout-ms 15000] \
 *     [--resolve socket.example=127.0.0.1]
 *   NODE_EXTRA_CA_CERTS=dev-ca.pem node device.js --url 'wss://localhost:9443/device?device_id=demo-1'
 *
 * Output (stdout, one line each): "open", "sent text", "sent binary",
 * "command: <text>" or "command (binary): <base64>".
 * Exit status: 0 a command arrived; 1 connection or TLS error (the line on
 * stderr starts with "tls error:" when the TLS handshake or the client
 * certificate was refused); 2 bad arguments; 3 closed before a command;
 * 4 timeout.
 */
"use strict";

const fs = require("fs");
const WebSocket = require("ws");

const USAGE =
  "usage: node device.js --url URL [--ca FILE] [--cert FILE --key FILE] [--text T] [--binary-hex H] [--timeout-ms N] [--resolve HOST=IP]";

function parseArgs(argv) {
  const opts = { text: '{"t":21.5}', binaryHex: "00010203", timeoutMs: 15000 };
  const names = { "--url": "url", "--ca": "ca", "--cert": "cert", "--key": "key", "--text": "text", "--binary-hex": "binaryHex", "--timeout-ms": "timeoutMs", "--resolve": "resolve" };
  for (let i = 0; i < argv.length; i += 2) {
    const name = names[argv[i]];
    if (!name || i + 1 >= argv.length) throw new Error("bad argument " + JSON.stringify(argv[i]));
    opts[name] = argv[i + 1];
  }
  if (!opts.url) throw new Error("missing --url");
  if (Boolean(opts.cert) !== Boolean(opts.key)) throw new Error("--cert and --key go together");
  opts.timeoutMs = Number(opts.timeoutMs);
  if (!(opts.timeoutMs > 0)) throw new Error("--timeout-ms must be a positive number");
  if (!/^([0-9a-fA-F]{2})*$/.test(opts.binaryHex)) throw new Error("--binary-hex must be hex digits");
  if (opts.resolve !== undefined && !/^[^=]+=[0-9.]+$/.test(opts.resolve)) throw new Error("--resolve must be HOST=IPv4");
  return opts;
}

// isTLSError reports whether err comes from the TLS layer: OpenSSL error codes
// (ERR_SSL_*, ERR_TLS_*), certificate verification codes, EPROTO, or a reset
// while the handshake was still in progress (TLS 1.3 servers verify the client
// certificate after the client has finished its side of the handshake).
function isTLSError(err, handshaking) {
  const code = String((err && err.code) || "");
  if (/^ERR_SSL_|^ERR_TLS_|CERT|^EPROTO$|^DEPTH_ZERO|^SELF_SIGNED|^UNABLE_TO/.test(code)) return true;
  if (/ssl|tls|alert|certificate/i.test(String(err && err.message))) return true;
  return handshaking && code === "ECONNRESET";
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error("device: " + err.message + "\n" + USAGE);
    process.exit(2);
  }

  let opened = false;
  let done = false;
  const finish = (status, line, stream) => {
    if (done) return;
    done = true;
    (stream || process.stdout).write(line + "\n", () => process.exit(status));
  };

  const tlsOptions = { handshakeTimeout: opts.timeoutMs };
  if (opts.ca) tlsOptions.ca = fs.readFileSync(opts.ca);
  if (opts.cert) {
    tlsOptions.cert = fs.readFileSync(opts.cert);
    tlsOptions.key = fs.readFileSync(opts.key);
  }
  if (opts.resolve) {
    // Like curl --resolve: HOST connects to IP; the URL (so SNI and the name
    // check) keeps HOST.
    const [host, ip] = opts.resolve.split("=");
    tlsOptions.lookup = (name, o, cb) => {
      if (name !== host) return require("dns").lookup(name, o, cb);
      return o && o.all ? cb(null, [{ address: ip, family: 4 }]) : cb(null, ip, 4);
    };
  }
  const ws = new WebSocket(opts.url, tlsOptions);
  const timer = setTimeout(() => finish(4, "device: no command within " + opts.timeoutMs + " ms", process.stderr), opts.timeoutMs);
  timer.unref();

  ws.on("open", () => {
    opened = true;
    console.log("open");
    ws.send(opts.text, (err) => err || console.log("sent text"));
    ws.send(Buffer.from(opts.binaryHex, "hex"), { binary: true }, (err) => err || console.log("sent binary"));
  });
  ws.on("message", (data, isBinary) => {
    const line = isBinary ? "command (binary): " + Buffer.from(data).toString("base64") : "command: " + data.toString("utf8");
    ws.close(1000, "done");
    finish(0, line);
  });
  ws.on("unexpected-response", (req, res) => {
    finish(1, "device: upgrade refused: HTTP " + res.statusCode, process.stderr);
  });
  ws.on("error", (err) => {
    const kind = isTLSError(err, !opened) ? "tls error" : "error";
    finish(1, kind + ": " + (err.code ? err.code + ": " : "") + err.message, process.stderr);
  });
  ws.on("close", (code, reason) => {
    finish(3, "device: closed " + code + " " + reason.toString("utf8") + " before a command", process.stderr);
  });
}

main();
