// The call frame's UI, shared by the customer page and the operator console:
// the control panels, the device dialog, the remote tiles, the duration, and
// the call engine wired to them.

import { CallEngine } from "./call-engine.js";
import { listDevices } from "./local-media.js";

export function readJson(id) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : {};
}

// The server's translated texts (ui_strings.py) carry %(name)s placeholders.
export function format(template, values = {}) {
  return template.replace(/%\((\w+)\)s/g, (_, key) => values[key] ?? "");
}

// A counted text: the form the page's language uses for this count (the
// server hands over one per CLDR category, operators/ui_strings.py).
export function plural(forms, count, values = {}) {
  const category = new Intl.PluralRules(document.documentElement.lang || "en").select(count);
  return format(forms[category] ?? forms.other, { count, ...values });
}

export function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

export async function postForm(url, data) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "X-CSRFToken": csrfToken() },
    body: data instanceof FormData ? data : new URLSearchParams(data),
    credentials: "same-origin",
  });
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = {};
  }
  return { ok: response.ok, status: response.status, body };
}

function setPressed(button, pressed, labelOn, labelOff) {
  button.setAttribute("aria-pressed", String(pressed));
  // The visible word stays; the hidden part of the name says what a click does now.
  const state = button.querySelector(".state-label");
  if (state && labelOn && labelOff) state.textContent = pressed ? labelOff : labelOn;
}

export class DurationClock {
  constructor(element) {
    this.element = element;
    this.timer = null;
    this.offsetMs = 0;
  }

  start(answeredAtIso, serverTimeIso) {
    if (!answeredAtIso) return;
    // Count from the server's clock: the customer's computer clock may be off.
    this.offsetMs = serverTimeIso ? Date.parse(serverTimeIso) - Date.now() : 0;
    this.since = Date.parse(answeredAtIso);
    this.element.hidden = false;
    clearInterval(this.timer);
    this.render();
    this.timer = setInterval(() => this.render(), 1000);
  }

  render() {
    const seconds = Math.max(0, Math.floor((Date.now() + this.offsetMs - this.since) / 1000));
    const h = Math.floor(seconds / 3600);
    const m = String(Math.floor((seconds % 3600) / 60)).padStart(2, "0");
    const s = String(seconds % 60).padStart(2, "0");
    this.element.textContent = h ? `${h}:${m}:${s}` : `${m}:${s}`;
    this.element.dataset.seconds = String(seconds);
  }

  // The call is over: no clock frozen at its last second.
  stop() {
    clearInterval(this.timer);
    this.element.hidden = true;
  }
}

export class RemoteTiles {
  // One tile per other person: their video, their name, and the muted and
  // camera-off indicators. The operator's tile is outlined while connected.
  constructor(container, { operatorLabel, mutedLabel, cameraOffLabel }) {
    this.container = container;
    this.labels = { operatorLabel, mutedLabel, cameraOffLabel };
    this.tiles = new Map();
    this.sinkId = null;
    this.featured = null; // the peer id shown largest (the operator's addressed customer)
  }

  ensure(peerId, info) {
    let tile = this.tiles.get(peerId);
    if (!tile) {
      const element = document.createElement("div");
      element.className = `tile remote role-${info.role}`;
      element.dataset.peerId = peerId;
      const video = document.createElement("video");
      video.autoplay = true;
      video.playsInline = true;
      video.setAttribute("aria-label", info.name);
      const name = document.createElement("span");
      name.className = "tile-name";
      const muted = document.createElement("span");
      muted.className = "muted-indicator";
      muted.textContent = this.labels.mutedLabel;
      muted.hidden = true;
      const cameraOff = document.createElement("span");
      cameraOff.className = "camera-off-indicator";
      cameraOff.textContent = this.labels.cameraOffLabel;
      cameraOff.hidden = true;
      element.append(video, name, muted, cameraOff);
      this.container.append(element);
      tile = { element, video, name, muted, cameraOff };
      this.tiles.set(peerId, tile);
      if (this.sinkId && video.setSinkId) video.setSinkId(this.sinkId).catch(() => {});
    }
    tile.name.textContent = info.role === "operator" ? `${info.name} · ${this.labels.operatorLabel}` : info.name;
    this.layout();
    return tile;
  }

  setStream(peerId, stream) {
    const tile = this.tiles.get(peerId);
    if (tile && tile.video.srcObject !== stream) {
      tile.video.srcObject = stream;
      tile.video.play().catch(() => {});
    }
  }

  setMedia(peerId, media) {
    const tile = this.tiles.get(peerId);
    if (!tile || !media) return;
    tile.muted.hidden = media.audio !== false;
    tile.cameraOff.hidden = media.video !== false;
    tile.element.classList.toggle("camera-off", media.video === false);
  }

  setConnection(peerId, state) {
    const tile = this.tiles.get(peerId);
    if (!tile) return;
    tile.element.dataset.connection = state;
    tile.element.classList.toggle("connected", state === "connected");
  }

  remove(peerId) {
    const tile = this.tiles.get(peerId);
    if (!tile) return;
    tile.video.srcObject = null;
    tile.element.remove();
    this.tiles.delete(peerId);
    this.layout();
  }

  async setSink(sinkId) {
    this.sinkId = sinkId;
    await Promise.all(
      [...this.tiles.values()].map((tile) => (tile.video.setSinkId ? tile.video.setSinkId(sinkId) : null))
    );
  }

  feature(peerId) {
    this.featured = peerId;
    this.layout();
  }

  layout() {
    this.container.dataset.count = String(this.tiles.size);
    const featured = this.tiles.has(this.featured) ? this.featured : this.tiles.keys().next().value;
    for (const [peerId, tile] of this.tiles) tile.element.classList.toggle("featured", peerId === featured);
    this.container.classList.toggle("has-side", this.tiles.size > 1);
  }

  clear() {
    for (const peerId of [...this.tiles.keys()]) this.remove(peerId);
  }
}

// The call engine of this page, wired the way every page of a call shows the
// others: its media state sent on welcome, the state to onState, a tile per
// other person (their stream, connection and media), onEnded when the call
// ends. Not started: the page adds its own listeners (reconnects, the
// recorder), then calls start().
export function newCallEngine({ wsPath, rtc, media, engineRef, tiles, onState, onEnded }) {
  const engine = new CallEngine({ wsPath, localStream: media.stream, rtc });
  engineRef.engine = engine;
  engine.addEventListener("welcome", () => engine.sendMediaState(media.state));
  engine.addEventListener("state", ({ detail }) => onState(detail));
  engine.addEventListener("peer-joined", ({ detail }) => {
    tiles.ensure(detail.peerId, detail.info);
    tiles.setMedia(detail.peerId, detail.media);
  });
  engine.addEventListener("remote-stream", ({ detail }) => tiles.setStream(detail.peerId, detail.stream));
  engine.addEventListener("peer-state", ({ detail }) => tiles.setConnection(detail.peerId, detail.state));
  engine.addEventListener("peer-media", ({ detail }) => tiles.setMedia(detail.peerId, detail.media));
  engine.addEventListener("peer-left", ({ detail }) => tiles.remove(detail.peerId));
  engine.addEventListener("ended", () => onEnded());
  return engine;
}

export function bindCallControls({ media, engineRef, localVideo, tiles, onEnd }) {
  const audioButton = document.getElementById("btn-audio");
  const videoButton = document.getElementById("btn-video");
  const flipButton = document.getElementById("btn-flip");
  const switchButton = document.getElementById("btn-switch");
  const endButton = document.getElementById("btn-end");
  const devicesButton = document.getElementById("btn-devices");
  const fullscreenButton = document.getElementById("btn-fullscreen");
  const devicesDialog = document.getElementById("devices-dialog");
  const endDialog = document.getElementById("end-dialog");
  const localCameraOff = document.getElementById("local-camera-off");

  const reflect = () => {
    audioButton.classList.toggle("off", !media.audioEnabled);
    setPressed(audioButton, !media.audioEnabled, audioButton.dataset.labelOn, audioButton.dataset.labelOff);
    videoButton.classList.toggle("off", !media.videoEnabled);
    setPressed(videoButton, !media.videoEnabled, videoButton.dataset.labelOn, videoButton.dataset.labelOff);
    localCameraOff.hidden = media.videoEnabled;
  };
  media.addEventListener("state", () => {
    reflect();
    if (engineRef.engine) engineRef.engine.sendMediaState(media.state);
  });
  media.addEventListener("track-replaced", ({ detail }) => {
    if (engineRef.engine) engineRef.engine.replaceTrack(detail.kind, detail.track);
    if (detail.kind === "video") localVideo.srcObject = media.stream;
  });

  audioButton.addEventListener("click", () => media.setAudio(!media.audioEnabled));
  videoButton.addEventListener("click", () => media.setVideo(!media.videoEnabled));
  flipButton.addEventListener("click", () => {
    // Mirrors only this page's preview; what the others receive is untouched.
    const mirrored = localVideo.classList.toggle("mirrored");
    flipButton.setAttribute("aria-pressed", String(mirrored));
  });
  switchButton.hidden = media.cameraCount < 2;
  switchButton.addEventListener("click", async () => {
    switchButton.disabled = true;
    try {
      await media.switchCamera();
    } finally {
      switchButton.disabled = false;
    }
  });

  const cameraSelect = document.getElementById("select-camera");
  const micSelect = document.getElementById("select-microphone");
  const speakerSelect = document.getElementById("select-speaker");
  const speakerSupported = "setSinkId" in HTMLMediaElement.prototype;
  document.getElementById("speaker-field").hidden = !speakerSupported;
  document.getElementById("speaker-unsupported").hidden = speakerSupported;
  const fill = (select, devices, currentId, fallbackLabel) => {
    select.replaceChildren(
      ...devices.map((device, index) => {
        const option = document.createElement("option");
        option.value = device.deviceId;
        option.textContent = device.label || `${fallbackLabel} ${index + 1}`;
        option.selected = device.deviceId === currentId;
        return option;
      })
    );
  };
  devicesButton.addEventListener("click", async () => {
    const { cameras, microphones, speakers } = await listDevices();
    const videoTrack = media.track("video");
    const audioTrack = media.track("audio");
    fill(cameraSelect, cameras, videoTrack && videoTrack.getSettings().deviceId, "Camera");
    fill(micSelect, microphones, audioTrack && audioTrack.getSettings().deviceId, "Microphone");
    fill(speakerSelect, speakers, tiles.sinkId, "Speaker");
    devicesDialog.showModal();
  });
  cameraSelect.addEventListener("change", () => media.useCamera({ deviceId: { exact: cameraSelect.value } }));
  micSelect.addEventListener("change", () => media.useMicrophone(micSelect.value));
  speakerSelect.addEventListener("change", () => tiles.setSink(speakerSelect.value));

  const frame = document.getElementById("call-frame");
  fullscreenButton.addEventListener("click", async () => {
    if (document.fullscreenElement) await document.exitFullscreen();
    else if (frame.requestFullscreen) await frame.requestFullscreen().catch(() => {});
  });
  document.addEventListener("fullscreenchange", () => {
    // The label says what a click does now.
    const full = !!document.fullscreenElement;
    const label = full ? fullscreenButton.dataset.labelExit : fullscreenButton.dataset.labelEnter;
    fullscreenButton.setAttribute("aria-pressed", String(full));
    fullscreenButton.setAttribute("aria-label", label);
    fullscreenButton.title = label;
    fullscreenButton.querySelector(".label").textContent = label;
  });

  endButton.addEventListener("click", () => endDialog.showModal());
  endDialog.addEventListener("close", () => {
    if (endDialog.returnValue === "end") onEnd();
  });
  reflect();
}
