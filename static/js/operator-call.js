// The operator's call page: the customers large, the operator's own view
// small, the connection quality, and per participant the prompts and the
// decision.

import { bindCallControls, DurationClock, format, newCallEngine, readJson, RemoteTiles } from "./call-ui.js";
import { LocalMedia, mediaErrorKey, takeHandedOverMedia } from "./local-media.js";
import { bindFraudFlag } from "./fraud-flag.js";
import { CallRecorder } from "./recorder.js";
import { WorkflowPanel } from "./workflow-panel.js";

const data = readJson("page-data");
const t = readJson("i18n");
const $ = (id) => document.getElementById(id);
const root = $("main");
const localVideo = $("local-video");
// Opened in place by the console, the camera is already starting.
const handed = takeHandedOverMedia();
const media = handed ? handed.media : new LocalMedia();
const engineRef = { engine: null };
const clock = new DurationClock($("call-duration"));
const tiles = new RemoteTiles($("remote-tiles"), { operatorLabel: t.operator, mutedLabel: t.muted, cameraOffLabel: t.cameraOff });
let ended = false;
bindFraudFlag({ url: data.flag_url, t });
// Records what this page receives and sends, from the answer to the end.
const recorder = data.ended ? null : new CallRecorder({ startUrl: data.recording_start_url });

function showEnded() {
  if (ended) return;
  ended = true;
  clock.stop();
  if (recorder) saveRecording();
  if (engineRef.engine) engineRef.engine.stop();
  // Nothing of the call stays live: camera and microphone released, the
  // tiles, the badge and the connection figures gone with it.
  media.stop();
  localVideo.srcObject = null;
  tiles.clear();
  $("recording-badge").hidden = true;
  $("connection-badge").textContent = "";
  delete $("connection-badge").dataset.quality;
  $("quality").hidden = true;
  root.dataset.stage = "ended";
  $("ended-panel").hidden = false;
  $("btn-end").hidden = true;
  // The End button the focus came back to from the dialog is gone: the
  // keyboard and the screen reader go on at the panel that replaced the call.
  $("ended-title").focus();
  if (!recorder) followComposition();
}

function showRecordingProblem({ message }) {
  const warning = $("recording-warning");
  warning.textContent = data.recording_required ? format(t.recordingRequired, { message }) : message;
  warning.hidden = false;
}

function saveRecording() {
  // The last chunks are still on their way: say so until the server has them.
  const status = $("recording-status");
  status.hidden = false;
  const show = ({ pending }) => {
    status.textContent = pending ? format(t.savingParts, { parts: pending }) : t.savingLast;
  };
  show({ pending: recorder.pendingChunks });
  recorder.addEventListener("progress", ({ detail }) => show(detail));
  window.addEventListener("beforeunload", warnUnsaved);
  recorder.stopAll().then(() => {
    status.dataset.saved = "true";
    window.removeEventListener("beforeunload", warnUnsaved);
    followComposition();
  });
}

// The server composes the recording after the call (a worker, or a thread
// in embedded mode): the page is free, and shows how far it has got.
async function followComposition() {
  const status = $("recording-status");
  status.hidden = false;
  for (;;) {
    let progress = null;
    try {
      const response = await fetch(data.recording_progress_url, { credentials: "same-origin" });
      if (response.ok) progress = await response.json();
    } catch {
      progress = null;
    }
    const state = progress ? progress.state : "unknown";
    status.dataset.state = state;
    if (state === "composed") return void (status.textContent = t.recordingComposed);
    if (state === "nothing") return void (status.textContent = t.recordingNothing);
    if (state === "failed") return void (status.textContent = t.recordingFailed);
    status.textContent =
      state === "composing" && progress.percent != null ? format(t.recordingComposing, { percent: `${progress.percent} %` }) : t.recordingQueued;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

function warnUnsaved(event) {
  event.preventDefault();
  event.returnValue = "";
}

function showToast(text) {
  const toast = $("toast");
  toast.textContent = text;
  toast.hidden = false;
  clearTimeout(showToast.timer);
  showToast.timer = setTimeout(() => (toast.hidden = true), 5000);
}

const panel = new WorkflowPanel({
  tabs: $("participant-tabs"),
  panels: $("participant-panels"),
  data,
  engineRef,
  remoteVideoFor: (peerId) => {
    const tile = document.querySelector(`.tile.remote[data-peer-id="${peerId}"] video`);
    return tile || null;
  },
  onToast: showToast,
  // The customer the operator addresses gets the large tile.
  onActive: (peerId) => tiles.feature(peerId),
});

function renderState(state) {
  if (state.session.ended) {
    showEnded();
    return;
  }
  clock.start(state.session.answered_at, state.session.server_time);
  $("recording-badge").hidden = !state.session.recording;
  panel.render(state.participants);
  for (const participant of state.participants) tiles.setMedia(participant.peer_id, participant.media);
}

document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, textarea, select, [contenteditable]") || event.ctrlKey || event.metaKey || event.altKey) return;
  if (document.querySelector("dialog[open]")) return;
  const key = event.key.toLowerCase();
  if (key === "c") panel.shortcutCapture();
  else if (key === "n") panel.shortcutNextStep();
  else if (key === "m") $("btn-audio").click();
  else if (/^[1-9]$/.test(key) && panel.participants[Number(key) - 1]) {
    panel.active = panel.participants[Number(key) - 1].peer_id;
    panel.render(panel.participants);
  } else return;
  event.preventDefault();
});

async function updateQuality() {
  const engine = engineRef.engine;
  if (!engine || ended) return;
  const first = [...engine.peers.keys()][0];
  const stats = first ? await engine.stats(first) : null;
  const set = (name, value) => (document.querySelector(`[data-stat=${name}]`).textContent = value);
  if (!stats || ended) return; // the call may have ended while the figures were read
  set("rtt", stats.rtt != null ? `${Math.round(stats.rtt * 1000)} ms` : "–");
  set("loss", stats.loss != null ? `${(stats.loss * 100).toFixed(1)} %` : "–");
  set("resolution", stats.width ? `${stats.width}×${stats.height}` : "–");
  set("fps", stats.fps != null ? `${Math.round(stats.fps)}` : "–");
  const poor = (stats.rtt || 0) > 0.4 || (stats.loss || 0) > 0.05;
  $("connection-badge").textContent = poor ? t.poorConnection : t.goodConnection;
  $("connection-badge").dataset.quality = poor ? "poor" : "good";
}

// Minimum call conditions: every few seconds each customer's inbound video
// and the connection, measured here and judged by the server (the one place
// that knows the session's minimum); the panel shows its verdict.
const CONDITIONS_EVERY_MS = 3000;
// A new connection starts small and ramps its resolution up over a second or
// two: measured from its first moments every call would open "below the
// minimum" in compliance's history. (Until then approval waits: nothing measured.)
const CONDITIONS_WARM_UP_MS = 4000;
const conditionsWindow = new Map(); // peer id -> the previous reading's counters, and since when connected

async function reportConditions() {
  const engine = engineRef.engine;
  if (!engine || ended) return;
  for (const [peerId, peer] of engine.peers) {
    if (peer.pc.connectionState !== "connected") {
      conditionsWindow.delete(peerId);
      continue;
    }
    const reading = await engine.videoConditions(peerId);
    if (!reading || ended) continue;
    const before = conditionsWindow.get(peerId);
    if (!before) {
      conditionsWindow.set(peerId, { ...reading, since: Date.now() });
      continue;
    }
    conditionsWindow.set(peerId, { ...reading, since: before.since });
    if (Date.now() - before.since < CONDITIONS_WARM_UP_MS) continue;
    // Loss over this window only: a bad minute at the start must not mark the whole call.
    const lost = Math.max(0, reading.packetsLost - before.packetsLost);
    const received = Math.max(0, reading.packetsReceived - before.packetsReceived);
    const loss = lost + received > 0 ? (100 * lost) / (lost + received) : 0;
    engine.send({
      type: "call_conditions",
      participant: peerId,
      video_height: reading.height || 0,
      frame_rate: Math.min(240, Math.max(0, reading.fps || 0)),
      packet_loss_percent: Math.min(100, Math.round(loss * 100) / 100),
      rtt_ms: reading.rtt != null ? Math.min(60000, Math.round(reading.rtt * 1000)) : null,
    });
  }
}

async function main() {
  if (data.ended) {
    showEnded();
    return;
  }
  bindCallControls({ media, engineRef, localVideo, tiles, onEnd: () => engineRef.engine.send({ type: "end_call" }) });
  try {
    await (handed ? handed.starting : media.start());
  } catch (err) {
    const message = $("media-error");
    message.textContent = format(t.mediaUnavailable, { reason: mediaErrorKey(err) });
    message.hidden = false;
    media.stream = new MediaStream();
  }
  localVideo.srcObject = media.stream;
  $("btn-switch").hidden = media.cameraCount < 2;
  $("btn-end").hidden = false;
  const engine = newCallEngine({
    wsPath: data.ws_path,
    rtc: data.rtc,
    media,
    engineRef,
    tiles,
    onState: renderState,
    onEnded: showEnded,
  });
  // The recorder follows the tiles: each stream recorded while it is shown.
  engine.addEventListener("remote-stream", ({ detail }) => recorder.record(detail.peerId, detail.stream));
  engine.addEventListener("peer-left", ({ detail }) => recorder.stop(detail.peerId));
  engine.addEventListener("socket-open", () => ($("reconnect-banner").hidden = true));
  engine.addEventListener("socket-close", ({ detail }) => {
    if (ended) return;
    if (detail.fatal) showEnded();
    else $("reconnect-banner").hidden = false;
  });
  recorder.addEventListener("problem", ({ detail }) => showRecordingProblem(detail));
  recorder.addEventListener("recovered", () => ($("recording-warning").hidden = true));
  recorder.record("operator", media.stream);
  // A camera or microphone switch changes the tracks: a new segment.
  media.addEventListener("track-replaced", () => recorder.record("operator", media.stream));
  engine.addEventListener("call-conditions", ({ detail }) => panel.showConditions(detail));
  engine.addEventListener("peer-left", ({ detail }) => conditionsWindow.delete(detail.peerId));
  engine.start();
  root.dataset.stage = "in_call";
  setInterval(updateQuality, 2000);
  if (data.call_conditions) setInterval(reportConditions, CONDITIONS_EVERY_MS);
}

main();
