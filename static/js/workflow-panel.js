// The operator's workflow panel: a tab per participant, their steps, the
// step being worked on, their captures, and the decision. Everything shown
// comes from the server's state; every click is stored on the server first.

import { format, plural, postForm, readJson } from "./call-ui.js";

// Every word here comes translated from the server (operators/ui_strings.py).
const t = readJson("i18n");
const STEP_LABELS = t.stepKinds;
const STEP_STATES = t.stepStates;
const ACTION_LABELS = t.actions;
const CHALLENGE_LABELS = t.challenges;

// The challenges the capture-integrity panel suggests: those of its signs,
// once it warns. Signs noted without a warning suggest nothing (the test
// camera always trips a weak one; a panel that says "no warning signs" does
// not push the operator to challenge the customer).
function suggestedChallenges(participant) {
  const panel = participant.integrity;
  if (!panel || !panel.raised) return [];
  const wanted = new Set(panel.signals.flatMap((signal) => t.challengesForSign[signal.code] || []));
  return Object.keys(CHALLENGE_LABELS).filter((code) => wanted.has(code));
}
const KIND_LABELS = t.captureKinds;
const CHECK_STATUS_LABELS = t.checkStatuses;
const RECOMMENDATION_LABELS = t.recommendations;
const TWO_SIDED = new Set(["id_card", "residence_permit", "driving_licence"]);
const CALL_STEPS = new Set(["document", "liveness", "questions", "notes"]);
const CAPTURE_STUCK_MS = 15000;
// A prompt the customer's page has not confirmed this long is flagged, with a
// way to send it again (a confirmation normally takes well under a second).
const PROMPT_CONFIRM_MS = 4000;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

// A questions step's questions in the console's language (the workflow's
// default where it has none): a question is a text, texts by language, or
// {ask, answer, choices}; and what the customer typed or chose in their frame.
function questionWords(step) {
  const local = (value) =>
    typeof value === "string" ? value : (value && (value[document.documentElement.lang] || value[step.config.default_language] || Object.values(value)[0])) || "";
  const asked = (step.config.questions || []).map((q) => (q && typeof q === "object" && "ask" in q ? q : { ask: q, answer: "spoken", choices: [] }));
  const fromCustomer = step.data.customer_answers || {};
  const customerSaid = (q) => {
    const given = fromCustomer[String(q)];
    if (!given) return null;
    return "choice" in given ? local((asked[q].choices || [])[given.choice]) : given.text;
  };
  return { questions: asked.map((q) => local(q.ask)), asked, customerSaid };
}

function customerAnswerLine(step, question) {
  const said = questionWords(step).customerSaid(question);
  return el(
    "span",
    { class: `customer-answer customer-answer-live${said === null ? " muted" : ""}`, "data-step": String(step.position), "data-question": String(question), role: "status" },
    said === null ? t.awaitingCustomerAnswer : format(t.customerAnswered, { answer: said })
  );
}

// The decision form's words, read from its template (the server renders
// them, translated): outcome and reason labels by code.
function decisionWords() {
  const form = document.getElementById("decision-template").content;
  const outcomes = {};
  form.querySelectorAll("input[name=outcome]").forEach((input) => (outcomes[input.value] = input.parentElement.textContent.trim()));
  const reasons = {};
  form.querySelectorAll("select[name=reason_code] option[value]").forEach((option) => (reasons[option.value] = option.textContent.trim()));
  return { outcomes, reasons };
}

// A capture on its way makes the capture buttons unavailable without taking
// them out of the focus order (a disabled button drops the keyboard focus to
// <body>); their clicks check it.
// A text the business wrote in several languages: the page's own, else English, else any.
function textIn(texts) {
  const lang = (document.documentElement.lang || "en").split("-")[0];
  return texts[lang] || texts.en || Object.values(texts)[0] || "";
}

// Seconds into the call, as the compliance page shows them: "+01:05".
function offsetWords(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const whole = Math.floor(seconds);
  return `+${String(Math.floor(whole / 60)).padStart(2, "0")}:${String(whole % 60).padStart(2, "0")}`;
}

function busyAttrs(busy, onclick) {
  return {
    "aria-disabled": busy ? "true" : null,
    onclick: (event) => {
      if (event.currentTarget.getAttribute("aria-disabled") === "true") return;
      onclick(event);
    },
  };
}

function reasonsFollowOutcome(form, outcome) {
  const select = form.querySelector("select[name=reason_code]");
  for (const option of select.options) {
    option.disabled = !option.value || !option.dataset.outcomes.split(" ").includes(outcome);
    option.hidden = option.disabled;
  }
  if (!select.selectedOptions[0] || select.selectedOptions[0].disabled) {
    const first = [...select.options].find((option) => !option.disabled);
    select.value = first ? first.value : "";
  }
}

// Deciding against the system's recommendation (approving what it would not
// approve, rejecting what it would approve) asks for a confirmation and a
// comment; the server refuses it without them (operators/services.py).
function overrideFollowsOutcome(form) {
  const outcome = form.querySelector("input[name=outcome]:checked")?.value;
  const advice = form.dataset.advice;
  const overrides = Boolean(advice) && ((outcome === "approve" && advice !== "approve") || (outcome === "reject" && advice === "approve"));
  const box = form.querySelector(".override-confirm");
  box.hidden = !overrides;
  box.querySelector("input").required = overrides;
  form.querySelector("textarea[name=comment]").required = overrides;
  box.querySelector(".override-text").textContent = overrides
    ? format(t.override, { advice: RECOMMENDATION_LABELS[advice] })
    : "";
}

export class WorkflowPanel {
  constructor({ tabs, panels, data, engineRef, remoteVideoFor, onToast, onActive }) {
    this.tabs = tabs;
    this.panels = panels;
    this.data = data;
    this.engineRef = engineRef;
    this.remoteVideoFor = remoteVideoFor;
    this.toast = onToast;
    this.onActive = onActive || (() => {});
    this.participants = [];
    this.active = null; // peer id of the selected tab
    this.selectedStep = new Map(); // peer id -> step position
    this.notesTimers = new Map();
    // The decision form of each undecided participant, kept across renders: a state push
    // (a check result, a capture) must never clear an outcome the operator has ticked.
    this.decisionForms = new Map();
    // The server's latest verdict on each customer's call conditions (peer id -> message).
    this.conditions = new Map();
    // Participants whose capture request is on its way to the server: their
    // capture buttons stay disabled until the state shows it (or it failed).
    this.capturing = new Set();
    this.captureSeen = new Map(); // capture id -> when this page first saw it pending
    this.promptSetAt = new Map(); // prompt id -> when it was set, on this page's clock
    this.dialog = document.getElementById("evidence-dialog");
    // A redraw between a button's press and its release would replace the
    // button and lose the click (a state push landing mid-click): while a
    // pointer is down on the panel, redraws wait until just after the click.
    this.pointerDown = false;
    this.deferred = new Set(); // peer ids whose redraw waits for the pointer
    this.panels.addEventListener("pointerdown", () => (this.pointerDown = true));
    // A touch that turns into a scroll ends in pointercancel, a press let go
    // outside the window in the window's blur: neither may leave the panel
    // frozen.
    const released = () => {
      if (!this.pointerDown) return;
      // After the click event this release dispatches.
      setTimeout(() => {
        this.pointerDown = false;
        const waiting = [...this.deferred];
        this.deferred.clear();
        waiting.forEach((peerId) => this.rerender(peerId));
      }, 0);
    };
    document.addEventListener("pointerup", released);
    document.addEventListener("pointercancel", released);
    window.addEventListener("blur", released);
    // Closing the dialog gives the focus back to the thumbnail that opened
    // it; a state push while it was open drew a new one: focus that.
    this.dialog.addEventListener("close", () => {
      const key = this.dialogOpener;
      this.dialogOpener = null;
      // When the opener is gone the focus is left on <body>, or for a
      // moment still on the closed dialog's button.
      const lost = !document.activeElement || document.activeElement === document.body || this.dialog.contains(document.activeElement);
      if (!key || !lost) return;
      const thumb = [...this.panels.querySelectorAll(".thumb-button")].find((node) => node.dataset.focusKey === key);
      if (thumb) thumb.focus();
    });
  }

  stepUrl(peerId, position, action) {
    return this.data.step_url_template.replace("PID", peerId).replace("POS", String(position)).replace("ACTION", action);
  }

  async act(peerId, position, action, body = {}) {
    const answer = await postForm(this.stepUrl(peerId, position, action), body);
    if (!answer.ok) this.toast((answer.body.error && answer.body.error.message) || t.failed);
    return answer;
  }

  prompt(peerId, code) {
    this.engineRef.engine.send({ type: "prompt", participant: peerId, prompt: code ? { code } : null });
  }

  resendPrompt(peerId, promptId) {
    const sent = this.engineRef.engine && this.engineRef.engine.send({ type: "prompt_resend", participant: peerId, prompt: promptId });
    if (!sent) this.toast(t.failed);
  }

  // Whether the customer's page confirmed showing the current prompt (it
  // confirms each one it shows). Unconfirmed for PROMPT_CONFIRM_MS, it says
  // so and offers to send it again. The server gives the prompt's age, so the
  // warning comes as soon after a console reload as before it.
  promptStatus(participant) {
    const prompt = participant.prompt;
    if (!prompt || !prompt.id || participant.state !== "in_call") return null;
    const box = el("p", { class: "prompt-status", "aria-live": "polite" });
    if (prompt.shown) {
      box.dataset.state = "shown";
      box.textContent = t.promptShown;
      return box;
    }
    if (!this.promptSetAt.has(prompt.id)) this.promptSetAt.set(prompt.id, Date.now() - (prompt.age_seconds || 0) * 1000);
    const waited = Date.now() - this.promptSetAt.get(prompt.id);
    if (waited < PROMPT_CONFIRM_MS) {
      box.dataset.state = "sent";
      box.textContent = t.promptSending;
      setTimeout(() => this.rerender(participant.peer_id), PROMPT_CONFIRM_MS - waited + 50);
      return box;
    }
    box.dataset.state = "not-shown";
    box.append(
      el("span", { text: t.promptNotShown }),
      " ",
      el("button", { type: "button", class: "button small", onclick: () => this.resendPrompt(participant.peer_id, prompt.id) }, t.promptResend)
    );
    return box;
  }

  // A capture is in progress from the click until the customer's page has
  // sent every frame: another click would ask again (four "Look up" bursts
  // while the customer was already told to turn left).
  // A customer's page that never answers must not lock the operator out:
  // after CAPTURE_STUCK_MS the buttons come back, and a new request replaces
  // the old one.
  captureBusy(participant) {
    if (this.capturing.has(participant.peer_id)) return true;
    const pending = participant.capture;
    if (!pending) return false;
    if (!this.captureSeen.has(pending.id)) {
      this.captureSeen.set(pending.id, Date.now());
      setTimeout(() => this.rerender(participant.peer_id), CAPTURE_STUCK_MS + 50);
    }
    return Date.now() - this.captureSeen.get(pending.id) < CAPTURE_STUCK_MS;
  }

  // A security feature's tick is a capture too ("feature_tick" asks for the
  // still, workflows/security_features.py), bound to the frame it takes.
  async capture(peerId, position, kind, { action = "capture", body: request = { kind } } = {}) {
    if (this.capturing.has(peerId)) return;
    this.capturing.add(peerId);
    this.rerender(peerId);
    let answer;
    try {
      answer = await this.act(peerId, position, action, request);
    } finally {
      this.capturing.delete(peerId);
      this.rerender(peerId);
    }
    if (!answer.ok) return;
    // Keep what the operator saw too, next to the customer's full-resolution still.
    const video = this.remoteVideoFor(peerId);
    if (!video) return;
    try {
      const { grabFrame } = await import("./frame-grab.js");
      const blob = await grabFrame(video);
      const body = new FormData();
      body.append("image", blob, "operator-view.jpg");
      await postForm(this.data.capture_url_template.replace("CID", answer.body.capture), body);
    } catch (err) {
      console.warn("operator frame not kept", err);
    }
  }

  // Operator challenges (workflows/challenges.py), apart from the steps: the
  // operator may ask for one at any time in the call, whichever step is on.
  // Busy like the capture buttons: one burst at a time.
  challengeGroup(participant) {
    if (participant.state !== "in_call") return null;
    const busy = this.captureBusy(participant);
    const suggested = suggestedChallenges(participant);
    return el(
      "section",
      { class: "challenges", "aria-labelledby": `challenges-${participant.peer_id}` },
      el("h3", { id: `challenges-${participant.peer_id}`, text: t.challengesTitle }),
      el("p", { class: "muted", text: t.challengesHint }),
      el(
        "div",
        { class: "button-row" },
        ...Object.entries(CHALLENGE_LABELS).map(([code, label]) =>
          el(
            "button",
            {
              type: "button",
              class: suggested.includes(code) ? "button small primary suggested" : "button small",
              "data-challenge": code,
              "data-focus-key": `challenge-${code}`,
              "aria-label": format(suggested.includes(code) ? t.challengeAskSuggested : t.challengeAsk, { challenge: label }),
              ...busyAttrs(busy, () => this.challenge(participant.peer_id, code)),
            },
            label,
            suggested.includes(code) ? el("span", { class: "badge suggested-badge", "aria-hidden": "true", text: t.challengeSuggested }) : null
          )
        )
      )
    );
  }

  async challenge(peerId, code) {
    if (this.capturing.has(peerId)) return;
    this.capturing.add(peerId);
    this.rerender(peerId);
    try {
      const url = this.data.challenge_url_template.replace("PID", peerId).replace("CODE", code);
      const answer = await postForm(url, {});
      if (!answer.ok) this.toast((answer.body.error && answer.body.error.message) || t.failed);
    } finally {
      this.capturing.delete(peerId);
      this.rerender(peerId);
    }
  }

  rerender(peerId) {
    const participant = this.participants.find((p) => p.peer_id === peerId);
    if (participant) this.renderPanel(participant);
  }

  currentParticipant() {
    return this.participants.find((p) => p.peer_id === this.active) || this.participants[0];
  }

  defaultStep(participant) {
    const open = participant.steps.find((s) => CALL_STEPS.has(s.kind) && !["passed", "failed", "skipped"].includes(s.state));
    return (open || participant.steps.find((s) => CALL_STEPS.has(s.kind)) || participant.steps[0]).position;
  }

  selected(participant) {
    if (!this.selectedStep.has(participant.peer_id)) this.selectedStep.set(participant.peer_id, this.defaultStep(participant));
    return participant.steps.find((s) => s.position === this.selectedStep.get(participant.peer_id));
  }

  render(participants) {
    this.participants = participants;
    const focusedTab = this.tabs.contains(document.activeElement) ? document.activeElement.id : null;
    if (!this.active || !participants.some((p) => p.peer_id === this.active)) this.active = participants[0]?.peer_id;
    this.tabs.replaceChildren(
      ...participants.map((p) =>
        el(
          "button",
          {
            type: "button",
            role: "tab",
            id: `tab-${p.peer_id}`,
            "aria-selected": String(p.peer_id === this.active),
            "aria-controls": `panel-${p.peer_id}`,
            class: `tab state-${p.state}`,
            onclick: () => {
              this.active = p.peer_id;
              this.render(this.participants);
            },
          },
          p.name,
          p.decision ? el("span", { class: `badge outcome-${p.decision.outcome}`, text: t.outcomes[p.decision.outcome] || p.decision.outcome }) : null
        )
      )
    );
    this.tabs.hidden = participants.length < 2;
    if (focusedTab) document.getElementById(focusedTab)?.focus();
    this.onActive(this.active);
    for (const participant of participants) this.renderPanel(participant);
    for (const panel of [...this.panels.children]) {
      if (!participants.some((p) => `panel-${p.peer_id}` === panel.id)) panel.remove();
    }
  }

  renderPanel(participant) {
    let panel = document.getElementById(`panel-${participant.peer_id}`);
    if (!panel) {
      panel = el("section", { role: "tabpanel", id: `panel-${participant.peer_id}`, class: "participant-card" });
      panel.dataset.peerId = participant.peer_id;
      this.panels.append(panel);
    }
    panel.hidden = participant.peer_id !== this.active;
    panel.dataset.state = participant.state;
    // Keep what the operator is typing: a state push must never eat a note.
    const focused = panel.contains(document.activeElement) && document.activeElement.matches("textarea, input[type=text]");
    if (focused || this.pointerDown) {
      if (this.pointerDown) this.deferred.add(participant.peer_id);
      this.refreshPassive(panel, participant);
      return;
    }
    const before = panel.contains(document.activeElement) ? document.activeElement : null;
    const step = this.selected(participant);
    panel.replaceChildren(...[
      el("h2", { class: "participant-name", text: participant.name }),
      el("p", {
        class: "participant-meta muted",
        text: [participant.business_reference, (participant.language || "").toUpperCase(), t.participantStates[participant.state] || participant.state]
          .filter(Boolean)
          .join(" · "),
      }),
      this.conditionsPanel(participant),
      this.integrityPanel(participant),
      this.locationPanel(participant),
      // At the top: who this person was before matters for every step.
      this.seenBeforePanel(participant),
      this.promptStatus(participant),
      el(
        "ol",
        { class: "step-list", "aria-label": t.steps },
        ...participant.steps.map((s) =>
          el(
            "li",
            {},
            el(
              "button",
              {
                type: "button",
                class: `step-button state-${s.state}`,
                "data-focus-key": `step-${s.position}`,
                "aria-current": String(s.position === step.position),
                onclick: () => {
                  this.selectedStep.set(participant.peer_id, s.position);
                  this.renderPanel(participant);
                },
              },
              el("span", { text: STEP_LABELS[s.kind] || s.kind }),
              el("span", { class: "step-state", text: STEP_STATES[s.state] || s.state })
            )
          )
        )
      ),
      this.stepDetail(participant, step),
      this.challengeGroup(participant),
      this.evidenceGallery(participant),
      this.checksPanel(participant),
      this.oneTimeCodePanel(participant),
      this.decisionForm(participant),
      ["in_call", "waiting", "left"].includes(participant.state) && this.participants.length > 1
        ? el(
            "button",
            {
              type: "button",
              class: "button small danger-outline remove-participant",
              "data-focus-key": "remove",
              onclick: async () => {
                if (!confirm(format(t.removeConfirm, { name: participant.name }))) return;
                const answer = await postForm(this.data.remove_url_template.replace("PID", participant.peer_id), {});
                if (!answer.ok) this.toast((answer.body.error && answer.body.error.message) || t.removeFailed);
              },
            },
            format(t.remove, { name: participant.name })
          )
        : null,
    ].filter(Boolean));
    if (before) this.restoreFocus(panel, before);
  }

  // The panel is drawn anew on every state push: a keyboard user's focus
  // must not fall to <body> with the old nodes. It stays on the same node
  // (the decision form is kept across renders), or goes to the control of
  // the same purpose in the new drawing; when that is gone (a step passed,
  // the decision recorded) to what replaced it: the decision's result or
  // the heading of the step now shown.
  restoreFocus(panel, before) {
    if (panel.hidden) return;
    const focus = (node) => node && node.focus();
    if (panel.contains(before)) {
      if (document.activeElement !== before) before.focus({ preventScroll: true });
      return;
    }
    const key = before.dataset.focusKey;
    const same = key && [...panel.querySelectorAll("[data-focus-key]")].find((node) => node.dataset.focusKey === key);
    // The same control is where the old one was: no scrolling.
    if (same && !same.disabled) return same.focus({ preventScroll: true });
    if (before.closest(".decision")) {
      const result = panel.querySelector(".decision-result");
      if (result) return focus(result);
    }
    focus(panel.querySelector(".step-title"));
  }

  refreshPassive(panel, participant) {
    const status = this.promptStatus(participant);
    const shownStatus = panel.querySelector(".prompt-status");
    if (shownStatus && status) shownStatus.replaceWith(status);
    else if (shownStatus) shownStatus.remove();
    else if (status) panel.querySelector(".participant-meta").after(status);
    const integrity = panel.querySelector(".integrity-panel");
    if (integrity) integrity.replaceWith(this.integrityPanel(participant));
    const location = panel.querySelector(".location-panel");
    if (location) location.replaceWith(this.locationPanel(participant));
    const gallery = panel.querySelector(".evidence-gallery");
    if (gallery) gallery.replaceWith(this.evidenceGallery(participant));
    const checks = panel.querySelector(".checks-panel");
    if (checks) checks.replaceWith(this.checksPanel(participant));
    const seen = panel.querySelector(".seen-before");
    if (seen) seen.replaceWith(this.seenBeforePanel(participant));
    // The customer confirms the code while the operator types a note.
    const code = panel.querySelector(".one-time-code");
    const codeNow = this.oneTimeCodePanel(participant);
    if (code && codeNow) code.replaceWith(codeNow);
    // The customer's answer arrives while the operator types a note.
    const line = panel.querySelector(".customer-answer-live");
    const step = line && participant.steps.find((s) => String(s.position) === line.dataset.step);
    if (step) line.replaceWith(customerAnswerLine(step, Number(line.dataset.question)));
  }

  // Capture integrity: warning signs that the customer's camera is not a
  // camera (sessions_app/integrity.py). Each sign in words with its
  // strength, never a bare score; weak signs alone are listed as noted, not
  // as a warning (a real camera trips one now and then).
  // Minimum call conditions (sessions_app/call_conditions.py): the figures and
  // the verdict, a mark beside the colour, and when they are below the minimum
  // the abort that offers the customer a new try, in plain sight.
  conditionsPanel(participant) {
    if (!this.data.call_conditions) return null;
    const words = t.callConditions;
    const result = this.conditions.get(participant.peer_id);
    const met = result ? String(result.met) : "unknown";
    const headingId = `conditions-title-${participant.peer_id}`;
    const box = el("section", { class: "call-conditions", "data-met": met, "aria-labelledby": headingId });
    box.append(el("h3", { id: headingId, text: words.title }));
    if (!result) {
      box.append(el("p", { class: "muted conditions-line", text: words.measuring }));
      return box;
    }
    box.append(
      el(
        "p",
        { class: "conditions-line" },
        el("span", { class: "conditions-icon", "aria-hidden": "true", text: result.met ? "✓" : "⚠" }),
        " ",
        format(words.line, { summary: result.summary, verdict: result.verdict })
      )
    );
    if (result.met) return box;
    box.append(el("ul", { class: "conditions-below" }, ...result.below.map((text) => el("li", { text }))));
    if (participant.state === "in_call" && !participant.decision) {
      box.append(
        el(
          "button",
          {
            type: "button",
            class: "button danger conditions-abort",
            "data-focus-key": "conditions-abort",
            onclick: async () => {
              if (!confirm(words.abortConfirm)) return;
              const answer = await postForm(this.data.decide_url, {
                participant: participant.peer_id,
                outcome: "retry",
                reason_code: "poor_conditions",
                share: "yes",
              });
              if (!answer.ok) return void this.toast((answer.body.error && answer.body.error.message) || words.abortFailed);
              // Alone in the call, the customer's abort is the call's end; in a
              // group call the others go on.
              if (this.participants.length === 1 && this.engineRef.engine) this.engineRef.engine.send({ type: "end_call" });
            },
          },
          words.abort
        )
      );
    }
    return box;
  }

  showConditions(result) {
    const before = this.conditions.get(result.participant);
    this.conditions.set(result.participant, result);
    const participant = (this.participants || []).find((p) => p.peer_id === result.participant);
    if (!participant) return;
    if (before && before.met && !result.met) this.toast(format(t.callConditions.belowToast, { name: participant.name }));
    const panel = document.getElementById(`panel-${result.participant}`);
    const old = panel && panel.querySelector(".call-conditions");
    if (!old) return;
    // Only this box is drawn again: the rest of the panel (a note being typed) stays.
    const hadFocus = old.contains(document.activeElement);
    const box = this.conditionsPanel(participant);
    old.replaceWith(box);
    if (hadFocus) box.querySelector("button")?.focus();
  }

  integrityPanel(participant) {
    const words = t.integrity;
    const panel = participant.integrity || { level: "none", raised: false, signals: [] };
    const headingId = `integrity-title-${participant.peer_id}`;
    const box = el("section", { class: "integrity-panel", "data-level": panel.level, "data-raised": String(panel.raised), "aria-labelledby": headingId });
    box.append(el("h3", { id: headingId, text: words.title }));
    const status = el("p", { class: "integrity-status", role: "status", "aria-live": "polite" });
    box.append(status);
    const detail = (signal) => {
      const p = signal.params || {};
      if (p.product) return format(words.product, { product: p.product });
      if (p.functions) return format(words.functions, { functions: p.functions.join(", ") });
      if (p.to_width) return `${p.from_width}×${p.from_height} → ${p.to_width}×${p.to_height}`;
      if (p.similar_pairs) return format(words.similar, { pairs: p.similar_pairs, frames: p.frames });
      return "";
    };
    const strength = (signal) => (signal.weight === 0 ? "note" : signal.strength);
    const item = (signal) =>
      el(
        "li",
        { class: `integrity-reason strength-${signal.strength}`, "data-code": signal.code },
        el(
          "p",
          { class: "integrity-reason-head" },
          el("strong", { class: "integrity-reason-label", text: signal.label }),
          " ",
          el("span", { class: `badge strength-${strength(signal)}`, text: words.strengths[strength(signal)] || signal.strength })
        ),
        el("p", { class: "muted integrity-meaning", text: [signal.meaning, detail(signal)].filter(Boolean).join(" ") })
      );
    if (!panel.raised) {
      status.append(el("span", { class: "badge level-none", text: words.none }));
      const noted = panel.signals;
      if (noted.length) {
        box.append(el("p", { class: "muted integrity-noted-title", text: words.noted }), el("ul", { class: "integrity-reasons noted" }, ...noted.map(item)));
      }
      return box;
    }
    status.append(
      el("span", { class: `badge level-${panel.level}`, text: words.levels[panel.level] || panel.level }),
      " ",
      el("span", { text: words.raisedHint })
    );
    box.append(el("ul", { class: "integrity-reasons" }, ...panel.signals.map(item)));
    const suggested = suggestedChallenges(participant);
    if (suggested.length) {
      box.append(el("p", { class: "integrity-suggested", text: format(words.suggested, { challenges: suggested.map((code) => CHALLENGE_LABELS[code]).join(", ") }) }));
    }
    return box;
  }

  // Earlier sessions of the business with this participant's document
  // number, name and birth date, or face, and the business's negative list
  // (operators/repeat_applicants.py), once a check has read them. Quiet when
  // nobody matched; prominent when the negative list did.
  // The live location the customer shared before the call (LIVE_LOCATION):
  // where, how precisely, when, and the countries of it and of the IP address.
  // Empty (and hidden) for a workflow that does not ask for it.
  locationPanel(participant) {
    const words = t.location;
    const where = participant.location;
    const box = el("section", { class: "location-panel", "aria-label": words.title });
    if (!where) {
      box.hidden = true;
      return box;
    }
    const when = new Date(where.located_at);
    box.append(
      el("h3", { text: words.title }),
      el("p", {
        class: "location-coordinates",
        text: format(words.coordinates, { latitude: where.latitude.toFixed(5), longitude: where.longitude.toFixed(5), accuracy: where.accuracy_m }),
      }),
      el("p", { class: "muted location-time", text: format(words.at, { time: when.toLocaleString(document.documentElement.lang || undefined) }) }),
      el("p", {
        class: "location-countries",
        text: format(words.countries, {
          location: where.location_country_name || words.unknown,
          ip: where.ip_country_name || words.unknown,
        }),
      })
    );
    return box;
  }

  seenBeforePanel(participant) {
    const seen = participant.seen_before;
    const box = el("section", { class: "seen-before", "aria-label": t.seenBeforeTitle, "aria-live": "polite" });
    if (!seen) return box;
    if (!seen.count && !seen.negative_list.length) {
      box.append(el("p", { class: "muted seen-before-none", text: t.notSeenBefore }));
      return box;
    }
    for (const entry of seen.negative_list) {
      box.append(el("p", { class: "negative-list-hit", role: "alert", text: format(t.onNegativeList, { kind: t.negativeListKinds[entry.kind] || entry.kind, reason: entry.reason }) }));
    }
    if (!seen.count) return box;
    const rejected = seen.sessions.find((s) => s.outcome === "reject");
    const summary = seen.rejected
      ? plural(t.seenBeforeRejected, seen.count, { count: seen.count, rejected: seen.rejected, reason: (rejected && t.decisionReasons[rejected.reason]) || "" })
      : plural(t.seenBeforeSummary, seen.count, { count: seen.count });
    box.append(el("p", { class: "seen-before-summary", text: summary }));
    box.append(
      el(
        "ul",
        { class: "seen-before-sessions" },
        ...seen.sessions.map((s) =>
          el(
            "li",
            { "data-session": s.session },
            el("a", { href: s.url, target: "_blank", rel: "noopener", text: format(t.seenBeforeSession, { date: new Date(s.created_at).toLocaleDateString(document.documentElement.lang || undefined) }) }),
            " ",
            el("span", { class: "muted", text: format(t.seenBeforeMatched, { fields: s.matched.map((field) => t.matchFields[field] || field).join(", ") }) }),
            " ",
            el("span", {
              class: `badge outcome-${s.outcome || "pending"}${s.awaiting_review ? " awaiting-review" : ""}`,
              text: s.outcome
                ? `${s.awaiting_review ? format(t.outcomeAwaitingReview, { outcome: t.outcomes[s.outcome] }) : t.outcomes[s.outcome]}${s.reason ? ` · ${t.decisionReasons[s.reason] || s.reason}` : ""}`
                : t.noDecisionYet,
            }),
            s.flagged ? el("span", { class: "badge flagged", text: t.flagged }) : null
          )
        )
      )
    );
    return box;
  }

  // What the automated checks saw, as soon as each result is stored (the
  // server pushes the state again), and the system's recommendation. Advice
  // only: nothing here decides, and nothing here is a button.
  checksPanel(participant) {
    const checks = participant.checks || { results: [], pending: [], recommendation: null };
    const box = el("section", { class: "checks-panel", "aria-label": t.checks });
    box.append(el("h3", { text: t.checks }));
    const advice = checks.recommendation;
    if (advice && (checks.results.length || checks.pending.length)) {
      box.dataset.recommendation = advice.decision;
      box.append(
        el(
          "div",
          { class: `recommendation recommendation-${advice.decision}`, role: "note" },
          el("p", {}, `${t.recommendation} `, el("strong", { class: "recommendation-decision", text: RECOMMENDATION_LABELS[advice.decision] || advice.decision })),
          advice.reasons.length
            ? el("ul", { class: "recommendation-reasons" }, ...advice.reasons.slice(0, 6).map((reason) => el("li", { text: reason.message })))
            : null
        )
      );
    }
    if (checks.pending.length) {
      box.append(el("p", { class: "muted checks-pending", "aria-live": "polite", text: format(t.checking, { checks: checks.pending.map((kind) => t.checkKinds[kind] || kind).join(", ") }) }));
    }
    if (!checks.results.length) {
      if (!checks.pending.length) box.append(el("p", { class: "muted", text: t.noResults }));
      return box;
    }
    box.append(
      el(
        "ul",
        { class: "check-list", "aria-live": "polite" },
        ...checks.results.map((result) =>
          el(
            "li",
            { class: `check status-${result.status}`, "data-kind": result.kind, "data-status": result.status, "data-source": result.evidence.source },
            el(
              "p",
              { class: "check-head" },
              el("span", { class: "check-kind", text: result.kind_label }),
              el("span", { class: "muted check-capture", text: ` · ${KIND_LABELS[result.evidence.kind] || result.evidence.kind}${result.evidence.label ? ` ${ACTION_LABELS[result.evidence.label] || result.evidence.label}` : ""}${result.evidence.source === "operator_view" ? ` ${t.yourView}` : ""}` }),
              el("span", { class: `badge check-status status-${result.status}`, text: CHECK_STATUS_LABELS[result.status] || result.status }),
              el("span", { class: "check-score muted", text: result.score === null ? t.noScore : format(t.score, { score: result.score.toFixed(2) }) })
            ),
            el("p", { class: "check-reason", text: result.summary }),
            result.facts.length
              ? el("dl", { class: "check-facts" }, ...result.facts.flatMap(([label, value]) => [el("dt", { text: label }), el("dd", { text: value })]))
              : null,
            ...(result.status === "passed" ? [] : result.advice.map((text) => el("p", { class: "check-retake" }, el("strong", { text: `${t.retake} ` }), text)))
          )
        )
      )
    );
    return box;
  }

  stepButtons(participant, step) {
    const finished = ["passed", "failed", "skipped"].includes(step.state);
    return el(
      "div",
      { class: "step-outcome" },
      el("button", { type: "button", class: "button small ok", "data-focus-key": `${step.position}:pass`, disabled: finished && step.state === "passed", onclick: () => this.passAndMoveOn(participant, step) }, t.pass),
      el("button", { type: "button", class: "button small danger-outline", "data-focus-key": `${step.position}:fail`, onclick: () => this.act(participant.peer_id, step.position, "fail") }, t.fail),
      el("button", { type: "button", class: "button small", "data-focus-key": `${step.position}:skip`, onclick: () => this.act(participant.peer_id, step.position, "skip") }, t.skip)
    );
  }

  // Passing a step shows the next one of the call (started by the operator
  // when they are ready: starting may prompt the customer).
  async passAndMoveOn(participant, step) {
    const answer = await this.act(participant.peer_id, step.position, "pass");
    if (!answer.ok) return;
    const next = participant.steps.find((s) => s.position > step.position && CALL_STEPS.has(s.kind));
    if (next && this.selectedStep.get(participant.peer_id) === step.position) {
      this.selectedStep.set(participant.peer_id, next.position);
      this.renderPanel(participant);
    }
  }

  // Document security features (kyc.regulations.SECURITY_FEATURES): the
  // operator names the document, the server draws the features; the customer
  // is asked to tilt, and each feature seen is ticked with a still.
  securityFeatures(participant, step, busy) {
    const features = participant.security_features;
    if (!features) return null;
    const id = participant.peer_id;
    const box = el("section", { class: "security-features", "aria-labelledby": `features-${id}` });
    const checked = features.features.filter((f) => f.checked).length;
    box.append(
      el(
        "h4",
        { id: `features-${id}` },
        t.featuresTitle,
        " ",
        el("span", { class: checked >= features.minimum ? "badge ok" : "badge", text: format(t.featuresProgress, { checked, required: features.minimum }) })
      )
    );
    if (!features.document_kind) {
      const kinds = step.config.document_kinds || [];
      const select = el("select", { name: "document_kind", "aria-label": t.featuresDocument }, ...kinds.map((kind) => el("option", { value: kind, text: t.documentKinds[kind] || kind })));
      box.append(
        el(
          "form",
          {
            class: "button-row features-draw",
            onsubmit: async (event) => {
              event.preventDefault();
              await this.act(id, step.position, "features", { document_kind: select.value });
            },
          },
          el("label", {}, `${t.featuresDocument} `, select),
          el("button", { type: "submit", class: "button small primary", "data-focus-key": `${step.position}:features-draw` }, t.featuresDraw)
        )
      );
      return box;
    }
    box.append(
      el(
        "div",
        { class: "button-row" },
        el("button", { type: "button", class: features.tilt_shown ? "button small" : "button small primary", "data-focus-key": `${step.position}:ask-tilt`, onclick: () => this.prompt(id, "tilt_document") }, t.featuresAskTilt),
        el("span", { class: "muted features-tilt", "aria-live": "polite", text: features.tilt_shown ? t.featuresTiltShown : t.featuresTiltFirst })
      )
    );
    const list = el("ol", { class: "feature-list" });
    for (const feature of features.features) {
      const name = textIn(feature.name);
      const item = el(
        "li",
        { class: feature.checked ? "feature checked" : "feature", "data-feature": feature.id },
        el("div", { class: "feature-text" }, el("strong", { text: name }), " ", el("span", { class: "badge", text: t.featuresCategories[feature.category] || feature.category }), el("p", { class: "muted", text: textIn(feature.instruction) }))
      );
      if (feature.checked) {
        item.append(
          el(
            "p",
            { class: "feature-done" },
            `✓ ${format(t.featuresTicked, { offset: offsetWords(feature.offset_seconds) })}`,
            feature.evidence_url ? el("img", { src: feature.evidence_url, alt: format(t.featuresFrame, { feature: name }), class: "feature-frame", loading: "lazy" }) : null
          )
        );
      } else {
        item.append(
          el(
            "button",
            {
              type: "button",
              class: "button small primary",
              "data-focus-key": `feature-${feature.id}`,
              "aria-label": format(t.featuresTick, { feature: name }),
              disabled: !features.tilt_shown,
              ...busyAttrs(busy, () => this.capture(id, step.position, "security_feature", { action: "feature_tick", body: { feature: feature.id } })),
            },
            feature.pending ? t.featuresTicking : t.featuresTickShort
          )
        );
      }
      list.append(item);
    }
    box.append(list);
    return box;
  }

  stepDetail(participant, step) {
    const id = participant.peer_id;
    const inCall = participant.state === "in_call";
    const busy = this.captureBusy(participant);
    const box = el("section", { class: `step-detail kind-${step.kind}`, "aria-label": format(t.stepRegion, { step: STEP_LABELS[step.kind] }) });
    box.append(el("h3", { class: "step-title", tabindex: "-1", text: `${STEP_LABELS[step.kind]} · ${STEP_STATES[step.state] || step.state}` }));
    if (!CALL_STEPS.has(step.kind)) {
      box.append(el("p", { class: "muted", text: t.beforeCall }));
      return box;
    }
    if (!inCall && step.kind !== "notes") {
      box.append(el("p", { class: "muted", text: t.notInCall }));
      return box;
    }
    if (step.kind === "document") {
      const kinds = step.config.document_kinds || [];
      const twoSided = kinds.some((k) => TWO_SIDED.has(k));
      box.append(
        el("p", { class: "muted", text: format(t.accepted, { kinds: kinds.map((kind) => t.documentKinds[kind] || kind).join(", ") }) }),
        el(
          "div",
          { class: "button-row" },
          el("button", { type: "button", class: "button small", "data-focus-key": `${step.position}:ask-front`, onclick: () => this.prompt(id, "document_front") }, t.askFront),
          el("button", { type: "button", class: "button small primary", "data-shortcut": "capture", "data-focus-key": `${step.position}:capture-front`, ...busyAttrs(busy, () => this.capture(id, step.position, "document_front")) }, t.captureFront),
          twoSided ? el("button", { type: "button", class: "button small", "data-focus-key": `${step.position}:ask-back`, onclick: () => this.prompt(id, "document_back") }, t.askBack) : null,
          twoSided ? el("button", { type: "button", class: "button small primary", "data-focus-key": `${step.position}:capture-back`, ...busyAttrs(busy, () => this.capture(id, step.position, "document_back")) }, t.captureBack) : null
        ),
        // Element.append writes a null as the text "null": without the rule
        // there is no features box, so none is appended.
        ...[this.securityFeatures(participant, step, busy)].filter(Boolean),
        this.stepButtons(participant, step)
      );
    } else if (step.kind === "liveness") {
      const challenge = step.data.challenge || [];
      const index = step.data.action_index || 0;
      box.append(
        el(
          "div",
          { class: "button-row" },
          el("button", { type: "button", class: "button small", "data-focus-key": `${step.position}:ask-look`, onclick: () => this.prompt(id, "look_at_camera") }, t.askLook),
          el("button", { type: "button", class: "button small primary", "data-shortcut": challenge.length && index < challenge.length ? null : "capture", "data-focus-key": `${step.position}:capture-face`, ...busyAttrs(busy, () => this.capture(id, step.position, "face")) }, t.captureFace),
          el("button", { type: "button", class: "button small", "data-focus-key": `${step.position}:challenge`, ...busyAttrs(busy, () => this.act(id, step.position, "start")) }, challenge.length ? t.newChallenge : t.startChallenge)
        )
      );
      if (challenge.length) {
        box.append(
          el(
            "ol",
            { class: "challenge" },
            ...challenge.map((action, i) =>
              el("li", { class: i < index ? "done" : i === index ? "current" : "" }, ACTION_LABELS[action] || action, i < index ? " ✓" : "")
            )
          )
        );
        if (index < challenge.length) {
          box.append(
            el(
              "button",
              { type: "button", class: "button small primary", "data-shortcut": "capture", "data-focus-key": `${step.position}:capture-action`, ...busyAttrs(busy, () => this.capture(id, step.position, "liveness_frame")) },
              format(t.captureAction, { action: ACTION_LABELS[challenge[index]] })
            )
          );
        }
      }
      box.append(this.stepButtons(participant, step));
    } else if (step.kind === "questions") {
      const { questions, asked, customerSaid } = questionWords(step);
      const order = step.data.question_order;
      const answers = step.data.answers || {};
      if (!order) {
        box.append(el("button", { type: "button", class: "button small primary", "data-focus-key": `${step.position}:start-questions`, onclick: () => this.act(id, step.position, "start") }, t.startQuestions));
      } else {
        const next = order.find((q) => !(String(q) in answers));
        const list = el("ol", { class: "qa" });
        for (const q of order) {
          if (!(String(q) in answers)) continue;
          const said = customerSaid(q);
          const note = answers[String(q)];
          list.append(
            el(
              "li",
              {},
              el("strong", { text: questions[q] }),
              said !== null ? el("span", { class: "customer-answer", text: ` ${format(t.customerAnswered, { answer: said })}` }) : "",
              note ? el("span", { class: "operator-note", text: said !== null ? ` · ${format(t.operatorNote, { note })}` : ` ${note}` }) : ""
            )
          );
        }
        box.append(list);
        if (next !== undefined) {
          const inFrame = asked[next].answer !== "spoken";
          const input = el("input", { type: "text", name: "answer", "aria-label": format(inFrame ? t.noteOn : t.answerTo, { question: questions[next] }), autocomplete: "off" });
          const form = el(
            "form",
            {
              class: "question-form stack",
              onsubmit: async (event) => {
                event.preventDefault();
                await this.act(id, step.position, "answer", { question: String(next), answer: input.value });
              },
            },
            // The customer answers in their frame: their answer under the
            // question, the operator's field a note beside it.
            el("label", {}, el("span", { class: "question-text", text: questions[next] }), inFrame ? customerAnswerLine(step, next) : null, input),
            el("button", { type: "submit", class: "button small primary" }, inFrame ? t.saveNote : t.saveAnswer)
          );
          if (inFrame) input.placeholder = t.notePlaceholder;
          box.append(form);
        } else {
          box.append(el("p", { class: "muted", text: t.allAnswered }));
        }
      }
      box.append(this.stepButtons(participant, step));
    } else if (step.kind === "notes") {
      const status = el("span", { class: "muted notes-status", "aria-live": "polite" });
      const area = el("textarea", { rows: "6", name: "notes", "aria-label": t.notes });
      area.value = step.data.text || "";
      area.addEventListener("input", () => {
        status.textContent = t.saving;
        clearTimeout(this.notesTimers.get(id));
        this.notesTimers.set(
          id,
          setTimeout(async () => {
            const answer = await this.act(id, step.position, "notes", { text: area.value });
            status.textContent = answer.ok ? t.saved : t.notSaved;
          }, 500)
        );
      });
      box.append(el("label", { class: "stack" }, t.notesLabel, area), status);
    }
    return box;
  }

  evidenceGallery(participant) {
    // A burst shows its first frame; the others open with it in the review.
    const bursts = new Set(["liveness_frame", "challenge_frame"]);
    const customerShots = participant.evidence.filter((e) => e.source === "customer_device" && (!bursts.has(e.kind) || e.frame === 0));
    const gallery = el("section", { class: "evidence-gallery", "aria-label": t.captures });
    if (!customerShots.length) {
      gallery.append(el("p", { class: "muted", text: t.noCaptures }));
      return gallery;
    }
    gallery.append(
      ...customerShots.map((shot) => {
        const seen = participant.evidence.find((e) => e.capture === shot.capture && e.source === "operator_view");
        // A challenge is a movement: its enlargement shows every frame of the burst.
        const burst =
          shot.kind === "challenge_frame"
            ? participant.evidence.filter((e) => e.capture === shot.capture && e.source === "customer_device").sort((a, b) => a.frame - b.frame)
            : [];
        // A security feature's still is labelled by its check: named by the feature.
        const featureNames = Object.fromEntries(((participant.security_features || {}).features || []).map((f) => [f.id, textIn(f.name)]));
        const labels = shot.kind === "challenge_frame" ? CHALLENGE_LABELS : shot.kind === "security_feature" ? featureNames : ACTION_LABELS;
        const name = `${KIND_LABELS[shot.kind] || shot.kind}${shot.label ? ` · ${labels[shot.label] || shot.label}` : ""}`;
        return el(
          "figure",
          { class: "thumb" },
          el(
            "button",
            { type: "button", class: "thumb-button", "data-focus-key": `thumb-${shot.url}`, "aria-label": format(t.enlarge, { capture: name }), onclick: () => this.enlarge(shot, seen, burst) },
            el("img", { src: shot.url, alt: name, loading: "lazy" })
          ),
          el("figcaption", { text: `${name} · ${shot.width}×${shot.height}` })
        );
      })
    );
    return gallery;
  }

  enlarge(shot, seen, burst = []) {
    const body = this.dialog.querySelector(".evidence-body");
    if (burst.length > 1) {
      const time = (iso) => new Date(iso).toLocaleTimeString(document.documentElement.lang);
      body.replaceChildren(
        ...burst.map((frame, i) => {
          const caption = format(t.burstFrame, { number: i + 1, count: burst.length, time: time(frame.created_at) });
          return el("figure", {}, el("img", { src: frame.url, alt: `${t.customersCamera} · ${caption}` }), el("figcaption", { text: caption }));
        })
      );
      this.dialogOpener = `thumb-${shot.url}`;
      this.dialog.showModal();
      return;
    }
    body.replaceChildren(
      el("figure", {}, el("img", { src: shot.url, alt: t.customersCamera }), el("figcaption", { text: format(t.customersCameraCaption, { size: `${shot.width}×${shot.height}`, hash: shot.sha256.slice(0, 16) }) })),
      ...(seen ? [el("figure", {}, el("img", { src: seen.url, alt: t.whatYouSaw }), el("figcaption", { text: format(t.whatYouSawCaption, { size: `${seen.width}×${seen.height}` }) }))] : [])
    );
    this.dialogOpener = `thumb-${shot.url}`;
    this.dialog.showModal();
  }

  // The one-time code at the end of the call (rule TAN_AT_END): where it
  // goes, its state as the customer enters it, and the button that sends a
  // (new) one. Approval is refused until it is confirmed.
  oneTimeCodePanel(participant) {
    const code = participant.one_time_code;
    if (!code) return null;
    // A sent code runs out without anything changing on the server: the
    // panel counts down on its own clock (the server gives seconds left, not
    // a time) and draws "expired" when it is over.
    let state = code.state;
    if (state === "sent") {
      const key = `${participant.peer_id}:${code.sends_left}`;
      if (!this.codeExpiresAt) this.codeExpiresAt = new Map();
      if (!this.codeExpiresAt.has(key)) {
        this.codeExpiresAt.set(key, Date.now() + code.expires_in_seconds * 1000);
        setTimeout(() => this.rerender(participant.peer_id), code.expires_in_seconds * 1000 + 100);
      }
      if (Date.now() >= this.codeExpiresAt.get(key)) state = "expired";
    }
    const box = el("section", { class: "one-time-code", "aria-labelledby": `otc-${participant.peer_id}` });
    box.dataset.state = state || "none";
    box.append(el("h3", { id: `otc-${participant.peer_id}`, text: t.oneTimeCodeTitle }));
    const to = code.sent_to || code.address;
    const status = el("p", { class: "one-time-code-status", role: "status" });
    if (state === "confirmed") status.textContent = t.oneTimeCodeConfirmed;
    else if (state === "sent") status.textContent = format(t.oneTimeCodeWaiting, { to, attempts: code.attempts_left });
    else if (state === "expired") status.textContent = t.oneTimeCodeExpired;
    else if (state === "locked") status.textContent = t.oneTimeCodeLocked;
    else status.textContent = t.oneTimeCodeNotSent;
    box.append(el("p", { class: "muted", text: format(code.channel === "sms" ? t.oneTimeCodeBySms : t.oneTimeCodeByEmail, { to: code.address }) }), status);
    if (code.delivery_problem) box.append(el("p", { class: "error", text: format(t.oneTimeCodeNotDelivered, { problem: code.delivery_problem }) }));
    if (state !== "confirmed" && participant.state === "in_call") {
      if (code.sends_left > 0) {
        box.append(
          el(
            "button",
            {
              type: "button",
              class: "button small",
              "data-focus-key": "one-time-code-send",
              onclick: async (event) => {
                const button = event.currentTarget;
                button.disabled = true; // until the state push draws the code sent
                const answer = await postForm(this.data.one_time_code_url_template.replace("PID", participant.peer_id), {});
                if (!answer.ok) {
                  button.disabled = false;
                  this.toast((answer.body.error && answer.body.error.message) || t.failed);
                }
              },
            },
            state ? t.oneTimeCodeSendNew : t.oneTimeCodeSend
          )
        );
      } else {
        box.append(el("p", { class: "muted", text: t.oneTimeCodeNoMore }));
      }
    }
    return box;
  }

  decisionForm(participant) {
    const decided = participant.decision;
    const wrap = el("section", { class: "decision" });
    if (decided) {
      this.decisionForms.delete(participant.peer_id);
      const words = decisionWords();
      const outcome = words.outcomes[decided.outcome] || decided.outcome;
      const reason = words.reasons[decided.reason_code] || decided.reason_code;
      wrap.append(el("p", { class: "decision-result", tabindex: "-1", text: format(decided.shared ? t.decidedShared : t.decided, { outcome, reason }) }));
      // Four-eyes review (operators.reviews): the approval is not final yet.
      if (decided.provisional) wrap.append(el("p", { class: "decision-provisional", text: t.decidedProvisional }));
      return wrap;
    }
    let form = this.decisionForms.get(participant.peer_id);
    if (!form) {
      form = document.getElementById("decision-template").content.firstElementChild.cloneNode(true);
      // Only the reasons of the chosen outcome can be picked (the server refuses a mismatch).
      form.addEventListener("change", (event) => {
        if (event.target.name !== "outcome") return;
        reasonsFollowOutcome(form, event.target.value);
        overrideFollowsOutcome(form);
      });
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const body = new FormData(form);
        body.set("participant", participant.peer_id);
        const answer = await postForm(this.data.decide_url, body);
        if (!answer.ok) this.toast((answer.body.error && answer.body.error.message) || t.decisionFailed);
      });
      this.decisionForms.set(participant.peer_id, form);
    }
    const checks = participant.checks;
    const shown = checks && checks.recommendation && (checks.results.length || checks.pending.length);
    form.dataset.advice = shown ? checks.recommendation.decision : "";
    overrideFollowsOutcome(form);
    form.querySelector("fieldset").disabled = participant.state !== "in_call";
    wrap.append(form);
    return wrap;
  }

  // --- keyboard shortcuts -------------------------------------------------------
  shortcutCapture() {
    const panel = document.getElementById(`panel-${this.active}`);
    const button = panel && panel.querySelector("[data-shortcut=capture]");
    if (button) button.click();
  }

  async shortcutNextStep() {
    const participant = this.currentParticipant();
    if (!participant) return;
    const step = this.selected(participant);
    if (CALL_STEPS.has(step.kind) && !["passed", "failed", "skipped"].includes(step.state) && step.kind !== "notes") {
      await this.act(participant.peer_id, step.position, "pass");
    }
    const next = participant.steps.find((s) => s.position > step.position && CALL_STEPS.has(s.kind));
    if (next) {
      this.selectedStep.set(participant.peer_id, next.position);
      if (next.state === "pending" && next.kind !== "notes") await this.act(participant.peer_id, next.position, "start");
      this.renderPanel(participant);
    }
  }
}
