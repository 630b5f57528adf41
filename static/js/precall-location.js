// The live-location page before a regulated call (sessions_app.precall):
// the browser's position on a real button press (browsers refuse a
// permission prompt nobody asked for, and the customer should know why it
// appears), sent to the server, which decides where the customer goes next.

import { csrfToken, readJson } from "./call-ui.js";

const page = document.getElementById("location-page");
const button = document.getElementById("btn-share-location");
const status = document.getElementById("location-status");
const denied = document.getElementById("location-denied");
const unavailable = document.getElementById("location-unavailable");
const unavailableText = document.getElementById("location-unavailable-text");
const t = readJson("location-strings");

function show(state, message = "") {
  page.dataset.state = state;
  denied.hidden = state !== "denied";
  unavailable.hidden = state !== "unavailable";
  if (state === "unavailable" && message) unavailableText.textContent = message;
  status.textContent = state === "asking" ? t.asking : state === "sending" ? t.sending : "";
  button.disabled = state === "asking" || state === "sending";
  if (state === "denied" || state === "unavailable") {
    button.textContent = t.retry;
    // Where a keyboard or screen-reader user hears why, and the retry is next.
    (state === "denied" ? denied : unavailable).querySelector("h2").setAttribute("tabindex", "-1");
    (state === "denied" ? denied : unavailable).querySelector("h2").focus();
  }
}

async function send(position) {
  show("sending");
  const { latitude, longitude, accuracy } = position.coords;
  let response;
  try {
    response = await fetch(page.dataset.url, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ latitude, longitude, accuracy, timestamp: position.timestamp }),
    });
  } catch {
    show("unavailable", t.failed);
    return;
  }
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = {};
  }
  if (response.ok && body.next) {
    window.location.assign(body.next);
  } else if (response.status === 403 || response.status === 410) {
    window.location.reload(); // the link's own page says what happened
  } else {
    show("unavailable", (body.error && body.error.message) || t.failed);
  }
}

function locate() {
  if (!("geolocation" in navigator)) {
    show("unavailable", t.unsupported);
    return;
  }
  show("asking");
  navigator.geolocation.getCurrentPosition(
    send,
    (error) => show(error.code === error.PERMISSION_DENIED ? "denied" : "unavailable"),
    // A fresh, precise position: the record says where the customer is now.
    { enableHighAccuracy: true, timeout: 30000, maximumAge: 0 }
  );
}

button.addEventListener("click", locate);
// Disabled in the markup: a press before this module ran would do nothing.
button.disabled = false;
