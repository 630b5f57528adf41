// The signaling socket: JSON frames, a heartbeat, reconnect with backoff.
// Fatal close codes (call ended, not allowed, opened elsewhere) stop it.

const HEARTBEAT_MS = 10000;
// An attempt into a silent network can hang for minutes (TCP sends its SYN
// again ever more slowly): give up on it and try again on the backoff.
const CONNECT_TIMEOUT_MS = 10000;
const FATAL_CODES = new Set([4000, 4403, 4409, 4429]);

export class SignalingSocket extends EventTarget {
  constructor(path, { instance }) {
    super();
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.url = `${scheme}//${location.host}${path}?instance=${encodeURIComponent(instance)}`;
    this.attempt = 0;
    this.stopped = false;
    this.ws = null;
    this.heartbeat = null;
    this.lastAck = 0;
  }

  connect() {
    this.stopped = false;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    const connectTimer = setTimeout(() => {
      if (ws.readyState === WebSocket.CONNECTING) ws.close();
    }, CONNECT_TIMEOUT_MS);
    ws.addEventListener("open", () => {
      clearTimeout(connectTimer);
      this.attempt = 0;
      this.lastAck = Date.now();
      this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
      this.dispatchEvent(new CustomEvent("open"));
    });
    ws.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "heartbeat_ack") this.lastAck = Date.now();
      this.dispatchEvent(new CustomEvent("message", { detail: message }));
    });
    ws.addEventListener("close", (event) => {
      clearTimeout(connectTimer);
      clearInterval(this.heartbeat);
      if (this.ws !== ws) return;
      const fatal = FATAL_CODES.has(event.code);
      this.dispatchEvent(new CustomEvent("close", { detail: { code: event.code, fatal } }));
      if (!fatal && !this.stopped) this.scheduleReconnect();
    });
  }

  beat() {
    // A socket that stopped answering is dead even if the browser has not
    // noticed yet (a silent network drop): replace it.
    if (Date.now() - this.lastAck > HEARTBEAT_MS * 3) {
      this.forceReconnect();
      return;
    }
    this.send({ type: "heartbeat" });
  }

  scheduleReconnect() {
    const delay = Math.min(10000, 500 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt += 1;
    setTimeout(() => {
      if (!this.stopped) this.connect();
    }, delay);
  }

  forceReconnect() {
    const old = this.ws;
    this.ws = null;
    clearInterval(this.heartbeat);
    if (old) old.close();
    this.dispatchEvent(new CustomEvent("close", { detail: { code: 1006, fatal: false } }));
    this.connect();
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  get isOpen() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  stop() {
    this.stopped = true;
    clearInterval(this.heartbeat);
    if (this.ws) this.ws.close(1000);
  }
}
