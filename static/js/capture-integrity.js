// Capture integrity: what the customer's page can see of its own camera,
// reported to the server over the call socket ("integrity_report"), where it
// is scored for the operator's risk panel (sessions_app/integrity.py).
//
// None of this proves a camera is real: a page can only report what the
// browser tells it, and a patched browser or an OS-level virtual camera can
// tell it anything (README, "Capture integrity"). The camera's label is
// sent once per report and classified on the server, never stored raw.

const TIMING_WINDOW_MS = 2500;
const SETTINGS_POLL_MS = 2000;

// Functions a camera injection replaces in the page, by the name the server
// knows them by (integrity.CHECKED_FUNCTIONS): where the picture comes from
// and where it enters the call. Not the RTCPeerConnection or WebSocket
// constructors: privacy extensions (and this project's browser tests)
// wrap those without touching the camera.
function checkedFunctions() {
  const md = navigator.mediaDevices;
  const proto = window.MediaStreamTrack ? MediaStreamTrack.prototype : {};
  return [
    ["getUserMedia", md && md.getUserMedia],
    ["enumerateDevices", md && md.enumerateDevices],
    ["getDisplayMedia", md && md.getDisplayMedia],
    ["getSettings", proto.getSettings],
    ["getCapabilities", proto.getCapabilities],
    ["toString", Function.prototype.toString],
    ["MediaStream", window.MediaStream],
    ["addTrack", window.RTCPeerConnection && RTCPeerConnection.prototype.addTrack],
    ["replaceTrack", window.RTCRtpSender && RTCRtpSender.prototype.replaceTrack],
  ];
}

// A browser's own function prints as "function name() { [native code] }";
// a script's replacement prints its source. toString itself is checked too
// (a replaced toString could lie about the others). A Proxy around the
// native function passes: that is why this is a sign, not a proof.
export function replacedFunctions() {
  const toString = Function.prototype.toString;
  const isNative = (fn) => {
    try {
      return typeof fn === "function" && /\{\s*\[native code\]\s*\}\s*$/.test(toString.call(fn));
    } catch {
      return false;
    }
  };
  return checkedFunctions()
    .filter(([, fn]) => fn !== undefined && fn !== null && !isNative(fn))
    .map(([name]) => name);
}

function trackFacts(track) {
  const settings = track.getSettings ? track.getSettings() : {};
  const capabilities = track.getCapabilities ? track.getCapabilities() : {};
  const canvas = typeof window.CanvasCaptureMediaStreamTrack !== "undefined" && track instanceof window.CanvasCaptureMediaStreamTrack;
  // Chromium keeps frame counters on camera tracks (track.stats);
  // other browsers have none, which says nothing.
  let stats = null;
  try {
    const s = track.stats;
    if (s && typeof s.totalFrames === "number") stats = { delivered: s.deliveredFrames, discarded: s.discardedFrames, total: s.totalFrames };
  } catch {
    stats = null;
  }
  const max = (range) => (range && typeof range.max === "number" && Number.isFinite(range.max) ? range.max : null);
  return {
    camera: { label: (track.label || "").slice(0, 200) },
    track: {
      canvas,
      has_device_id: typeof settings.deviceId === "string" && settings.deviceId !== "",
      has_capabilities: Object.keys(capabilities || {}).length > 0,
      stats,
    },
    capabilities: { width_max: max(capabilities.width), height_max: max(capabilities.height), frame_rate_max: max(capabilities.frameRate) },
    settings: { width: settings.width ?? null, height: settings.height ?? null, frame_rate: settings.frameRate ?? null },
    deviceId: settings.deviceId || "",
  };
}

// The spread of the intervals between captured frames over a short window,
// from requestVideoFrameCallback (captureTime where the browser gives it,
// else the media time). Intervals of frames the element skipped (about twice
// the usual) are left out: a busy page must not look like a jittery camera.
export function frameTiming(video, windowMs = TIMING_WINDOW_MS) {
  return new Promise((resolve) => {
    if (!video || typeof video.requestVideoFrameCallback !== "function") return resolve(null);
    const times = [];
    const started = performance.now();
    const step = (now, metadata) => {
      const time = typeof metadata.captureTime === "number" ? metadata.captureTime : metadata.mediaTime * 1000;
      if (!times.length || time !== times[times.length - 1]) times.push(time);
      if (performance.now() - started < windowMs) video.requestVideoFrameCallback(step);
      else resolve(timingFigures(times));
    };
    video.requestVideoFrameCallback(step);
    // A hidden or paused element never calls back: no figure, not a wait.
    setTimeout(() => resolve(timingFigures(times)), windowMs * 2);
  });
}

function timingFigures(times) {
  const deltas = [];
  for (let i = 1; i < times.length; i++) if (times[i] > times[i - 1]) deltas.push(times[i] - times[i - 1]);
  if (deltas.length < 5) return null;
  const sorted = [...deltas].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const kept = deltas.filter((d) => d > median * 0.5 && d < median * 1.5);
  if (kept.length < 5) return null;
  const mean = kept.reduce((a, b) => a + b, 0) / kept.length;
  const sd = Math.sqrt(kept.reduce((a, d) => a + (d - mean) ** 2, 0) / kept.length);
  return { samples: kept.length, mean_ms: Math.round(mean * 100) / 100, cv: mean > 0 ? Math.min(sd / mean, 100) : 0 };
}

export class CaptureIntegrity {
  // media: LocalMedia; video: the element showing the local camera.
  constructor({ media, video }) {
    this.media = media;
    this.video = video;
    this.engineRef = null;
    this.pending = []; // reports not yet sent (no socket yet, or it dropped)
    this.callReported = false;
    this.sentChanges = new Set();
    this.watching = null;
    this.current = null; // { deviceId, width, height } of the camera reported last
  }

  async report(phase, changes = []) {
    const track = this.media.track("video");
    if (!track) return null;
    const facts = trackFacts(track);
    const timing = await frameTiming(this.video);
    const { deviceId, ...report } = facts;
    this.current = { deviceId, width: facts.settings.width, height: facts.settings.height };
    return { type: "integrity_report", phase, ...report, replaced: replacedFunctions(), timing, changes };
  }

  // The device check: measured while the customer looks at the preview,
  // sent when the call socket opens.
  async precall() {
    const report = await this.report("precall");
    if (report) this.queue(report);
  }

  // The call socket (re)opened: what waits goes out.
  connected(engineRef) {
    this.engineRef = engineRef;
    this.flush();
  }

  queue(report) {
    this.pending.push(report);
    this.flush();
  }

  flush() {
    const engine = this.engineRef && this.engineRef.engine;
    while (engine && this.pending.length) {
      if (!engine.send(this.pending[0])) return;
      this.pending.shift();
    }
  }

  // The call started: one report from the call itself, then each camera
  // switch or resolution change once.
  async inCall() {
    if (this.callReported) return;
    this.callReported = true;
    const report = await this.report("call");
    if (report) this.queue(report);
    this.media.addEventListener("track-replaced", ({ detail }) => {
      if (detail.kind === "video") this.cameraChanged();
    });
    this.watching = setInterval(() => this.checkSettings(), SETTINGS_POLL_MS);
  }

  changeOnce(key, change) {
    if (this.sentChanges.has(key)) return null;
    this.sentChanges.add(key);
    return change;
  }

  async cameraChanged() {
    const before = this.current;
    const track = this.media.track("video");
    if (!before || !track) return;
    const after = track.getSettings();
    if (after.deviceId === before.deviceId) return;
    const change = this.changeOnce(`switch:${after.deviceId}`, { kind: "camera_switched" });
    // The new camera is described in full: it may be the injected one.
    const report = await this.report("call", change ? [change] : []);
    if (report) this.queue(report);
  }

  checkSettings() {
    const track = this.media.track("video");
    const before = this.current;
    if (!track || !before || track.readyState !== "live") return;
    const now = track.getSettings();
    if (now.deviceId !== before.deviceId || !now.width || !before.width) return;
    if (now.width === before.width && now.height === before.height) return;
    const change = this.changeOnce(`size:${before.width}x${before.height}>${now.width}x${now.height}`, {
      kind: "resolution_changed",
      from_width: before.width,
      from_height: before.height,
      to_width: now.width,
      to_height: now.height,
    });
    this.current = { ...before, width: now.width, height: now.height };
    if (change) this.report("call", [change]).then((report) => report && this.queue(report));
  }

  stop() {
    clearInterval(this.watching);
  }
}
