'use strict';
// Preload (`node -r ./bind-loopback.js ...`) that makes every TCP listen bind to 127.0.0.1.
// xapi-statements listens on all interfaces; the test machine must only serve loopback.
// Handles listen(port[, host][, backlog][, cb]), listen({port, host, ...}[, cb]) and
// listen([cb]); pipe/handle listens (string path, {path}, {fd}, {handle}) pass through.
const net = require('net');

const LOOPBACK = '127.0.0.1';
const originalListen = net.Server.prototype.listen;

function isPortLike(value) {
  return typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value));
}

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const first = args[0];
  if (first === undefined || first === null || typeof first === 'function') {
    // listen() or listen(cb): a random port on all interfaces becomes one on loopback.
    const callbacks = args.filter((arg) => typeof arg === 'function');
    return originalListen.call(this, { port: 0, host: LOOPBACK }, ...callbacks);
  }
  if (isPortLike(first)) {
    // listen(port, [host], [backlog], [cb]): drop any host given, keep backlog and callback.
    const rest = args.slice(1);
    if (rest.length > 0 && (typeof rest[0] === 'string' || rest[0] == null)) rest.shift();
    const options = { port: Number(first), host: LOOPBACK };
    if (rest.length > 0 && typeof rest[0] === 'number') options.backlog = rest.shift();
    return originalListen.call(this, options, ...rest);
  }
  if (typeof first === 'object' && !Array.isArray(first) &&
      first.path === undefined && first.fd === undefined && first.handle === undefined &&
      !(first instanceof net.Server) && first._handle === undefined) {
    return originalListen.call(this, { ...first, host: LOOPBACK }, ...args.slice(1));
  }
  return originalListen.apply(this, args);
};
