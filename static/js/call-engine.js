// The call engine shared by the customer page and the operator console: one
// RTCPeerConnection per other person in the call (a full mesh), negotiated
// with the W3C "perfect negotiation" pattern so glare cannot deadlock a call.
// The server says who is in the call and which side of each pair is polite.
//
// Glare is survivable but not free: when the polite side rolls back its own
// offer, Chromium may gather no ICE candidates for the answer that follows
// (seen here: the call then never connects). So the impolite side opens each
// connection, and the polite side builds its end only when that first offer
// arrives (or, should none come, after a grace period). Later renegotiations
// (ICE restarts) still go through perfect negotiation.

import { SignalingSocket } from "./signaling.js";

const ICE_RESTART_AFTER_MS = 3000;
// The polite side restarts ICE later than the impolite one, so a failure seen
// by both does not make both offer at once.
const POLITE_RESTART_DELAY_MS = 4000;
const FIRST_OFFER_GRACE_MS = 4000;
// What each link may spend on video. The operator must see the customer at
// the camera's resolution (a document's small print), so a stream to the
// operator keeps its resolution and gives up frame rate when the link or
// the CPU is short; Chromium's defaults drop to a quarter of the pixels
// instead. Streams between customers and from the operator stay balanced.
const TO_OPERATOR = { maxBitrate: 2_500_000, scaleResolutionDownBy: 1, degradationPreference: "maintain-resolution" };
const TO_OTHERS = { maxBitrate: 1_000_000, degradationPreference: "balanced" };
// ...applied this long after the connection is up, not at once: at connect
// the encoder sends its first keyframe on a low starting bandwidth estimate,
// and reconfiguring it then (resolution kept, a new bitrate) makes that
// keyframe late and large, where the browser's defaults start small and
// ramp up. On a loaded machine, no setParameters at all took a new
// connection's first frame from 8.0 s to 5.2 s after connect (bench/mesh.py
// --without tune; the floor: 0.8–1.3 s): a part of the wait, not all of it.
const TUNE_VIDEO_AFTER_MS = 2000;

export function newInstanceId() {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

class Peer {
  constructor(engine, info, polite, media) {
    this.engine = engine;
    this.info = info;
    this.id = info.peer_id;
    this.instance = info.instance;
    this.polite = polite;
    this.media = media || { audio: true, video: true };
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.stream = null;
    this.restartTimer = null;
    this.tuneTimer = null;
    this.pc = new RTCPeerConnection(engine.rtc);
    for (const track of engine.localStream.getTracks()) this.pc.addTrack(track, engine.localStream);
    this.pc.ontrack = ({ track, streams }) => {
      this.stream = streams[0] || this.stream || new MediaStream();
      if (!this.stream.getTracks().includes(track)) this.stream.addTrack(track);
      engine.emit("remote-stream", { peerId: this.id, stream: this.stream });
    };
    this.pc.onnegotiationneeded = async () => {
      try {
        this.makingOffer = true;
        await this.pc.setLocalDescription();
        this.signal({ description: this.pc.localDescription.toJSON() });
      } catch (err) {
        console.warn("negotiation failed", err);
      } finally {
        this.makingOffer = false;
      }
    };
    this.pc.onicecandidate = ({ candidate }) => this.signal({ candidate: candidate ? candidate.toJSON() : null });
    this.pc.oniceconnectionstatechange = () => this.watchIce();
    this.pc.onconnectionstatechange = () => {
      if (this.pc.connectionState === "connected" && this.tuneTimer === null) {
        this.tuneTimer = setTimeout(() => this.tuneVideo(), TUNE_VIDEO_AFTER_MS);
      }
      engine.emit("peer-state", { peerId: this.id, state: this.pc.connectionState });
    };
  }

  // Encodings exist only once negotiated: applied after connect (see
  // TUNE_VIDEO_AFTER_MS), and kept by replaceTrack (a camera switch).
  async tuneVideo() {
    if (this.pc.connectionState === "closed") return;
    const { degradationPreference, ...encoding } = this.info.role === "operator" ? TO_OPERATOR : TO_OTHERS;
    const apply = (sender, withPreference) => {
      const params = sender.getParameters();
      if (!params.encodings || !params.encodings.length) return Promise.resolve();
      params.encodings = params.encodings.map((e) => ({ ...e, ...encoding }));
      if (withPreference) params.degradationPreference = degradationPreference;
      return sender.setParameters(params);
    };
    for (const sender of this.pc.getSenders()) {
      if (!sender.track || sender.track.kind !== "video") continue;
      // An older browser refuses the preference: keep the bitrate and scale.
      await apply(sender, true)
        .catch(() => apply(sender, false))
        .catch((err) => console.warn("video parameters not applied", err));
    }
  }

  signal(payload) {
    this.engine.socket.send({ type: "signal", to: this.id, ...payload });
  }

  async handleSignal({ description, candidate }) {
    const pc = this.pc;
    try {
      if (description) {
        const offerCollision = description.type === "offer" && (this.makingOffer || pc.signalingState !== "stable");
        this.ignoreOffer = !this.polite && offerCollision;
        if (this.ignoreOffer) return;
        await pc.setRemoteDescription(description);
        if (description.type === "offer") {
          await pc.setLocalDescription();
          this.signal({ description: pc.localDescription.toJSON() });
        }
      } else if (candidate) {
        try {
          await pc.addIceCandidate(candidate);
        } catch (err) {
          if (!this.ignoreOffer) throw err;
        }
      }
    } catch (err) {
      console.warn("signal from", this.id, "failed", err);
    }
  }

  watchIce() {
    const state = this.pc.iceConnectionState;
    clearTimeout(this.restartTimer);
    const extra = this.polite ? POLITE_RESTART_DELAY_MS : 0;
    if (state === "failed" || state === "disconnected") {
      // "disconnected" is often a short blip that heals by itself: restart
      // only if it lasts.
      const delay = (state === "failed" ? 0 : ICE_RESTART_AFTER_MS) + extra;
      this.restartTimer = setTimeout(() => {
        if (["failed", "disconnected"].includes(this.pc.iceConnectionState)) this.restartIce();
      }, delay);
    }
  }

  restartIce() {
    if (this.pc.connectionState === "closed") return;
    this.engine.emit("ice-restart", { peerId: this.id });
    this.pc.restartIce();
  }

  get connected() {
    return this.pc.connectionState === "connected";
  }

  close() {
    clearTimeout(this.restartTimer);
    clearTimeout(this.tuneTimer);
    this.pc.ontrack = this.pc.onnegotiationneeded = this.pc.onicecandidate = null;
    this.pc.oniceconnectionstatechange = this.pc.onconnectionstatechange = null;
    this.pc.close();
  }
}

export class CallEngine extends EventTarget {
  constructor({ wsPath, localStream, rtc }) {
    super();
    this.localStream = localStream;
    this.rtc = rtc || { iceServers: [] };
    this.instance = newInstanceId();
    this.peers = new Map();
    this.pending = new Map(); // peers we are polite to, until their first offer
    this.myPeerId = null;
    this.lastState = null;
    this.socket = new SignalingSocket(wsPath, { instance: this.instance });
    this.socket.addEventListener("message", (event) => this.onMessage(event.detail));
    this.socket.addEventListener("open", () => this.onSocketOpen());
    this.socket.addEventListener("close", (event) => this.emit("socket-close", event.detail));
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  start() {
    this.socket.connect();
  }

  onSocketOpen() {
    this.emit("socket-open", {});
    // Anything signalled while the socket was down is lost: kick ICE again
    // on every connection that is not healthy.
    for (const peer of this.peers.values()) {
      if (!peer.connected && peer.pc.signalingState === "stable") peer.restartIce();
    }
  }

  onMessage(message) {
    switch (message.type) {
      case "welcome":
        this.myPeerId = message.peer_id;
        if (message.rtc) this.rtc = message.rtc;
        this.emit("welcome", message);
        break;
      case "state":
        this.lastState = message;
        this.emit("state", message);
        break;
      case "heartbeat_ack":
        // A change whose nudge was lost (the channel layer delivers at most
        // once): the server's version is ahead of ours, so ask for the state.
        if (this.lastState && typeof message.version === "number" && message.version > this.lastState.version) {
          this.socket.send({ type: "sync" });
        }
        break;
      case "peer_joined":
        this.addPeer(message);
        break;
      case "peer_left":
        this.removePeer(message.peer_id);
        break;
      case "signal": {
        // The first offer of a peer we are polite to opens our end of it.
        const peer =
          this.peers.get(message.from) ||
          (message.description && message.description.type === "offer" ? this.openPeer(message.from) : null);
        if (peer) peer.handleSignal(message);
        break;
      }
      case "peer_media": {
        const peer = this.peers.get(message.peer_id);
        if (peer) peer.media = message.media;
        this.emit("peer-media", { peerId: message.peer_id, media: message.media });
        break;
      }
      case "call_ended":
        this.emit("ended", {});
        this.stop();
        break;
      case "replaced":
        this.emit("replaced", message);
        this.stop();
        break;
      case "call_conditions":
        // The server's verdict on a conditions report (the operator's page).
        this.emit("call-conditions", message);
        break;
      case "error":
        this.emit("server-error", message);
        break;
      default:
        break;
    }
  }

  addPeer({ peer: info, polite, media }) {
    const existing = this.peers.get(info.peer_id);
    if (existing && existing.instance === info.instance && existing.pc.connectionState !== "closed") {
      // The same page reconnected its socket: its media never stopped.
      existing.info = info;
      if (media) existing.media = media;
      return;
    }
    if (existing) {
      existing.close();
      this.peers.delete(info.peer_id);
    }
    this.pending.delete(info.peer_id);
    this.emit("peer-joined", { peerId: info.peer_id, info, media: media || { audio: true, video: true } });
    if (polite) {
      // Wait for the other side's offer; open the connection ourselves only
      // if it does not come.
      const timer = setTimeout(() => {
        if (this.pending.get(info.peer_id)?.timer === timer) this.openPeer(info.peer_id);
      }, FIRST_OFFER_GRACE_MS);
      this.pending.set(info.peer_id, { info, polite, media, timer });
      return;
    }
    this.peers.set(info.peer_id, new Peer(this, info, polite, media));
  }

  openPeer(peerId) {
    const waiting = this.pending.get(peerId);
    if (!waiting) return this.peers.get(peerId);
    clearTimeout(waiting.timer);
    this.pending.delete(peerId);
    const peer = new Peer(this, waiting.info, waiting.polite, waiting.media);
    this.peers.set(peerId, peer);
    return peer;
  }

  removePeer(peerId) {
    const waiting = this.pending.get(peerId);
    if (waiting) {
      clearTimeout(waiting.timer);
      this.pending.delete(peerId);
      this.emit("peer-left", { peerId });
    }
    const peer = this.peers.get(peerId);
    if (!peer) return;
    peer.close();
    this.peers.delete(peerId);
    this.emit("peer-left", { peerId });
  }

  async replaceTrack(kind, track) {
    const old = this.localStream.getTracks().find((t) => t.kind === kind);
    if (old && old !== track) this.localStream.removeTrack(old);
    if (!this.localStream.getTracks().includes(track)) this.localStream.addTrack(track);
    // replaceTrack swaps what a sender sends without renegotiation: the call
    // goes on uninterrupted.
    await Promise.all(
      [...this.peers.values()].map((peer) => {
        const sender = peer.pc.getSenders().find((s) => (s.track ? s.track.kind === kind : false));
        return sender ? sender.replaceTrack(track) : Promise.resolve();
      })
    );
  }

  setLocalStream(stream) {
    this.localStream = stream;
  }

  sendMediaState(media) {
    this.socket.send({ type: "media_state", audio: media.audio, video: media.video });
  }

  send(message) {
    return this.socket.send(message);
  }

  async stats(peerId) {
    const peer = this.peers.get(peerId);
    if (!peer) return null;
    const report = await peer.pc.getStats();
    const summary = { rtt: null, loss: null, width: null, height: null, fps: null, framesDecoded: 0 };
    let received = 0;
    let lost = 0;
    report.forEach((stat) => {
      if (stat.type === "candidate-pair" && stat.nominated && stat.currentRoundTripTime !== undefined) {
        summary.rtt = stat.currentRoundTripTime;
      }
      if (stat.type === "inbound-rtp") {
        received += stat.packetsReceived || 0;
        lost += Math.max(0, stat.packetsLost || 0);
        if (stat.kind === "video") {
          summary.width = stat.frameWidth || summary.width;
          summary.height = stat.frameHeight || summary.height;
          summary.fps = stat.framesPerSecond ?? summary.fps;
          summary.framesDecoded = stat.framesDecoded || 0;
        }
      }
    });
    summary.loss = received + lost > 0 ? lost / (received + lost) : null;
    return summary;
  }

  // What the call conditions are measured on: one peer's inbound video and
  // the connection's round trip. Counters are cumulative: the caller keeps
  // the previous reading to measure loss over its own window.
  async videoConditions(peerId) {
    const peer = this.peers.get(peerId);
    if (!peer) return null;
    const report = await peer.pc.getStats();
    const reading = { height: null, fps: null, packetsLost: 0, packetsReceived: 0, rtt: null };
    report.forEach((stat) => {
      if (stat.type === "candidate-pair" && stat.nominated && stat.currentRoundTripTime !== undefined) reading.rtt = stat.currentRoundTripTime;
      if (stat.type === "inbound-rtp" && stat.kind === "video") {
        reading.height = stat.frameHeight || reading.height;
        reading.fps = stat.framesPerSecond ?? reading.fps;
        reading.packetsLost += Math.max(0, stat.packetsLost || 0);
        reading.packetsReceived += stat.packetsReceived || 0;
      }
    });
    return reading;
  }

  stop() {
    this.socket.stop();
    for (const waiting of this.pending.values()) clearTimeout(waiting.timer);
    this.pending.clear();
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
  }
}
