// gateway.js: a Socket.IO dashboard written the way socket.io-client users
// write one, against a running wssgate (the CA from NODE_EXTRA_CA_CERTS):
//
//   NODE_EXTRA_CA_CERTS=ca.pem node gateway.js --url https://localhost:P \
//     [--transports default|websocket|polling] [--device ID] [--timeout-ms N]
//
// On every 'connect' (the first and each reconnect) it subscribes to
// devices/+/up with an ack. It prints one JSON line per step on stdout:
// {"step":"subscribed","n":1,"transport":"polling"}, {"step":"text",...},
// {"step":"binary",...}, {"step":"published","reached":1}, {"step":"disconnect","reason":...},
// {"step":"subscribed","n":2,...}, {"step":"text2",...}; then exits 0. Any
// failure prints {"step":"error","error":...} and exits 1.
'use strict';
const { io } = require('socket.io-client');

function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : def;
}
const url = arg('url');
const mode = arg('transports', 'default');
const device = arg('device', 'e2e-1');
const timeoutMs = Number(arg('timeout-ms', '30000'));

function out(o) { console.log(JSON.stringify(o)); }
function fail(msg) { out({ step: 'error', error: String(msg) }); process.exit(1); }
setTimeout(() => fail('timeout after ' + timeoutMs + ' ms'), timeoutMs).unref();

const opts = { secure: true, reconnectionDelay: 200, reconnectionDelayMax: 1000 };
if (mode !== 'default') opts.transports = [mode];
const socket = io(url, opts);

let connects = 0;
let got = 0;
socket.on('connect', async () => {
  connects++;
  try {
    const ack = await socket.timeout(5000).emitWithAck('subscribe', 'devices/+/up');
    if (ack.error) throw new Error('subscribe: ' + JSON.stringify(ack.error));
    out({ step: 'subscribed', n: connects, transport: socket.io.engine.transport.name });
  } catch (e) { fail(e.message); }
});
socket.on('connect_error', (e) => out({ step: 'connect_error', message: e.message }));
socket.on('disconnect', (reason) => out({ step: 'disconnect', reason }));
socket.on('message', async ({ channel, data }) => {
  got++;
  try {
    if (connects >= 2) {
      out({ step: 'text2', channel, data, transport: socket.io.engine.transport.name });
      socket.disconnect();
      process.exit(0);
    }
    if (got === 1) {
      out({ step: 'text', channel, data });
      return;
    }
    if (!Buffer.isBuffer(data)) throw new Error('want a Buffer, got ' + JSON.stringify(data));
    out({ step: 'binary', channel, hex: data.toString('hex') });
    const ack = await socket.timeout(5000).emitWithAck('publish', `devices/${device}/down`, { led: 'on' });
    const bin = await socket.timeout(5000).emitWithAck('publish', `devices/${device}/down`, Buffer.from([7, 8, 9]));
    out({ step: 'published', reached: ack.reached, binaryReached: bin.reached, transport: socket.io.engine.transport.name });
  } catch (e) { fail(e.message); }
});
