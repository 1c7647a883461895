// The "acote" data channel: JSON messages to the agent (input, control requests,
// highlight, low data, the security code's nonce, chat, clipboard, the monitor shown) and
// from it (control state, refused input, data sent, the security code's commitment and
// reveal, chat, the resident's clipboard and monitors); files both ways. Nothing is sent while the channel
// is not open, and nothing of what is typed or copied is ever logged.
import { isValidChat } from '/src/chat.js';
import { isValidClipboard } from '/src/clipboard.js';
import { parseScreens } from '/src/screens.js';
import { isFileMessage } from '/src/files.js';

const ignore = () => {};

export function createChannel(dc, {
  onControl = ignore, onRefused = ignore, onDataSent = ignore, onSas = ignore, onChat = ignore,
  onClipboard = ignore, onClipboardStatus = ignore, onScreens = ignore, onFile = ignore,
}) {
  dc.addEventListener('message', (event) => {
    if (typeof event.data !== 'string') return;
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      return; // a broken message from the agent is ignored, never shown
    }
    if (msg?.type === 'control' && typeof msg.state === 'string') onControl(msg.state);
    else if (msg?.type === 'refused' && typeof msg.reason === 'string') onRefused(msg.reason, Number(msg.count) || 0);
    else if (msg?.type === 'data_sent' && Number.isSafeInteger(msg.bytes) && msg.bytes >= 0) onDataSent(msg.bytes);
    else if (msg?.type === 'sas_commit' || msg?.type === 'sas_reveal') onSas(msg); // checked in sas.js
    // The agent's own rule (chat.js): a message that breaks it is dropped, never shown.
    else if (msg?.type === 'chat' && isValidChat(msg.text)) onChat(msg.text);
    // The same rule as the agent's (clipboard.js); text that breaks it is dropped.
    else if (msg?.type === 'clipboard' && isValidClipboard(msg.text)) onClipboard(msg.text);
    else if (msg?.type === 'clipboard_status' && typeof msg.status === 'string') onClipboardStatus(msg.status);
    else if (msg?.type === 'screens') {
      const list = parseScreens(msg); // checked in screens.js; a broken list is ignored
      if (list) onScreens(list);
    }
    // File transfer (files.js): each type's fields checked; a broken one is ignored.
    else if (typeof msg?.type === 'string' && msg.type.startsWith('file_') && isFileMessage(msg)) onFile(msg);
  });

  return {
    send(msg) {
      if (dc.readyState !== 'open') return false;
      dc.send(JSON.stringify(msg));
      return true;
    },
    get open() {
      return dc.readyState === 'open';
    },
  };
}
