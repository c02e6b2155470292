// app_harness.js runs the demo page's scripts (argv[2] = wssgate.js, argv[3] =
// app.js) in Node over a minimal fake DOM, a scripted fake WebSocket and fetch,
// and exits non-zero on the first failed check. Run by TestDemoPageBehavior.
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const vm = require("node:vm");

class FakeElement {
  constructor(tagName, id) {
    this.tagName = tagName.toUpperCase();
    this.id = id || "";
    this.children = [];
    this.parentNode = null;
    this.text = "";
    this.dataset = {};
    this.listeners = {};
    this.value = "";
    this.hidden = false;
    this.scrollTop = 0;
    this.clientHeight = 0;
  }
  get textContent() {
    return this.text + this.children.map((c) => c.textContent).join(" ");
  }
  set textContent(v) {
    this.text = String(v);
    this.children = [];
  }
  get scrollHeight() {
    return this.children.length;
  }
  get firstElementChild() {
    return this.children[0] || null;
  }
  appendChild(child) {
    child.parentNode = this;
    this.children.push(child);
    return child;
  }
  removeChild(child) {
    this.children.splice(this.children.indexOf(child), 1);
    child.parentNode = null;
    return child;
  }
  addEventListener(type, fn) {
    (this.listeners[type] = this.listeners[type] || []).push(fn);
  }
  dispatch(type, ev) {
    for (const fn of this.listeners[type] || []) fn(Object.assign({ target: this }, ev));
  }
  closest(selector) {
    for (let el = this; el; el = el.parentNode) if (el.tagName === selector.toUpperCase()) return el;
    return null;
  }
  focus() {}
}

const ids = ["status", "notice", "messages", "device-id", "command", "send-command", "command-result", "endpoints", "device-example", "device-wscat"];
const elements = Object.fromEntries(ids.map((id) => [id, new FakeElement("div", id)]));
elements.command.value = '{"led":"on"}';
elements.status.text = "connecting";

class FakeSocket {
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    FakeSocket.all.push(this);
  }
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  close() {
    this.readyState = 3;
  }
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

const wellKnown = {
  app_url: "https://gw.example:8443/",
  app_ws_url: "wss://gw.example:8443/ws",
  device_ws_url: "wss://gw.example:9443/device",
};

const sandbox = {
  console,
  setTimeout,
  clearTimeout,
  URL,
  AbortController,
  Promise,
  atob,
  btoa,
  JSON,
  Date,
  WebSocket: FakeSocket,
  location: new URL("https://gw.example:8443/"),
  fetch: async () => ({ ok: true, json: async () => wellKnown }),
  document: {
    currentScript: null,
    getElementById: (id) => elements[id] || null,
    createElement: (tag) => new FakeElement(tag),
  },
};
sandbox.window = sandbox;
vm.createContext(sandbox);
for (const file of process.argv.slice(2)) {
  vm.runInContext(fs.readFileSync(file, "utf8"), sandbox, { filename: file });
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

const $ = (id) => elements[id];

async function until(check, what) {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail("timed out waiting for " + what);
}

(async () => {
  await until(() => FakeSocket.all.length === 1, "the first socket");
  const ws = FakeSocket.all[0];
  assert.equal(ws.url, "wss://gw.example:8443/ws");
  assert.equal($("status").textContent, "connecting");
  ws.open();
  const sub = ws.lastSent();
  assert.deepEqual({ type: sub.type, channel: sub.channel }, { type: "subscribe", channel: "devices/+/up" });
  ws.reply({ type: "ack", id: sub.id });
  await settle();
  assert.equal($("status").textContent, "connected");
  assert.equal($("status").dataset.state, "connected");
  console.log("ok   status connected after subscribe ack");

  assert.match($("endpoints").textContent, /wss:\/\/gw\.example:9443\/device/);
  assert.equal($("device-example").textContent, "wss://gw.example:9443/device?device_id=demo-1");
  console.log("ok   endpoints and device example");

  ws.reply({ type: "message", channel: "devices/sensor-7/up", data: { t: 21.5 } });
  ws.reply({ type: "message", channel: "devices/other/up", data_base64: "AAEC" });
  const list = $("messages");
  assert.equal(list.children.length, 2);
  assert.match(list.children[0].textContent, /devices\/sensor-7\/up/);
  assert.match(list.children[0].textContent, /\{"t":21\.5\}/);
  assert.match(list.children[1].textContent, /binary/);
  assert.match(list.children[1].textContent, /AAEC/);
  assert.equal($("device-id").value, "sensor-7", "first device fills the empty device id");
  console.log("ok   messages listed");

  list.dispatch("click", { target: list.children[1].children[1] });
  assert.equal($("device-id").value, "other");
  console.log("ok   click picks the device");

  $("send-command").dispatch("click", {});
  const pub = ws.lastSent();
  assert.deepEqual(
    { type: pub.type, channel: pub.channel, data: pub.data },
    { type: "publish", channel: "devices/other/down", data: { led: "on" } }
  );
  ws.reply({ type: "ack", id: pub.id, reached: 1 });
  await settle();
  assert.equal($("command-result").textContent, "sent (reached 1)");
  console.log("ok   send command as JSON");

  $("command").value = "reboot now";
  $("send-command").dispatch("click", {});
  const text = ws.lastSent();
  assert.equal(text.data, "reboot now");
  ws.reply({ type: "error", id: text.id, code: "forbidden", message: "publish to devices/other/down not allowed" });
  await settle();
  assert.match($("command-result").textContent, /^error: forbidden: /);
  console.log("ok   send command as text, error shown");

  for (let i = 0; i < 250; i++) ws.reply({ type: "message", channel: "devices/d/up", data: "m" + i });
  assert.equal(list.children.length, 200);
  assert.match(list.children[199].textContent, /m249/);
  console.log("ok   list bounded to 200");

  ws.drop(1001);
  assert.equal($("status").textContent, "disconnected");
  console.log("ok   status disconnected");
  sandbox.wssgateDemo.gw.close();
})().catch((err) => {
  console.log("FAIL " + (err && err.stack ? err.stack : err));
  process.exit(1);
});
