// client_harness.js runs wssgate.js (argv[2]) in Node against a scripted fake
// WebSocket and fetch, and exits non-zero on the first failed check.
// Run by TestClientBehavior: node testdata/client_harness.js static/wssgate.js
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const vm = require("node:vm");

const source = fs.readFileSync(process.argv[2], "utf8");

// FakeSocket records sent frames; the test plays the server through it.
class FakeSocket {
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
    FakeSocket.all.push(this);
    for (const w of FakeSocket.waiters.splice(0)) w(this);
  }
  send(text) {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(JSON.parse(text));
  }
  close(code, reason) {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }
  // server side
  open() {
    this.readyState = 1;
    this.onopen({});
  }
  reply(frame) {
    this.onmessage({ data: JSON.stringify(frame) });
  }
  drop(code) {
    this.readyState = 3;
    this.onclose({ code, reason: "" });
  }
  lastSent() {
    return this.sent[this.sent.length - 1];
  }
}
FakeSocket.all = [];
FakeSocket.waiters = [];

function nextSocket() {
  return new Promise((resolve) => FakeSocket.waiters.push(resolve));
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

let wellKnown = null; // object to serve, or null for a network error
let fetched = [];

function load() {
  const sandbox = {
    console,
    setTimeout,
    clearTimeout,
    URL,
    AbortController,
    Promise,
    atob,
    btoa,
    WebSocket: FakeSocket,
    location: new URL("https://gw.example:8443/demo/page"),
    fetch: async (url) => {
      fetched.push(url);
      if (!wellKnown) throw new TypeError("network error");
      return { ok: true, json: async () => wellKnown };
    },
  };
  sandbox.window = sandbox;
  vm.createContext(sandbox);
  vm.runInContext(source, sandbox, { filename: "wssgate.js" });
  return sandbox.WSSGate;
}

const WSSGate = load();
const fast = { requestTimeout: 2000, backoffMin: 5, backoffMax: 20, stableAfter: 10000, onError: () => {} };

async function connected(opts) {
  const states = [];
  const sock = nextSocket();
  const gw = new WSSGate(Object.assign({}, fast, opts, { onState: (s) => states.push(s) }));
  const ws = await sock;
  ws.open();
  await tick();
  return { gw, ws, states };
}

const tests = {
  async "url from well-known"() {
    wellKnown = { app_ws_url: "wss://gw.example:8443/ws", device_ws_url: "wss://gw.example:9443/device" };
    fetched = [];
    const { gw, ws, states } = await connected({});
    assert.equal(fetched[0], "https://gw.example:8443/.well-known/wssgate");
    assert.equal(ws.url, "wss://gw.example:8443/ws");
    assert.deepEqual(states, ["connecting", "connected"]);
    assert.equal(gw.state, "connected");
    gw.close();
    assert.equal(gw.state, "disconnected");
    assert.equal(ws.closedWith.code, 1000);
  },

  async "url derived when well-known fails"() {
    wellKnown = null;
    const { gw, ws } = await connected({});
    assert.equal(ws.url, "wss://gw.example:8443/ws");
    gw.close();
  },

  async "url option, relative path"() {
    fetched = [];
    const { gw, ws } = await connected({ url: "/custom/ws" });
    assert.equal(ws.url, "wss://gw.example:8443/custom/ws");
    assert.equal(fetched.length, 0);
    gw.close();
  },

  async "subscribe, ack and messages"() {
    const { gw, ws } = await connected({ url: "wss://h/ws" });
    const got = [];
    const p = gw.subscribe("devices/+/up", (m) => got.push(m));
    const frame = ws.lastSent();
    assert.deepEqual(frame, { type: "subscribe", id: frame.id, channel: "devices/+/up" });
    ws.reply({ type: "ack", id: frame.id });
    assert.equal((await p).id, frame.id);
    ws.reply({ type: "message", channel: "devices/42/up", data: { t: 21.5 } });
    ws.reply({ type: "message", channel: "devices/42/up", data: "plain" });
    ws.reply({ type: "message", channel: "devices/42/up", data_base64: "AAEC" });
    ws.reply({ type: "message", channel: "other/42/up", data: 1 });
    assert.equal(got.length, 3);
    // got[0] comes from the vm realm: compare its JSON.
    assert.deepEqual(JSON.parse(JSON.stringify(got[0])), { channel: "devices/42/up", binary: false, data: { t: 21.5 } });
    assert.equal(got[1].data, "plain");
    assert.equal(got[2].binary, true);
    assert.equal(got[2].data_base64, "AAEC");
    assert.deepEqual(Array.from(got[2].bytes), [0, 1, 2]);
    gw.close();
  },

  async "subscribe before connect is sent on open"() {
    const sock = nextSocket();
    const gw = new WSSGate(Object.assign({}, fast, { url: "wss://h/ws" }));
    const p = gw.subscribe("devices/#", () => {});
    const ws = await sock;
    ws.open();
    const frame = ws.lastSent();
    assert.equal(frame.type, "subscribe");
    assert.equal(frame.channel, "devices/#");
    assert.equal(gw.state, "connecting", "connected only after the subscription is acked");
    ws.reply({ type: "ack", id: frame.id });
    await p;
    await tick();
    assert.equal(gw.state, "connected");
    gw.close();
  },

  async "publish json and binary"() {
    const { gw, ws } = await connected({ url: "wss://h/ws" });
    const p1 = gw.publish("devices/42/down", { led: "on" });
    const f1 = ws.lastSent();
    assert.deepEqual(f1, { type: "publish", id: f1.id, channel: "devices/42/down", data: { led: "on" } });
    ws.reply({ type: "ack", id: f1.id, reached: 1 });
    assert.equal((await p1).reached, 1);
    const p2 = gw.publish("devices/42/down", null, { binary: new Uint8Array([0, 1, 2]) });
    const f2 = ws.lastSent();
    assert.equal(f2.data_base64, "AAEC");
    assert.equal("data" in f2, false);
    ws.reply({ type: "ack", id: f2.id, reached: 0 });
    assert.equal((await p2).reached, 0);
    gw.close();
  },

  async "error frame rejects with code"() {
    const { gw, ws } = await connected({ url: "wss://h/ws" });
    const p = gw.publish("secret/x", "hi");
    const f = ws.lastSent();
    ws.reply({ type: "error", id: f.id, code: "forbidden", message: "publish to secret/x not allowed" });
    await assert.rejects(p, (err) => err.code === "forbidden" && /not allowed/.test(err.message));
    const s = gw.subscribe("secret/#", () => {});
    ws.reply({ type: "error", id: ws.lastSent().id, code: "forbidden", message: "no" });
    await assert.rejects(s, { code: "forbidden" });
    gw.close();
  },

  async "request timeout"() {
    const { gw } = await connected({ url: "wss://h/ws", requestTimeout: 30 });
    await assert.rejects(gw.publish("devices/1/down", 1), { code: "timeout" });
    gw.close();
  },

  async "publish while disconnected rejects"() {
    const gw = new WSSGate(Object.assign({}, fast, { url: "wss://h/ws" }));
    await assert.rejects(gw.publish("devices/1/down", 1), { code: "disconnected" });
    gw.close();
    await assert.rejects(gw.publish("devices/1/down", 1), { code: "closed" });
  },

  async "disconnect rejects pending, reconnects and resubscribes"() {
    const { gw, ws, states } = await connected({ url: "wss://h/ws" });
    const sub = gw.subscribe("devices/+/up", () => {});
    ws.reply({ type: "ack", id: ws.lastSent().id });
    await sub;
    const refused = gw.subscribe("admin/#", () => {});
    ws.reply({ type: "error", id: ws.lastSent().id, code: "forbidden", message: "no" });
    await assert.rejects(refused, { code: "forbidden" });
    const pub = gw.publish("devices/1/down", "x");
    const next = nextSocket();
    ws.drop(1006);
    await assert.rejects(pub, { code: "disconnected" });
    assert.equal(gw.state, "disconnected");
    const ws2 = await next;
    ws2.open();
    const resub = ws2.sent.filter((f) => f.type === "subscribe").map((f) => f.channel);
    assert.deepEqual(resub, ["devices/+/up"], "only active, accepted patterns are resubscribed");
    ws2.reply({ type: "ack", id: ws2.lastSent().id });
    await tick();
    assert.deepEqual(states, ["connecting", "connected", "disconnected", "connecting", "connected"]);
    gw.close();
  },

  async "unsubscribe stops resubscribing"() {
    const { gw, ws } = await connected({ url: "wss://h/ws" });
    const got = [];
    const sub = gw.subscribe("devices/+/up", (m) => got.push(m));
    ws.reply({ type: "ack", id: ws.lastSent().id });
    await sub;
    const un = gw.unsubscribe("devices/+/up");
    const f = ws.lastSent();
    assert.deepEqual(f, { type: "unsubscribe", id: f.id, channel: "devices/+/up" });
    ws.reply({ type: "ack", id: f.id });
    await un;
    ws.reply({ type: "message", channel: "devices/1/up", data: 1 });
    assert.equal(got.length, 0);
    const next = nextSocket();
    ws.drop(1001);
    const ws2 = await next;
    ws2.open();
    assert.equal(ws2.sent.length, 0);
    gw.close();
  },

  async "close stops reconnecting"() {
    const { gw, ws } = await connected({ url: "wss://h/ws" });
    const before = FakeSocket.all.length;
    const pub = gw.publish("devices/1/down", 1);
    gw.close();
    await assert.rejects(pub, { code: "closed" });
    ws.drop(1000);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(FakeSocket.all.length, before);
    assert.equal(gw.state, "disconnected");
    await assert.rejects(gw.ready(), { code: "closed" });
  },

  async "token provider: before connecting, before expiry, on reconnect"() {
    const jwt = (ms, n) =>
      "e30." + Buffer.from(JSON.stringify({ sub: "alice", n, exp: (Date.now() + ms) / 1000 })).toString("base64url") + ".sig";
    let calls = 0;
    const provider = () => Promise.resolve(jwt(400, ++calls));
    const { gw, ws } = await connected({ url: "wss://h/ws", token: provider });
    assert.equal(calls, 1);
    assert.match(ws.url, /^wss:\/\/h\/ws\?token=e30\./);
    assert.equal(gw.url, "wss://h/ws", "the public url never carries the token");
    // ~40 ms before exp (10 % of 400 ms) the client asks for a token and refreshes.
    const deadline = Date.now() + 2000;
    while (!ws.sent.some((f) => f.type === "refresh") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const refresh = ws.sent.find((f) => f.type === "refresh");
    assert.ok(refresh, "no refresh sent before exp");
    assert.equal(calls, 2);
    assert.equal(JSON.parse(Buffer.from(refresh.token.split(".")[1], "base64url")).n, 2);
    ws.reply({ type: "ack", id: refresh.id });
    // A refused refresh is reported; the reconnect after 4003 calls the provider again.
    const next = nextSocket();
    ws.drop(4003);
    const ws2 = await next;
    assert.equal(calls >= 3, true);
    assert.match(ws2.url, /\?token=/);
    gw.close();
  },

  async "token provider failure is reported and retried"() {
    const errors = [];
    let calls = 0;
    const gw = new WSSGate(Object.assign({}, fast, {
      url: "wss://h/ws",
      onError: (e) => errors.push(e),
      token: () => (++calls === 1 ? Promise.reject(new Error("login first")) : "plain-token"),
    }));
    const ws = await nextSocket();
    assert.equal(errors[0].message, "login first");
    assert.equal(ws.url, "wss://h/ws?token=plain-token");
    gw.close();
  },

  async "pattern matching"() {
    const m = WSSGate.matches;
    assert.equal(m("devices/+/up", "devices/1/up"), true);
    assert.equal(m("devices/+/up", "devices/1/down"), false);
    assert.equal(m("devices/+/up", "devices/1/up/x"), false);
    assert.equal(m("devices/#", "devices/1/up"), true);
    assert.equal(m("devices/#", "devices"), true);
    assert.equal(m("#", "a/b"), true);
    assert.equal(m("a/b", "a"), false);
  },
};

(async () => {
  for (const [name, fn] of Object.entries(tests)) {
    try {
      await fn();
      console.log("ok   " + name);
    } catch (err) {
      console.log("FAIL " + name + "\n" + (err && err.stack ? err.stack : err));
      process.exit(1);
    }
  }
})();
