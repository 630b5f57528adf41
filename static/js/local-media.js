// The local camera and microphone: start them, explain failures, switch and
// choose devices, and measure the microphone level and the light.

const VIDEO_CONSTRAINTS = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 24, max: 30 } };

export function mediaErrorKey(err) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return "errUnsupported";
  switch (err && err.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "errPermission";
    case "NotFoundError":
    case "OverconstrainedError":
      return "errNoDevice";
    case "NotReadableError":
    case "AbortError":
      return "errInUse";
    default:
      return "errGeneric";
  }
}

export async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  return {
    cameras: devices.filter((d) => d.kind === "videoinput"),
    microphones: devices.filter((d) => d.kind === "audioinput"),
    speakers: devices.filter((d) => d.kind === "audiooutput"),
  };
}

// The console starts the operator's camera with the Answer click and opens
// the call in place (console-queue.js): the call page's module, run in the
// same document, takes that camera over instead of opening it again.
let handedOver = null;

export function handOverMedia(media, starting) {
  handedOver = { media, starting };
}

export function takeHandedOverMedia() {
  const handed = handedOver;
  handedOver = null;
  return handed;
}

export class LocalMedia extends EventTarget {
  constructor() {
    super();
    this.stream = null;
    this.audioEnabled = true;
    this.videoEnabled = true;
    this.facingMode = "user";
    this.cameraCount = 0;
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  async start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw Object.assign(new Error("unsupported"), { name: "NotSupportedError" });
    }
    this.stream = await navigator.mediaDevices.getUserMedia({
      video: { ...VIDEO_CONSTRAINTS, facingMode: this.facingMode },
      audio: { echoCancellation: true, noiseSuppression: true },
    });
    this.cameraCount = (await listDevices()).cameras.length;
    return this.stream;
  }

  track(kind) {
    return this.stream ? this.stream.getTracks().find((t) => t.kind === kind) : null;
  }

  get state() {
    return { audio: this.audioEnabled, video: this.videoEnabled };
  }

  setAudio(enabled) {
    // A disabled track sends silence: the others hear nothing, and the
    // muted indicator tells them why.
    this.audioEnabled = enabled;
    const track = this.track("audio");
    if (track) track.enabled = enabled;
    this.emit("state", this.state);
  }

  setVideo(enabled) {
    this.videoEnabled = enabled;
    const track = this.track("video");
    if (track) track.enabled = enabled;
    this.emit("state", this.state);
  }

  async useCamera(constraints) {
    const fresh = await navigator.mediaDevices.getUserMedia({ video: { ...VIDEO_CONSTRAINTS, ...constraints } });
    return this.replaceTrack(fresh.getVideoTracks()[0]);
  }

  async useMicrophone(deviceId) {
    const fresh = await navigator.mediaDevices.getUserMedia({ audio: { deviceId: { exact: deviceId } } });
    return this.replaceTrack(fresh.getAudioTracks()[0]);
  }

  replaceTrack(track) {
    // The new track keeps the old one's muted or camera-off state; the old
    // one is released. The call engine swaps it in on "track-replaced".
    const kind = track.kind;
    track.enabled = kind === "audio" ? this.audioEnabled : this.videoEnabled;
    const old = this.track(kind);
    this.stream.addTrack(track);
    if (old) {
      this.stream.removeTrack(old);
      old.stop();
    }
    this.emit("track-replaced", { kind, track });
    return track;
  }

  async switchCamera() {
    // Release the current camera first: many phones cannot open two at once.
    const old = this.track("video");
    const current = old ? old.getSettings() : {};
    if (old) old.stop();
    if (!current.facingMode) {
      // A desktop camera says nothing of front or back (nor do Chromium's
      // fake ones): cycle through the cameras instead.
      const { cameras } = await listDevices();
      if (cameras.length > 1) {
        const index = cameras.findIndex((camera) => camera.deviceId === current.deviceId);
        const next = cameras[(index + 1) % cameras.length];
        return this.useCamera({ deviceId: { exact: next.deviceId } });
      }
    }
    this.facingMode = this.facingMode === "user" ? "environment" : "user";
    return this.useCamera({ facingMode: { exact: this.facingMode } }).catch(() =>
      this.useCamera({ facingMode: this.facingMode })
    );
  }

  stop() {
    if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
  }
}

export class LevelMeter {
  // Live microphone level from a WebAudio analyser, 0..1.
  constructor(stream, onLevel) {
    const AudioContextClass = window.AudioContext || window.webkitAudioContext;
    this.context = new AudioContextClass();
    this.source = this.context.createMediaStreamSource(stream);
    this.analyser = this.context.createAnalyser();
    this.analyser.fftSize = 512;
    this.source.connect(this.analyser);
    this.samples = new Float32Array(this.analyser.fftSize);
    this.timer = setInterval(() => {
      this.analyser.getFloatTimeDomainData(this.samples);
      let sum = 0;
      for (const s of this.samples) sum += s * s;
      onLevel(Math.min(1, Math.sqrt(sum / this.samples.length) * 4));
    }, 100);
  }

  stop() {
    clearInterval(this.timer);
    this.context.close();
  }
}

export class LightMeter {
  // Mean brightness (0..255) of the preview, sampled on a small canvas.
  constructor(video, onBrightness) {
    this.canvas = document.createElement("canvas");
    this.canvas.width = 64;
    this.canvas.height = 48;
    this.context = this.canvas.getContext("2d", { willReadFrequently: true });
    this.timer = setInterval(() => {
      if (video.readyState < 2) return;
      this.context.drawImage(video, 0, 0, 64, 48);
      const { data } = this.context.getImageData(0, 0, 64, 48);
      let sum = 0;
      for (let i = 0; i < data.length; i += 4) sum += 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
      onBrightness(sum / (data.length / 4));
    }, 700);
  }

  stop() {
    clearInterval(this.timer);
  }
}
