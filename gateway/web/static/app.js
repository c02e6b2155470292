/*
 * app.js: the wssgate demo page. Shows the connection state, lists device
 * messages from devices/+/up live and publishes commands to devices/<id>/down.
 * Uses only textContent (never innerHTML): payloads come from devices.
 */
(function () {
  "use strict";

  const MAX_MESSAGES = 200;
  const UP_PATTERN = "devices/+/up";
  const ENDPOINTS = [
    ["App page", "app_url"],
    ["App WebSocket", "app_ws_url"],
    ["Device WebSocket", "device_ws_url"],
  ];

  const byId = (id) => document.getElementById(id);
  const statusEl = byId("status");
  const noticeEl = byId("notice");
  const messagesEl = byId("messages");
  const deviceEl = byId("device-id");
  const commandEl = byId("command");
  const sendEl = byId("send-command");
  const resultEl = byId("command-result");
  const endpointsEl = byId("endpoints");
  const exampleEl = byId("device-example");
  const wscatEl = byId("device-wscat");

  function setStatus(state) {
    statusEl.textContent = state;
    statusEl.dataset.state = state;
  }

  function notice(text) {
    noticeEl.textContent = text;
    noticeEl.hidden = !text;
  }

  function span(className, text) {
    const el = document.createElement("span");
    el.className = className;
    el.textContent = text;
    return el;
  }

  function deviceOf(channel) {
    const parts = channel.split("/");
    return parts.length === 3 && parts[0] === "devices" ? parts[1] : "";
  }

  function payloadText(msg) {
    if (msg.binary) return msg.data_base64 || "";
    return typeof msg.data === "string" ? msg.data : JSON.stringify(msg.data);
  }

  function addMessage(msg) {
    const device = deviceOf(msg.channel);
    const li = document.createElement("li");
    li.dataset.channel = msg.channel;
    li.dataset.device = device;
    li.tabIndex = 0;
    li.title = device ? "Click to send commands to " + device : "";
    li.appendChild(span("time", new Date().toLocaleTimeString()));
    li.appendChild(span("channel", msg.channel));
    if (msg.binary) li.appendChild(span("badge", "binary"));
    const code = document.createElement("code");
    code.className = "payload";
    code.textContent = payloadText(msg);
    li.appendChild(code);

    const atBottom = messagesEl.scrollHeight - messagesEl.scrollTop - messagesEl.clientHeight < 8;
    messagesEl.appendChild(li);
    while (messagesEl.children.length > MAX_MESSAGES) messagesEl.removeChild(messagesEl.firstElementChild);
    if (atBottom) messagesEl.scrollTop = messagesEl.scrollHeight;
    if (!deviceEl.value && device) deviceEl.value = device;
  }

  function pickDevice(ev) {
    const li = ev.target.closest("li");
    if (!li || !li.dataset.device) return;
    deviceEl.value = li.dataset.device;
    commandEl.focus();
  }

  let sendSeq = 0;

  function sendCommand() {
    const device = deviceEl.value.trim();
    if (!device || /[/+#]/.test(device)) {
      resultEl.textContent = "error: enter a device id (without / + #)";
      return;
    }
    const text = commandEl.value;
    let data;
    try {
      data = JSON.parse(text);
    } catch (_) {
      data = text;
    }
    const seq = ++sendSeq;
    resultEl.textContent = "sending…";
    gw.publish("devices/" + device + "/down", data).then(
      (ack) => {
        if (seq === sendSeq) resultEl.textContent = "sent (reached " + (ack.reached || 0) + ")";
      },
      (err) => {
        if (seq === sendSeq) resultEl.textContent = "error: " + (err.code ? err.code + ": " : "") + err.message;
      }
    );
  }

  function showDeviceExample(deviceURL) {
    const url = deviceURL + "?device_id=demo-1";
    exampleEl.textContent = url;
    wscatEl.textContent = "npx wscat --ca dev-ca.pem -c '" + url + "'";
  }

  function showEndpoints(info) {
    endpointsEl.textContent = "";
    for (const [label, key] of ENDPOINTS) {
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      const code = document.createElement("code");
      code.textContent = typeof info[key] === "string" ? info[key] : "(not configured)";
      dd.appendChild(code);
      endpointsEl.appendChild(dt);
      endpointsEl.appendChild(dd);
    }
    if (typeof info.device_ws_url === "string") showDeviceExample(info.device_ws_url);
  }

  function loadEndpoints() {
    fetch("/.well-known/wssgate", { cache: "no-store" })
      .then((res) => {
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.json();
      })
      .then(showEndpoints)
      .catch((err) => {
        endpointsEl.textContent = "";
        const dt = document.createElement("dt");
        dt.textContent = "Endpoints unavailable: " + err.message;
        endpointsEl.appendChild(dt);
      });
  }

  showDeviceExample("wss://" + location.hostname + ":9443/device");
  loadEndpoints();

  const gw = new WSSGate({ onState: setStatus });
  gw.subscribe(UP_PATTERN, addMessage).then(
    () => notice(""),
    (err) => {
      // timeout and disconnected are retried on reconnect; a refusal is final.
      if (err.fromServer) notice("subscribe " + UP_PATTERN + " refused: " + err.code + ": " + err.message);
    }
  );

  messagesEl.addEventListener("click", pickDevice);
  messagesEl.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") pickDevice(ev);
  });
  sendEl.addEventListener("click", sendCommand);
  for (const el of [deviceEl, commandEl]) {
    el.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") sendCommand();
    });
  }

  window.wssgateDemo = { gw };
})();
