// A "hostile flock": a WebSocket proxy between the page and the real flock that relays the
// signalling and lets a test rewrite messages on the way (flock.md's threat model: the flock is
// untrusted for integrity). Only /client is proxied; the appliance talks to the real flock.
import { WebSocketServer, WebSocket } from 'ws';

/**
 * @param {{
 *   upstream: string,                       // the real flock, ws://127.0.0.1:PORT
 *   toFlock?: (msg: object, ctx: object) => object|null|undefined,   // client → flock
 *   toClient?: (msg: object, ctx: object) => object|null|undefined,  // flock → client
 * }} options  a hook returns the message to send (or undefined for the same one, null to drop it).
 *   `ctx` is per connection: {offers: Map(session → offer sdp the client sent)}.
 * @returns {Promise<{url: string, port: number, log: object[], close(): Promise<void>}>}
 *   `log` lists every relayed JSON message as {dir, type, session, tampered}.
 */
export async function startHostileProxy({ upstream, toFlock, toClient }) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 1 << 20 });
  await new Promise((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const log = [];
  const sockets = new Set();

  wss.on('connection', (client, req) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path !== '/client') {
      client.close(1008, 'not proxied');
      return;
    }
    const ctx = { offers: new Map() };
    const up = new WebSocket(upstream.replace(/\/+$/, '') + '/client');
    sockets.add(client);
    sockets.add(up);
    const pending = [];

    const relay = (dir, data, isBinary, to, hook) => {
      if (isBinary) {
        to.send(data, { binary: true });
        return;
      }
      const text = data.toString('utf8');
      let msg;
      try { msg = JSON.parse(text); } catch { to.send(text); return; }
      if (dir === 'toFlock' && msg && msg.type === 'introduce' && typeof msg.sdp === 'string') {
        ctx.offers.set(msg.session, msg.sdp);
      }
      let out = msg;
      let tampered = false;
      if (hook) {
        const r = hook(structuredClone(msg), ctx);
        if (r === null) {
          log.push({ dir, type: msg.type, session: msg.session, dropped: true });
          return;
        }
        if (r !== undefined) {
          out = r;
          tampered = JSON.stringify(r) !== JSON.stringify(msg);
        }
      }
      log.push({ dir, type: msg && msg.type, session: msg && msg.session, tampered });
      to.send(out === msg ? text : JSON.stringify(out));
    };

    up.on('open', () => { for (const [d, b] of pending.splice(0)) relay('toFlock', d, b, up, toFlock); });
    client.on('message', (data, isBinary) => {
      if (up.readyState === WebSocket.OPEN) relay('toFlock', data, isBinary, up, toFlock);
      else pending.push([data, isBinary]);
    });
    up.on('message', (data, isBinary) => relay('toClient', data, isBinary, client, toClient));
    const sendable = (code) => (code === 1000 || (code >= 3000 && code <= 4999) || [1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011].includes(code) ? code : 1000);
    up.on('close', (code, reason) => { if (client.readyState <= WebSocket.OPEN) client.close(sendable(code), reason); });
    client.on('close', (code, reason) => { if (up.readyState <= WebSocket.OPEN) up.close(sendable(code), reason); else up.terminate(); });
    up.on('error', () => client.terminate());
    client.on('error', () => up.terminate());
  });

  const port = wss.address().port;
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    log,
    async close() {
      for (const s of sockets) s.terminate();
      await new Promise((resolve) => wss.close(() => resolve()));
    },
  };
}
