// Call recording on the operator's page: every stream the page receives and
// its own, each with its own MediaRecorder, uploaded as it is produced.
//
// Each recorder emits a chunk every few seconds. A chunk is numbered, hashed
// (SHA-256, checked by the server before it stores a byte) and kept in memory
// until the server has it; uploads retry with backoff for as long as the page
// lives, and after a failure the page asks the server which chunks it holds
// before sending more (a chunk sent twice is stored once anyway). A page that
// crashes loses what it had not uploaded yet, at most the last chunk while
// the network keeps up; the page that comes back starts the next segment of
// every stream.
//
// MediaRecorder records a fixed set of tracks: when a stream's tracks change
// (a camera switch, a participant who rejoins) the segment is finished and a
// new one started.

import { csrfToken } from "./call-ui.js";

const VIDEO_TYPES = ["video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus", "video/webm"];
const AUDIO_TYPES = ["audio/webm;codecs=opus", "audio/webm"];
const TIMESLICE_MS = 3000;
// A received stream's audio and video tracks arrive one after the other:
// start once both had their chance.
const SETTLE_MS = 400;
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 15000;
export const UPLOAD_FAIL_LIMIT_MS = 15000;
const DEFAULT_MAX_CHUNK_BYTES = 4 * 1024 * 1024;

export function recordingSupported() {
  return typeof MediaRecorder !== "undefined" && VIDEO_TYPES.concat(AUDIO_TYPES).some((t) => MediaRecorder.isTypeSupported(t));
}

function mimeTypeFor(stream) {
  const types = stream.getVideoTracks().length ? VIDEO_TYPES : AUDIO_TYPES;
  return types.find((type) => MediaRecorder.isTypeSupported(type)) || null;
}

function trackKey(stream) {
  return stream
    .getTracks()
    .filter((track) => track.readyState === "live")
    .map((track) => track.id)
    .sort()
    .join(",");
}

async function sha256Hex(buffer) {
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class UploadError extends Error {
  constructor(message, { status = 0, code = "network", retry = true } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.retry = retry;
  }
}

async function send(url, { method = "POST", body, headers = {} } = {}) {
  let response;
  try {
    response = await fetch(url, {
      method,
      body,
      headers: { "X-CSRFToken": csrfToken(), ...headers },
      credentials: "same-origin",
      // A lapsed login answers with a redirect to the login page: a failure
      // to retry (and warn about), never a success.
      redirect: "manual",
    });
  } catch (err) {
    throw new UploadError(String(err));
  }
  let answer = {};
  try {
    answer = await response.json();
  } catch {
    answer = {};
  }
  if (response.ok) return answer;
  const code = (answer.error && answer.error.code) || `http_${response.status}`;
  // Server trouble, a checksum spoiled on the way, a lapsed login: try again.
  // Anything else will not get better by repeating it.
  const retry = response.status === 0 || response.status >= 500 || response.status === 429 || code === "checksum_mismatch";
  throw new UploadError((answer.error && answer.error.message) || `HTTP ${response.status}`, { status: response.status, code, retry });
}

class Segment {
  constructor(owner, label, stream) {
    this.owner = owner;
    this.label = label;
    this.stream = stream;
    this.key = trackKey(stream);
    this.id = crypto.randomUUID();
    this.queue = []; // {index, bytes, sha256} not yet stored by the server
    this.chunkCount = 0;
    this.hashing = Promise.resolve();
    this.recorderDone = false;
    this.done = false;
    this.info = null; // the server's answer to the start
    this.wakeUp = null;
    this.needsSync = false;
  }

  start() {
    this.mimeType = mimeTypeFor(this.stream);
    if (!this.mimeType) throw new Error("no supported recording format");
    this.recorder = new MediaRecorder(this.stream, {
      mimeType: this.mimeType,
      videoBitsPerSecond: 1_000_000,
      audioBitsPerSecond: 64_000,
    });
    this.recorder.ondataavailable = ({ data }) => this.onData(data);
    this.recorder.onstop = () => {
      this.hashing.then(() => {
        this.recorderDone = true;
        this.wake();
      });
    };
    this.recorder.onerror = (event) => this.owner.segmentBroke(this, event.error || new Error("recorder error"));
    this.recorder.start(TIMESLICE_MS);
    this.startedAt = performance.now();
    this.run();
  }

  onData(blob) {
    if (!blob || !blob.size) return;
    // Hash in order, so chunk numbers follow the recorder's order.
    this.hashing = this.hashing.then(async () => {
      const buffer = await blob.arrayBuffer();
      const limit = (this.info && this.info.max_chunk_bytes) || DEFAULT_MAX_CHUNK_BYTES;
      for (let offset = 0; offset < buffer.byteLength; offset += limit) {
        // The server concatenates chunks byte for byte: a big blob may be split anywhere.
        const bytes = buffer.slice(offset, offset + limit);
        this.queue.push({ index: this.chunkCount++, bytes, sha256: await sha256Hex(bytes) });
      }
      this.owner.changed();
      this.wake();
    });
  }

  stop() {
    if (this.recorder && this.recorder.state !== "inactive") this.recorder.stop();
    else if (!this.recorder) {
      this.recorderDone = true;
      this.wake();
    }
  }

  wake() {
    if (this.wakeUp) this.wakeUp();
  }

  waitForWork() {
    return new Promise((resolve) => {
      this.wakeUp = () => {
        this.wakeUp = null;
        resolve();
      };
    });
  }

  async open() {
    const body = new URLSearchParams({
      id: this.id,
      stream: this.label,
      mime_type: this.mimeType,
      elapsed_ms: String(Math.round(performance.now() - this.startedAt)),
    });
    this.info = await send(this.owner.startUrl, { body });
  }

  async sync() {
    // After a failure: what does the server hold already? (An answer lost on
    // the way back leaves a chunk stored that the page still queues.)
    const status = await send(this.owner.startUrl + "/" + this.id, { method: "GET" });
    const stored = new Set(status.chunks);
    this.queue = this.queue.filter((item) => !stored.has(item.index));
    this.needsSync = false;
  }

  async upload(item) {
    const answer = await send(this.info.chunk_url_prefix + item.index, {
      method: "PUT",
      body: item.bytes,
      headers: { "Content-Type": "application/octet-stream", "X-Chunk-SHA256": item.sha256 },
    });
    if (answer.sha256 !== item.sha256) throw new UploadError("unexpected answer to an upload");
  }

  async run() {
    let backoff = BACKOFF_FIRST_MS;
    while (!this.done) {
      try {
        if (!this.info) await this.open();
        else if (this.needsSync) {
          // Asking is not uploading: the failure clock keeps running until a
          // chunk gets through.
          await this.sync();
          continue;
        } else if (this.queue.length) {
          await this.upload(this.queue[0]);
          this.queue.shift();
        } else if (this.recorderDone) {
          await send(this.info.finish_url, { body: new URLSearchParams({ chunks: String(this.chunkCount) }) });
          this.done = true;
        } else {
          await this.waitForWork();
          continue;
        }
        backoff = BACKOFF_FIRST_MS;
        this.owner.uploadSucceeded();
      } catch (err) {
        if (!(err instanceof UploadError) || !err.retry) {
          // The call ended before this segment could open, or the server
          // refuses it for good: nothing more to do for it.
          this.done = true;
          this.queue = [];
          this.owner.segmentRefused(this, err);
          break;
        }
        this.owner.uploadFailed(err);
        if (this.info) this.needsSync = true;
        await sleep(backoff + Math.random() * 250);
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      }
    }
    this.owner.segmentDone(this);
  }
}

export class CallRecorder extends EventTarget {
  // Events: "problem" {code, message} (warn the operator now), "recovered",
  // "progress" {pending, active}.
  constructor({ startUrl, failLimitMs = UPLOAD_FAIL_LIMIT_MS }) {
    super();
    this.startUrl = startUrl;
    this.failLimitMs = failLimitMs;
    this.segments = new Map(); // label -> the current segment
    this.closing = new Set(); // finished segments still uploading
    this.timers = new Map();
    this.failingSince = null;
    this.problem = null;
    this.stopped = false;
    this.supported = recordingSupported();
    this.watchdog = setInterval(() => this.checkHealth(), 1000);
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  record(label, stream) {
    if (this.stopped) return;
    if (!this.supported) {
      this.raise("unsupported", "This browser cannot record the call (no MediaRecorder).");
      return;
    }
    clearTimeout(this.timers.get(label));
    this.timers.set(
      label,
      setTimeout(() => {
        this.timers.delete(label);
        this.begin(label, stream);
      }, SETTLE_MS)
    );
  }

  begin(label, stream) {
    if (this.stopped) return;
    const current = this.segments.get(label);
    const key = trackKey(stream);
    if (current && current.stream === stream && current.key === key) return;
    if (current) this.finishSegment(current);
    if (!key) return; // nothing live to record (no camera or microphone)
    const segment = new Segment(this, label, stream);
    this.segments.set(label, segment);
    try {
      segment.start();
    } catch (err) {
      this.segments.delete(label);
      this.raise("recorder", `Recording could not start: ${err.message || err}`);
    }
    this.changed();
  }

  stop(label) {
    clearTimeout(this.timers.get(label));
    this.timers.delete(label);
    const current = this.segments.get(label);
    if (current) this.finishSegment(current);
  }

  finishSegment(segment) {
    if (this.segments.get(segment.label) === segment) this.segments.delete(segment.label);
    this.closing.add(segment);
    segment.stop();
    this.changed();
  }

  // Stop every recorder; resolves once everything is uploaded (or refused).
  stopAll() {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const segment of [...this.segments.values()]) this.finishSegment(segment);
    return new Promise((resolve) => {
      const check = () => {
        if (this.closing.size === 0) {
          clearInterval(this.watchdog);
          resolve();
          return true;
        }
        return false;
      };
      if (!check()) this.addEventListener("progress", () => check());
    });
  }

  segmentBroke(segment, error) {
    // The recorder stopped on its own (its track set changed, or an
    // encoder error): finish it, and go on in a new segment if the stream lives.
    const label = segment.label;
    if (this.segments.get(label) !== segment) return;
    this.finishSegment(segment);
    if (!this.stopped && trackKey(segment.stream)) this.record(label, segment.stream);
    else this.raise("recorder", `Recording stopped: ${error.message || error}`);
  }

  segmentRefused(segment, error) {
    if (error && error.code === "call_not_running") return; // the call ended first
    this.raise("refused", `The server refused the recording (${error.code || error.message}).`);
  }

  segmentDone(segment) {
    this.closing.delete(segment);
    if (this.segments.get(segment.label) === segment) this.segments.delete(segment.label);
    this.changed();
  }

  uploadSucceeded() {
    this.failingSince = null;
    if (this.problem && this.problem.code === "upload") {
      this.problem = null;
      this.emit("recovered", {});
    }
    this.changed();
  }

  uploadFailed(error) {
    if (this.failingSince === null) this.failingSince = Date.now();
    this.lastError = error;
    this.checkHealth();
  }

  checkHealth() {
    if (this.failingSince !== null && Date.now() - this.failingSince >= this.failLimitMs) {
      const seconds = Math.round((Date.now() - this.failingSince) / 1000);
      this.raise("upload", `The recording has not reached the server for ${seconds} s; it is kept in this page and retried.`);
    }
  }

  raise(code, message) {
    const fresh = !this.problem || this.problem.code !== code;
    this.problem = { code, message };
    if (fresh || code === "upload") this.emit("problem", this.problem);
  }

  get pendingChunks() {
    let count = 0;
    for (const segment of [...this.segments.values(), ...this.closing]) count += segment.queue.length;
    return count;
  }

  changed() {
    this.emit("progress", { pending: this.pendingChunks, active: this.segments.size, closing: this.closing.size });
  }
}
