// The customer's page: device check, Join, waiting, the call, the result.
// Every stage lives in one frame, so the camera keeps running throughout and
// prompts appear as overlays, never as separate pages.

import { bindCallControls, DurationClock, format, newCallEngine, postForm, readJson, RemoteTiles } from "./call-ui.js";
import { CaptureIntegrity } from "./capture-integrity.js";
import { grabFrame } from "./frame-grab.js";
import { LevelMeter, LightMeter, LocalMedia, mediaErrorKey } from "./local-media.js";

// A liveness burst: frames this far apart (workflows.steps
// LIVENESS_BURST_INTERVAL_MS), all grabbed before any is uploaded, so an
// upload's latency never stretches the gaps: a blink of 100 ms falls
// between frames 300 ms apart.
const BURST_INTERVAL_MS = 100;
// An operator challenge (a hand across the face) is asked and captured in one
// go: the customer gets a moment to read it and start, and the frames are
// spread over the movement.
const CHALLENGE_LEAD_MS = 2000;
const CHALLENGE_INTERVAL_MS = 500;
const capturesInFlight = new Set();
// A failed upload tries again by itself, with backoff: no later state push
// may come to remind the page (nothing else in the call has to change).
const captureAttempts = new Map();
const CAPTURE_RETRY_LIMIT = 6;
let latestCapture = null;

const data = readJson("page-data");
const t = readJson("i18n");
const root = document.getElementById("main");
const $ = (id) => document.getElementById(id);
const localVideo = $("local-video");
const media = new LocalMedia();
// Warning signs about the camera for the operator's risk panel.
const integrity = new CaptureIntegrity({ media, video: localVideo });
const engineRef = { engine: null };
const clock = new DurationClock($("call-duration"));
const tiles = new RemoteTiles($("remote-tiles"), {
  operatorLabel: t.operator,
  mutedLabel: t.muted,
  cameraOffLabel: t.cameraOff,
});
let meters = [];
let lastDecision = null;
let ended = false;
// The prompt this page confirmed on its current socket (a reconnect confirms
// again: the server ignores a repeat, and a confirmation lost with the old
// socket would leave the operator told it was not shown).
let confirmedPrompt = null;

// Screen readers hear the waiting status, each prompt and the result through
// one polite live region. Only new text is written: state pushes repeat the
// same prompt and queue place many times.
function announce(text) {
  const region = $("live-status");
  if (text && region.textContent !== text) region.textContent = text;
}

function setStage(stage) {
  root.dataset.stage = stage;
  $("device-panel").hidden = stage !== "device";
  $("connecting-panel").hidden = stage !== "connecting";
  $("ended-panel").hidden = stage !== "ended";
  $("btn-end").hidden = stage !== "in_call";
  $("btn-join").hidden = stage !== "device";
  if (stage !== "in_call") $("prompt").hidden = true;
}

function showMediaError(err) {
  const message = $("media-error");
  message.textContent = t[mediaErrorKey(err)];
  message.hidden = false;
  $("btn-retry-media").hidden = false;
  $("btn-join").disabled = true;
}

async function startMedia() {
  $("media-error").hidden = true;
  $("btn-retry-media").hidden = true;
  try {
    await media.start();
  } catch (err) {
    showMediaError(err);
    return false;
  }
  localVideo.srcObject = media.stream;
  integrity.precall(); // measured while the preview runs; sent once the call socket opens
  meters.forEach((m) => m.stop());
  meters = [
    new LevelMeter(media.stream, (level) => ($("mic-level").value = level)),
    new LightMeter(localVideo, (brightness) => {
      const hint = $("light-hint");
      const key = brightness < 50 ? "tooDark" : brightness > 215 ? "tooBright" : "lightOk";
      hint.textContent = t[key];
      hint.dataset.level = key;
    }),
  ];
  $("btn-join").disabled = false;
  return true;
}

function showEnded() {
  if (ended) return;
  ended = true;
  clock.stop();
  meters.forEach((m) => m.stop());
  integrity.stop();
  if (engineRef.engine) engineRef.engine.stop();
  // Nothing of the call stays live: camera and microphone released, the
  // others' tiles and the badge gone; the stage itself is hidden (CSS).
  media.stop();
  localVideo.srcObject = null;
  tiles.clear();
  $("recording-badge").hidden = true;
  const outcome = lastDecision ? lastDecision.outcome : null;
  const titles = { approve: ["approved", "approvedText"], reject: ["rejected", "rejectedText"], retry: ["retry", "retryText"], review: ["inReview", "inReviewText"] };
  // Aborted because the picture or the line was too poor: said so, with a new try.
  const poorConditions = Boolean(lastDecision && lastDecision.poor_conditions);
  const [title, text] = poorConditions ? ["poorConditions", "poorConditionsText"] : titles[outcome] || ["callEnded", "callEndedText"];
  $("ended-try-again").hidden = !poorConditions;
  $("ended-title").textContent = t[title];
  $("ended-text").textContent = t[text];
  root.dataset.outcome = outcome || "none";
  announce(`${t[title]}. ${t[text]}`);
  if (data.redirect_url) {
    const link = $("ended-continue");
    link.href = data.redirect_url;
    link.hidden = false;
  }
  setStage("ended");
  // The call's controls and panels are gone: focus goes to what is left to read.
  $("ended-title").focus();
}

function renderPrompt(prompt, peerId) {
  const box = $("prompt");
  if (!prompt || root.dataset.stage !== "in_call") {
    box.hidden = true;
    return;
  }
  // The one-time code's line names where it went, in this page's words.
  const oneTimeCode = prompt.code === "one_time_code";
  const base = oneTimeCode ? format(t.prompt_one_time_code, { to: prompt.sent_to || "" }) : t[`prompt_${prompt.code}`] || "";
  // A workflow's own text (a question) in this page's language if it has it.
  const own = oneTimeCode ? document.createElement("span") : ownText(prompt);
  const extra = own.textContent;
  const line = $("prompt-text");
  line.replaceChildren(base);
  if (extra) line.append(base ? " " : "", own);
  const text = `${base} ${extra}`.trim();
  const isNew = box.dataset.promptId !== String(prompt.id || "") || box.hidden;
  // Said once per prompt: a state push repeating it must not talk over what
  // was said since (the answer sent).
  if (isNew) announce(text);
  box.dataset.code = prompt.code;
  box.dataset.promptId = prompt.id || "";
  box.hidden = false;
  renderAnswer(prompt, isNew);
  confirmPrompt(prompt, peerId);
}

// A workflow's own text (a question, a choice) comes in every language it
// has: this page's language if there, else the text the server chose (in
// item.lang), marked with its real language for screen readers.
function ownText(item) {
  const pageLang = document.documentElement.lang;
  const own = item.texts && item.texts[pageLang];
  const span = document.createElement("span");
  span.lang = own ? pageLang : item.lang || pageLang;
  span.textContent = own || item.text || "";
  return span;
}

// A question the customer answers in the frame: a field to type into, or
// the choices as buttons. Built once per prompt (a state push must not wipe
// what is being typed); what was sent is said under it, after a reload too.
function renderAnswer(prompt, isNew) {
  const form = $("prompt-answer");
  if (prompt.code === "one_time_code") {
    renderOneTimeCode(prompt, isNew);
    return;
  }
  if (!["typed", "choice"].includes(prompt.answer)) {
    form.hidden = true;
    form.replaceChildren();
    return;
  }
  const status = $("prompt-answer-status");
  if (isNew || !form.childElementCount) {
    form.replaceChildren();
    form.dataset.promptId = prompt.id;
    if (prompt.answer === "typed") {
      const input = document.createElement("input");
      input.type = "text";
      input.id = "prompt-answer-input";
      input.name = "answer";
      input.autocomplete = "off";
      input.maxLength = 2000;
      input.setAttribute("aria-labelledby", "prompt-text");
      input.value = (prompt.answered && prompt.answered.text) || "";
      const send = document.createElement("button");
      send.type = "submit";
      send.className = "button primary";
      send.textContent = t.sendAnswer;
      const row = document.createElement("div");
      row.className = "prompt-answer-row";
      row.append(input, send);
      form.append(row);
      form.onsubmit = (event) => {
        event.preventDefault();
        sendAnswer(prompt, { answer: input.value });
      };
    } else {
      const group = document.createElement("div");
      group.className = "prompt-choices";
      group.setAttribute("role", "group");
      group.setAttribute("aria-labelledby", "prompt-text");
      prompt.choices.forEach((choice, number) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "button";
        button.dataset.choice = String(number);
        button.append(ownText(choice));
        button.addEventListener("click", () => sendAnswer(prompt, { choice: String(number) }));
        group.append(button);
      });
      form.append(group);
      form.onsubmit = (event) => event.preventDefault();
    }
    status.textContent = "";
  }
  const chosen = prompt.answered && "choice" in prompt.answered ? String(prompt.answered.choice) : null;
  for (const button of form.querySelectorAll("[data-choice]")) button.setAttribute("aria-pressed", String(button.dataset.choice === chosen));
  if (prompt.answered && !status.dataset.error) status.textContent = t.answerSent;
  form.hidden = false;
  // A new question to type: the field takes the focus the prompt asks for.
  const input = $("prompt-answer-input");
  if (isNew && input) input.focus({ preventScroll: true });
}

// The one-time code: a field the phone's keyboard offers the received code
// for (autocomplete="one-time-code", digits only), and a clear line when it
// is wrong, expired or locked (the server's words: how many tries are left).
function renderOneTimeCode(prompt, isNew) {
  const form = $("prompt-answer");
  const status = $("prompt-answer-status");
  if (isNew || form.dataset.promptId !== String(prompt.id) || !form.childElementCount) {
    form.replaceChildren();
    form.dataset.promptId = prompt.id;
    const input = document.createElement("input");
    input.type = "text";
    input.id = "one-time-code-input";
    input.name = "code";
    input.autocomplete = "one-time-code";
    input.inputMode = "numeric";
    input.pattern = "[0-9]*";
    input.maxLength = 6;
    input.className = "one-time-code-input";
    input.setAttribute("aria-label", t.oneTimeCodeLabel);
    input.setAttribute("aria-describedby", "prompt-text prompt-answer-status");
    const send = document.createElement("button");
    send.type = "submit";
    send.className = "button primary";
    send.textContent = t.oneTimeCodeConfirm;
    const row = document.createElement("div");
    row.className = "prompt-answer-row";
    row.append(input, send);
    form.append(row);
    form.onsubmit = (event) => {
      event.preventDefault();
      sendOneTimeCode(input, send);
    };
    delete status.dataset.error;
    status.textContent = "";
  }
  form.hidden = false;
  const input = $("one-time-code-input");
  if (isNew && input) input.focus({ preventScroll: true });
}

async function sendOneTimeCode(input, button) {
  const status = $("prompt-answer-status");
  button.disabled = true;
  let answer;
  try {
    answer = await postForm(data.one_time_code_url, { code: input.value.replace(/\s+/g, "") });
  } catch {
    answer = { ok: false, body: {} };
  }
  button.disabled = false;
  if (answer.ok) {
    delete status.dataset.error;
    status.textContent = t.oneTimeCodeConfirmed;
    input.removeAttribute("aria-invalid");
  } else {
    status.dataset.error = (answer.body.error && answer.body.error.code) || "1";
    status.textContent = (answer.body.error && answer.body.error.message) || t.oneTimeCodeNotSent;
    input.setAttribute("aria-invalid", "true");
    input.select();
  }
  announce(status.textContent);
}

async function sendAnswer(prompt, fields) {
  const status = $("prompt-answer-status");
  const answer = await postForm(data.answer_url, { prompt: String(prompt.id), question: String(prompt.question), ...fields });
  if (answer.ok) {
    delete status.dataset.error;
    status.textContent = t.answerSent;
    announce(t.answerSent);
    if ("choice" in fields) {
      for (const button of $("prompt-answer").querySelectorAll("[data-choice]")) button.setAttribute("aria-pressed", String(button.dataset.choice === fields.choice));
    }
  } else {
    status.dataset.error = "1";
    status.textContent = (answer.body.error && answer.body.error.message) || t.answerNotSent;
    announce(status.textContent);
  }
}

// The operator's panel shows whether each prompt reached this screen: once
// the prompt is on screen (after the next frame is painted; a hidden tab
// paints nothing and so confirms nothing), the page names it to the server.
function confirmPrompt(prompt, peerId) {
  if (!prompt.id || confirmedPrompt === prompt.id) return;
  requestAnimationFrame(() => {
    const box = $("prompt");
    const onScreen = !box.hidden && box.dataset.promptId === String(prompt.id) && $("prompt-text").textContent.trim() !== "";
    if (!onScreen || confirmedPrompt === prompt.id || !engineRef.engine) return;
    if (engineRef.engine.send({ type: "prompt_shown", participant: peerId, prompt: prompt.id })) confirmedPrompt = prompt.id;
  });
}

function renderState(state) {
  const session = state.session;
  lastDecision = state.me.decision || lastDecision;
  // A call aborted for poor conditions is over for this customer at once
  // (in a group call the others go on): the end view offers a new try.
  const aborted = Boolean(lastDecision && lastDecision.poor_conditions);
  if (session.ended || aborted || ["left", "removed"].includes(state.me.state)) {
    showEnded();
    return;
  }
  // The operator's page records the call; everyone sees that it does.
  $("recording-badge").hidden = !(session.recording && session.state === "in_call");
  if (session.state === "in_call") {
    if (root.dataset.stage !== "in_call") setStage("in_call");
    integrity.inCall();
    clock.start(session.answered_at, session.server_time);
  } else {
    setStage("connecting");
    renderQueue(state.queue || {});
    const missing = (state.others || []).filter((o) => !["waiting", "in_call"].includes(o.state)).map((o) => o.name);
    $("waiting-others").hidden = missing.length === 0;
    $("waiting-others").textContent = format(t.waitingOthers, { names: missing.join(", ") });
  }
  renderPrompt(state.me.prompt, state.me.peer_id);
  latestCapture = state.me.capture || null;
  if (latestCapture) takeCapture(latestCapture);
}

// The waiting view says what is true now: whether an operator can answer
// (the server pushes a new state when an operator's presence changes), the
// place in the queue and, where the server has one, an estimated wait.
function renderQueue(queue) {
  const nobody = queue.operators_available === 0;
  $("connecting-panel").dataset.operators = nobody ? "none" : "some";
  $("connecting-title").textContent = nobody ? t.waitingNoOperatorTitle : t.waitingTitle;
  $("no-operator").hidden = !nobody;
  const parts = [];
  if (queue.position) parts.push(format(t.queuePosition, { position: queue.position }));
  if (!nobody) {
    if (queue.estimate_minutes === 0) parts.push(t.estimateNext);
    else if (queue.estimate_minutes) parts.push(format(t.estimateMinutes, { minutes: queue.estimate_minutes }));
    else {
      // No figure rather than a made-up one, and the page says why.
      parts.push(queue.operators_fitting === 0 ? t.estimateNoFitting : t.estimateNoData);
      parts.push(t.queueWaiting);
    }
  }
  $("queue-info").textContent = parts.join(" ");
  announce(`${$("connecting-title").textContent} ${parts.join(" ")}`.trim());
}

async function takeCapture(capture) {
  // The operator asked for a still: take it from this camera's own track,
  // at its full resolution, and upload it. A reload or a reconnect asks
  // again for whatever frames are still missing.
  if (capturesInFlight.has(capture.id)) return;
  capturesInFlight.add(capture.id);
  // A challenge's burst says "keep going" under its instruction, leaving the
  // face in view; a still says "hold still" across the picture.
  const challenge = capture.kind === "challenge_frame";
  const flash = challenge ? $("prompt-burst") : $("capture-flash");
  if (challenge) flash.textContent = t.challengeBurst;
  flash.hidden = false;
  const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  try {
    if (challenge && capture.missing[0] === 0) await wait(CHALLENGE_LEAD_MS);
    const grabbed = [];
    const started = performance.now();
    for (const [n, frame] of capture.missing.entries()) {
      if (challenge) {
        if (n > 0) await wait(CHALLENGE_INTERVAL_MS);
      } else {
        // On the burst's own clock, not after the last grab's encoding.
        await wait(Math.max(0, started + n * BURST_INTERVAL_MS - performance.now()));
      }
      grabbed.push([frame, await grabFrame(localVideo)]);
    }
    for (const [frame, blob] of grabbed) {
      const body = new FormData();
      body.append("image", blob, "capture.jpg");
      body.append("frame", String(frame));
      const answer = await postForm(`${data.capture_url_prefix}${capture.id}`, body);
      if (!answer.ok && answer.status !== 409) throw new Error(`upload failed: ${answer.status}`);
    }
  } catch (err) {
    console.warn("capture failed", err);
    capturesInFlight.delete(capture.id); // the next state push retries it, or the timer below
    const attempt = (captureAttempts.get(capture.id) || 0) + 1;
    captureAttempts.set(capture.id, attempt);
    if (attempt <= CAPTURE_RETRY_LIMIT) {
      setTimeout(() => {
        // Only the capture still asked for: a newer request replaces this one.
        if (latestCapture && latestCapture.id === capture.id) takeCapture(latestCapture);
      }, 500 * 2 ** (attempt - 1));
    }
  } finally {
    setTimeout(() => (flash.hidden = true), 400);
  }
}

function startEngine(joinAnswer) {
  const engine = newCallEngine({
    wsPath: joinAnswer.ws_path,
    rtc: joinAnswer.rtc,
    media,
    engineRef,
    tiles,
    onState: renderState,
    onEnded: showEnded,
  });
  engine.addEventListener("replaced", () => {
    ended = true;
    $("ended-title").textContent = t.replaced;
    $("ended-text").textContent = "";
    announce(t.replaced);
    setStage("ended");
    $("ended-title").focus();
  });
  engine.addEventListener("welcome", () => integrity.connected(engineRef));
  engine.addEventListener("socket-open", () => {
    $("reconnect-banner").hidden = true;
    confirmedPrompt = null; // the state this socket brings is confirmed anew
  });
  engine.addEventListener("socket-close", ({ detail }) => {
    if (ended) return;
    if (detail.fatal) {
      if (detail.code === 4000) showEnded();
      else if (root.dataset.stage === "connecting") setStage("device");
      // Shut out mid-call: the call ended while this page could not hear the
      // server (a network outage beyond the resume window), or the link was
      // revoked. The page, reloaded, shows what the server says now.
      else if (root.dataset.stage === "in_call") location.reload();
      return;
    }
    $("reconnect-banner").hidden = false;
  });
  engine.start();
}

async function join() {
  $("btn-join").disabled = true;
  const answer = await postForm(data.join_url, {});
  if (answer.status === 409 && answer.body.error && answer.body.error.code === "precall") {
    // A page before the call is due again (consent, location, country): the
    // server shows it on the reload.
    window.location.reload();
    return;
  }
  if (!answer.ok) {
    const message = $("media-error");
    message.textContent = answer.status === 410 ? t.errLink : t.errJoin;
    message.hidden = false;
    $("btn-join").disabled = false;
    return;
  }
  setStage("connecting");
  $("queue-info").textContent = t.queueWaiting;
  announce(`${$("connecting-title").textContent} ${t.queueWaiting}`);
  // The Join button is hidden now: without this, focus falls to <body>.
  $("connecting-title").focus();
  startEngine(answer.body);
}

function leaveQueue() {
  if (engineRef.engine) {
    engineRef.engine.send({ type: "end_call" });
    engineRef.engine.stop();
    engineRef.engine = null;
  }
  setStage("device");
  $("btn-join").disabled = false;
  $("btn-join").focus(); // the Leave button that had focus is hidden
}

async function main() {
  if (data.ended) {
    lastDecision = data.result || null;
    showEnded();
    return;
  }
  setStage("device");
  bindCallControls({ media, engineRef, localVideo, tiles, onEnd: () => engineRef.engine && engineRef.engine.send({ type: "end_call" }) });
  $("btn-join").addEventListener("click", join);
  $("btn-retry-media").addEventListener("click", startMedia);
  $("btn-leave-queue").addEventListener("click", leaveQueue);
  const ready = await startMedia();
  $("btn-switch").hidden = media.cameraCount < 2;
  // A reload mid-call (or while waiting) goes straight back in.
  if (ready && ["waiting", "in_call", "decided"].includes(data.state)) await join();
}

main();
