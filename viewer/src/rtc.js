// The peer connection. The agent makes the offer (one video track, one audio track for
// voice, and the "acote" data channel); the viewer only answers, trickles its candidates
// and applies the agent's, queued until the remote description exists (addIceCandidate
// fails before). The picture is received only; audio goes both ways once a call is on
// (voice-ui.js puts the caseworker's microphone on the audio sender).

// The relay's ice_servers, in the shape RTCPeerConnection accepts. Absent credentials are
// left out: a null would be turned into the string "null".
export function toIceServers(list) {
  if (!Array.isArray(list)) return [];
  const servers = [];
  for (const s of list) {
    if (!s || (typeof s.urls !== 'string' && !Array.isArray(s.urls))) continue;
    const server = { urls: s.urls };
    if (typeof s.username === 'string') server.username = s.username;
    if (typeof s.credential === 'string') server.credential = s.credential;
    servers.push(server);
  }
  return servers;
}

// The audio transceivers of the agent's offer: one for voice, none from an agent older
// than voice.
function audioTransceivers(pc) {
  return pc.getTransceivers().filter((t) => t.receiver.track?.kind === 'audio'
    && t.direction !== 'stopped' && t.currentDirection !== 'stopped');
}

// handlers: onCandidate(init), onTrack(stream), onAudio(track, transceiver), onChannel(channel),
// onFailed(). relayOnly: only candidates through the relay's TURN (the caseworker's choice
// or the site's policy), so no address of this network is revealed to the other side.
export function createPeer(iceServers, relayOnly, {
  onCandidate, onTrack, onAudio = () => {}, onChannel, onFailed,
}) {
  const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: relayOnly ? 'relay' : 'all' });
  let remoteSet = false;
  let pending = [];

  pc.onicecandidate = (event) => {
    // A null candidate (or an empty one) only means "gathering is over".
    const c = event.candidate;
    if (!c || !c.candidate) return;
    onCandidate({ candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex });
  };

  pc.ontrack = (event) => {
    if (event.track.kind === 'audio') {
      // The resident's voice: played through a media element of its own (voice-ui.js).
      onAudio(event.track, event.transceiver);
      return;
    }
    if (event.track.kind !== 'video') return;
    // Show each picture as soon as it is decoded: no delay beyond what the network's own
    // jitter needs (a pointer that lags the hand is worse than an uneven frame rate).
    if ('jitterBufferTarget' in event.receiver) event.receiver.jitterBufferTarget = 0;
    if ('playoutDelayHint' in event.receiver) event.receiver.playoutDelayHint = 0;
    onTrack(event.streams[0] ?? new MediaStream([event.track]));
  };

  pc.ondatachannel = (event) => {
    if (event.channel.label === 'acote') onChannel(event.channel);
  };

  // "disconnected" may heal by itself; "failed" will not without a new offer.
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === 'failed') onFailed();
  };

  async function apply(init) {
    try {
      await pc.addIceCandidate(init);
    } catch {
      // One bad candidate must not end the session; others may still connect.
    }
  }

  return {
    pc,

    // Takes the agent's offer, returns the SDP of our answer.
    async acceptOffer(sdp) {
      await pc.setRemoteDescription({ type: 'offer', sdp });
      remoteSet = true;
      const queued = pending;
      pending = [];
      for (const init of queued) await apply(init);
      // The answer must offer to send audio now (with no track yet): otherwise it says
      // recvonly, and the caseworker's voice could never be added without a new offer.
      for (const t of audioTransceivers(pc)) {
        try {
          t.direction = 'sendrecv';
        } catch {
          // Stopped meanwhile: nothing to answer on it.
        }
      }
      await pc.setLocalDescription(await pc.createAnswer());
      return pc.localDescription.sdp;
    },

    addCandidate(msg) {
      if (typeof msg.candidate !== 'string') return;
      const init = {
        candidate: msg.candidate,
        sdpMid: msg.sdpMid ?? null,
        sdpMLineIndex: msg.sdpMLineIndex ?? null,
      };
      if (typeof msg.usernameFragment === 'string') init.usernameFragment = msg.usernameFragment;
      if (remoteSet) apply(init);
      else pending.push(init);
    },

    close() {
      pc.onicecandidate = pc.ontrack = pc.ondatachannel = pc.onconnectionstatechange = null;
      pc.close();
    },
  };
}
