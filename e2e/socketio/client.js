// client.js: one run of the real socket.io-client against a wssgate
// Socket.IO endpoint, for gateway/protocol/socketio's tests.
//
//   node client.js --url https://127.0.0.1:P --ca ca.pem [--transports polling|websocket|default] [--wait-close]
//
// It connects with auth {token}, emits "echo" with text and binary arguments
// and checks the acks, asks for deliveries ("deliver") and checks the text
// and binary "message" events, waits for the upgrade when it starts on
// polling with upgrades on, then disconnects. It prints one JSON line with
// the results and exits 0 on success, 1 on any failure. With --wait-close
// it prints "connected" and then the reason of the disconnect the server
// causes.
'use strict';
const fs = require('fs');
const { io } = require('socket.io-client');

function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : def;
}

const url = arg('url');
const ca = fs.readFileSync(arg('ca'));
const mode = arg('transports', 'default');
const timeoutMs = Number(arg('timeout-ms', '15000'));

const opts = { ca, auth: { token: 'alice' }, reconnection: false, timeout: 5000 };
if (mode !== 'default') opts.transports = [mode];

function fail(msg) {
  console.log(JSON.stringify({ ok: false, error: String(msg) }));
  process.exit(1);
}
setTimeout(() => fail('timeout after ' + timeoutMs + ' ms'), timeoutMs).unref();

function assertEqual(got, want, what) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
}

function waitUpgrade(socket) {
  const engine = socket.io.engine;
  if (mode !== 'default' || engine.transport.name === 'websocket') return Promise.resolve();
  return new Promise((resolve, reject) => {
    engine.once('upgrade', () => resolve());
    engine.once('upgradeError', (e) => reject(new Error('upgrade error: ' + e.message)));
  });
}

async function run() {
  const socket = io(url, opts);
  let first = '';
  socket.io.on('open', () => { first = socket.io.engine.transport.name; });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', (e) => reject(new Error('connect_error: ' + e.message)));
  });
  const upgraded = waitUpgrade(socket);
  if (process.argv.includes('--wait-close')) {
    // Print "connected", then report the reason the server's close gives.
    socket.on('disconnect', (reason) => {
      console.log(JSON.stringify({ ok: true, reason }));
      process.exit(0);
    });
    console.log('connected');
    return;
  }

  const ack = await new Promise((resolve) => socket.emit('echo', 'hi', { a: 1 }, (...args) => resolve(args)));
  assertEqual(ack, ['hi', { a: 1 }], 'echo ack');
  const bin = await socket.timeout(5000).emitWithAck('echo', Buffer.from([1, 2, 3]));
  if (!Buffer.isBuffer(bin) || !bin.equals(Buffer.from([1, 2, 3]))) throw new Error('binary ack: got ' + JSON.stringify(bin));

  const messages = [];
  const got = new Promise((resolve) => {
    socket.on('message', (m) => { messages.push(m); if (messages.length === 2) resolve(); });
  });
  socket.emit('deliver');
  await got;
  assertEqual(messages[0], { channel: 'devices/1/up', data: { t: 21.5 } }, 'text message');
  const m = messages[1];
  if (m.channel !== 'devices/1/up' || !Buffer.isBuffer(m.data) || !m.data.equals(Buffer.from([0, 1, 255]))) {
    throw new Error('binary message: got ' + JSON.stringify(m));
  }
  await upgraded;
  const last = socket.io.engine.transport.name;
  const done = new Promise((resolve) => socket.once('disconnect', resolve));
  socket.disconnect();
  await done;
  // Give the last polling POST (DISCONNECT, close) a moment to leave.
  await new Promise((resolve) => setTimeout(resolve, 500));
  console.log(JSON.stringify({ ok: true, first, last }));
  process.exit(0);
}

run().catch(fail);
