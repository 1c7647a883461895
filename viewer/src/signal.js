// WebSocket signaling client: one JSON object per text frame, each with a "type".
// One client per attempt; after close() it stays silent, so a late event from an old
// socket can never move the screen of a newer attempt.

export function signalUrl(loc = window.location) {
  const scheme = loc.protocol === 'http:' ? 'ws:' : 'wss:';
  return `${scheme}//${loc.host}/signal`;
}

// handlers: onOpen(), onMessage(msg), onClose() — onClose only when the socket ends
// without us asking (relay gone, network lost, unreachable).
export function openSignal(url, { onOpen, onMessage, onClose }) {
  let closedByUs = false;
  let ws;
  try {
    ws = new WebSocket(url);
  } catch {
    // A malformed URL throws synchronously; report it like an unreachable relay.
    queueMicrotask(() => onClose());
    return { send() {}, close() {} };
  }

  ws.addEventListener('open', () => {
    if (!closedByUs) onOpen();
  });
  ws.addEventListener('message', (event) => {
    if (closedByUs || typeof event.data !== 'string') return;
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      return; // not JSON: nothing sensible to do with it
    }
    if (msg && typeof msg === 'object' && typeof msg.type === 'string') onMessage(msg);
  });
  // 'error' is always followed by 'close', so only 'close' is handled.
  ws.addEventListener('close', () => {
    if (!closedByUs) {
      closedByUs = true;
      onClose();
    }
  });

  return {
    send(msg) {
      if (!closedByUs && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
    },
    // Frames already sent (e.g. a bye) still leave before the close frame.
    close() {
      closedByUs = true;
      if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) {
        ws.close(1000);
      }
    },
  };
}
