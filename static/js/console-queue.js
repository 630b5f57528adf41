// The operator's live queue: rows appear and disappear as customers wait and
// leave; one click answers; a ring (sound and notification) when someone new
// starts waiting, which the operator can mute.

import { csrfToken, format, plural, readJson } from "./call-ui.js";
import { handOverMedia, LocalMedia } from "./local-media.js";
import { SignalingSocket } from "./signaling.js";

const data = readJson("page-data");
const t = readJson("i18n");
const $ = (id) => document.getElementById(id);
const body = $("queue-body");
const columnNames = [...document.querySelectorAll(".queue-table thead th")].map((th) => th.textContent.trim());
let known = new Set();
let ringOn = localStorage.getItem("verity-ring") !== "off";
let first = true;

function formatWait(seconds) {
  const m = Math.floor(seconds / 60);
  return m ? format(t.minutesSeconds, { minutes: m, seconds: seconds % 60 }) : format(t.seconds, { seconds });
}

function ring() {
  if (!ringOn) return;
  try {
    const context = new AudioContext();
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.frequency.value = 880;
    gain.gain.value = 0.1;
    oscillator.connect(gain).connect(context.destination);
    oscillator.start();
    oscillator.stop(context.currentTime + 0.4);
  } catch {
    /* no audio output: the notification still shows */
  }
  if ("Notification" in window && Notification.permission === "granted") {
    new Notification(t.ringTitle, { body: t.ringText });
  }
}

function showToast(text) {
  const toast = $("toast");
  toast.textContent = text;
  toast.hidden = false;
  setTimeout(() => (toast.hidden = true), 5000);
}

async function answer(id, button) {
  button.disabled = true;
  // The camera starts with the click, beside the answer request: opening a
  // real camera takes a good part of a second, and no camera light shows
  // while the operator only waits for calls.
  const media = new LocalMedia();
  const starting = media.start();
  starting.catch(() => {}); // the call page explains a camera that failed
  const release = () => starting.then(() => media.stop(), () => {});
  let response;
  try {
    // Asked for as HTML, the answer brings the call page with it.
    response = await fetch(data.answer_url_template.replace("SESSION_ID", id), {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(), Accept: "text/html" },
      credentials: "same-origin",
    });
  } catch {
    response = null;
  }
  const callUrl = response && response.ok ? response.headers.get("X-Call-Url") : null;
  if (!callUrl) {
    release();
    const body = response ? await response.json().catch(() => ({})) : {};
    showToast((body.error && body.error.message) || t.answerFailed);
    button.disabled = false;
    return;
  }
  try {
    await openCallInPlace(callUrl, await response.text(), media, starting);
  } catch (err) {
    // Whatever went wrong here, the call page loaded the ordinary way opens
    // its own camera.
    console.warn("opening the call in place failed", err);
    release();
    location.href = callUrl;
  }
}

// The call opens in this document, as the page it would load: the call
// page's HTML (brought by the answer) put in place of the queue, its module
// (preloaded with this page, see console.html) run on it with the camera the
// click started. No page load between the click and the call socket; a
// reload or the Back button loads the call page or the console the ordinary
// way.
async function openCallInPlace(url, html, media, starting) {
  const page = new DOMParser().parseFromString(html, "text/html");
  socket.stop(); // the queue is over for this page, as when leaving it
  document.title = page.title;
  // Scripts parsed this way never run: the call page's module is imported below.
  document.body.replaceWith(document.adoptNode(page.body));
  handOverMedia(media, starting);
  await import(data.call_module_url);
  // The address changes once the page is the call page with its controls
  // bound, as a loaded page's would.
  history.pushState(null, "", url);
  window.addEventListener("popstate", () => location.reload());
}

// A booked call (sessions_app/scheduling.py): "Booked for 14:30", in the
// operator's own zone and language.
function bookedBadge(iso) {
  const badge = document.createElement("span");
  badge.className = "badge booked-for";
  const time = new Intl.DateTimeFormat(document.documentElement.lang || undefined, { dateStyle: "short", timeStyle: "short" }).format(new Date(iso));
  badge.textContent = format(t.bookedFor, { time });
  return badge;
}

function render(queue) {
  $("queue-count").textContent = String(queue.entries.length);
  $("queue-empty").hidden = queue.entries.length > 0;
  $("presence").value = queue.presence;
  $("queue-status").textContent = plural(t.operatorsAvailable, queue.operators_available);
  // Calls held back for operators who fit them better reach this console at
  // their fallback time (the server re-sends the queue then).
  $("queue-held-back").textContent = queue.held_back ? plural(t.heldBack, queue.held_back) : "";
  const ids = new Set(queue.entries.map((e) => e.id));
  const fresh = [...ids].some((id) => !known.has(id));
  if (fresh && !first) ring();
  first = false;
  known = ids;
  body.replaceChildren(
    ...queue.entries.map((entry) => {
      const row = document.createElement("tr");
      row.dataset.sessionId = entry.id;
      const ready = entry.participants.filter((p) => p.ready).length;
      const cells = [
        formatWait(entry.waiting_seconds),
        entry.kind === "multi_user" ? `${t.kinds.multi_user} (${format(t.readyCount, { ready, total: entry.participants.length })})` : t.kinds.one_on_one,
        entry.participants.map((p) => (p.ready ? p.name : format(t.notHereYet, { name: p.name }))).join(", "),
        entry.language_name || t.languageUnknown,
        entry.business_reference || "–",
      ];
      cells.forEach((text, index) => {
        const cell = document.createElement("td");
        cell.textContent = text;
        // The column's name, shown above the value where a phone stacks the row.
        cell.dataset.label = columnNames[index] || "";
        row.append(cell);
      });
      if (entry.booked_for) row.cells[1].append(bookedBadge(entry.booked_for));
      // Why the queue offers this call to this operator (operators/routing.py).
      const why = document.createElement("span");
      why.className = "offer-reason";
      why.dataset.reason = entry.offered.reason;
      why.textContent = entry.offered.label;
      row.cells[3].append(document.createElement("br"), why);
      row.cells[3].classList.add("call-language");
      // The waiting time counts on between server updates.
      row.cells[0].dataset.since = String(Date.now() - entry.waiting_seconds * 1000);
      row.cells[0].classList.add("wait-time");
      const action = document.createElement("td");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button primary small";
      button.textContent = t.answer;
      button.setAttribute("aria-label", format(t.answerCallOf, { names: entry.participants.map((p) => p.name).join(", ") }));
      button.addEventListener("click", () => answer(entry.id, button));
      action.append(button);
      row.append(action);
      return row;
    })
  );
}

setInterval(() => {
  for (const cell of document.querySelectorAll(".wait-time")) {
    cell.textContent = formatWait(Math.floor((Date.now() - Number(cell.dataset.since)) / 1000));
  }
}, 1000);

const socket = new SignalingSocket(data.queue_ws_path, { instance: "console" });
socket.addEventListener("message", ({ detail }) => {
  if (detail.type === "queue") render(detail);
});
socket.addEventListener("close", ({ detail }) => {
  $("queue-status").textContent = detail.fatal ? t.signedOut : t.reconnecting;
});
socket.connect();

// Going available asks for the camera and microphone if the browser has not
// been allowed them yet, so a permission prompt never stands between an
// Answer click and the customer. The devices are released at once: no
// camera light while the operator waits.
async function warmMediaPermission() {
  try {
    const states = await Promise.all(["camera", "microphone"].map((name) => navigator.permissions.query({ name })));
    if (states.every((status) => status.state === "granted")) return;
  } catch {
    /* these permissions cannot be queried here: ask */
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    stream.getTracks().forEach((track) => track.stop());
  } catch {
    /* refused or no device: the call page explains it when it opens */
  }
}

$("presence").addEventListener("change", (event) => {
  socket.send({ type: "presence", presence: event.target.value });
  if (event.target.value === "available") warmMediaPermission();
});
const ringButton = $("btn-ring");
const reflectRing = () => {
  ringButton.setAttribute("aria-pressed", String(ringOn));
  ringButton.textContent = ringOn ? t.ringOn : t.ringOff;
};
ringButton.addEventListener("click", () => {
  ringOn = !ringOn;
  localStorage.setItem("verity-ring", ringOn ? "on" : "off");
  if (ringOn && "Notification" in window && Notification.permission === "default") Notification.requestPermission();
  reflectRing();
});
reflectRing();
