// Shows the resident's screen and measures how it arrives.
// Sharp text matters more than size: the video element is never made larger than the
// picture's own pixels (videoWidth / devicePixelRatio CSS px), only smaller when the
// window is. CSS does the rest (object-fit: contain in a dark stage).

export function createScreen(video) {
  let dprQuery = null;
  let cancelFirstFrame = () => {};

  function capSize() {
    if (!video.videoWidth || !video.videoHeight) return;
    const dpr = window.devicePixelRatio || 1;
    // element.style goes through the CSSOM, which the page's CSP allows.
    video.style.maxWidth = `${video.videoWidth / dpr}px`;
    video.style.maxHeight = `${video.videoHeight / dpr}px`;
  }

  // Zooming or moving to another monitor changes devicePixelRatio: listen for the next
  // change each time (a resolution media query matches only one value).
  function watchDpr() {
    dprQuery?.removeEventListener('change', onDprChange);
    dprQuery = window.matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
    dprQuery.addEventListener('change', onDprChange);
  }
  function onDprChange() {
    capSize();
    watchDpr();
  }

  // 'resize' fires when the picture's size is first known and whenever it changes.
  video.addEventListener('resize', capSize);

  return {
    // Calls onFirstFrame once, when a frame has actually been shown.
    show(stream, onFirstFrame) {
      cancelFirstFrame();
      let pending = true;
      const done = () => {
        if (!pending) return;
        cancelFirstFrame();
        capSize();
        onFirstFrame();
      };
      // Fallback for browsers without requestVideoFrameCallback.
      const onPlaying = () => {
        if (video.videoWidth > 0) done();
      };
      cancelFirstFrame = () => {
        pending = false;
        video.removeEventListener('playing', onPlaying);
      };
      video.addEventListener('playing', onPlaying);
      if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(done);
      if (video.srcObject !== stream) video.srcObject = stream;
      watchDpr();
      // autoplay + muted should start by itself; play() covers stricter policies.
      video.play().catch(() => {});
    },

    clear() {
      cancelFirstFrame();
      dprQuery?.removeEventListener('change', onDprChange);
      dprQuery = null;
      video.srcObject = null;
      video.style.maxWidth = '';
      video.style.maxHeight = '';
    },
  };
}

// Polls getStats once a second and hands a small summary to onStats. Returns a stop
// function. Only figures, never content.
export function startStats(pc, onStats, intervalMs = 1000) {
  let last = null;
  let stopped = false;
  const timer = setInterval(async () => {
    let report;
    try {
      report = await pc.getStats();
    } catch {
      return; // closed meanwhile
    }
    if (stopped) return;
    let inbound = null;
    let pair = null;
    let selectedPairId = null;
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') inbound = s;
      if (s.type === 'transport' && s.selectedCandidatePairId) selectedPairId = s.selectedCandidatePairId;
    });
    pair = (selectedPairId && report.get(selectedPairId)) || null;
    if (!pair) {
      report.forEach((s) => {
        if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
      });
    }
    // "relay" on either end means the media goes through the site's relay (TURN).
    const kind = (id) => (id && report.get(id)?.candidateType) || null;
    const relayed = pair ? [kind(pair.localCandidateId), kind(pair.remoteCandidateId)].includes('relay') : null;
    if (!inbound) return;
    const now = { t: inbound.timestamp, bytes: inbound.bytesReceived ?? 0 };
    const kbps = last && now.t > last.t
      ? Math.round(((now.bytes - last.bytes) * 8) / (now.t - last.t))
      : null;
    last = now;
    onStats({
      width: inbound.frameWidth ?? null,
      height: inbound.frameHeight ?? null,
      fps: inbound.framesPerSecond ?? null,
      kbps,
      framesDecoded: inbound.framesDecoded ?? 0,
      framesDropped: inbound.framesDropped ?? 0,
      packetsLost: inbound.packetsLost ?? 0,
      jitterMs: inbound.jitter != null ? Math.round(inbound.jitter * 1000) : null,
      rttMs: pair?.currentRoundTripTime != null
        ? Math.round(pair.currentRoundTripTime * 1000) : null,
      path: relayed === null ? null : relayed ? 'relay' : 'direct',
      // How this side reaches the relay when relayed: udp, tcp or tls.
      relayProtocol: (pair && report.get(pair.localCandidateId)?.relayProtocol) || null,
    });
  }, intervalMs);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
