// Shows the resident's screen and measures how it arrives.
// The picture is drawn in a frame sized here (see fit.js): by default the whole screen in
// the stage, never larger than its own pixels (sharp text matters more than size); or at
// actual size, scrolling inside the stage. The frame is resized whenever the stage (window,
// toolbar wrapping, full screen), the picture (the resident's resolution) or the display's
// pixel ratio changes. The field that takes the caseworker's input lies exactly over it.
import { pictureBox } from '/src/fit.js';

export function createScreen(video, { frame, stage }) {
  let dprQuery = null;
  let cancelFirstFrame = () => {};
  let mode = 'fit';

  // element.style goes through the CSSOM, which the page's CSP allows.
  function layout() {
    const dpr = window.devicePixelRatio || 1;
    // The header and toolbar above have fractional heights: pad the stage down to the next
    // device pixel, and centre on whole pixels, so the picture sits on the display's pixel
    // grid (sharp at actual size) and its last row is inside the window, reachable.
    const room = stage.getBoundingClientRect();
    const pad = (Math.ceil(room.top * dpr - 1e-3) - room.top * dpr) / dpr;
    stage.style.paddingTop = `${pad}px`;
    const box = pictureBox({
      stageW: room.width,
      stageH: room.height - pad,
      videoW: video.videoWidth,
      videoH: video.videoHeight,
      dpr,
      mode,
    });
    const actual = mode === 'actual';
    stage.classList.toggle('is-actual', actual);
    // At actual size the scroll bars take room from the space to centre in.
    const spaceW = actual ? stage.clientWidth : room.width;
    const spaceH = actual ? stage.clientHeight - pad : room.height - pad;
    const margin = (space, size) => Math.max(0, Math.floor(((space - size) / 2) * dpr) / dpr);
    frame.style.width = box ? `${box.width}px` : '';
    frame.style.height = box ? `${box.height}px` : '';
    frame.style.marginLeft = box ? `${margin(spaceW, box.width)}px` : '';
    frame.style.marginTop = box ? `${margin(spaceH, box.height)}px` : '';
  }

  // Zooming or moving to another monitor changes devicePixelRatio: listen for the next
  // change each time (a resolution media query matches only one value).
  function watchDpr() {
    dprQuery?.removeEventListener('change', onDprChange);
    dprQuery = window.matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
    dprQuery.addEventListener('change', onDprChange);
  }
  function onDprChange() {
    layout();
    watchDpr();
  }

  // 'resize' fires when the picture's size is first known and whenever it changes.
  video.addEventListener('resize', layout);
  // The stage changes size with the window, the toolbar's wrapping and full screen.
  new ResizeObserver(layout).observe(stage, { box: 'border-box' });

  return {
    // Calls onFirstFrame once, when a frame has actually been shown.
    show(stream, onFirstFrame) {
      cancelFirstFrame();
      let pending = true;
      const done = () => {
        if (!pending) return;
        cancelFirstFrame();
        layout();
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
      layout();
    },

    /** 'fit' (the whole screen) or 'actual' (one picture pixel per display pixel). */
    setMode(next) {
      mode = next === 'actual' ? 'actual' : 'fit';
      layout();
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
