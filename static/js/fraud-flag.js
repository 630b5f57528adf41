// The operator's "Flag this session" button and its dialog: a reason and a
// note, stored on the server (operators/fraud_flags.py) before the page says
// it is flagged. Used during the call and after it, on the same page.

import { format, postForm } from "./call-ui.js";

export function bindFraudFlag({ url, t }) {
  const $ = (id) => document.getElementById(id);
  const dialog = $("flag-dialog");
  const form = $("flag-form");
  const error = $("flag-error");
  const opener = $("btn-flag");
  if (!dialog || !form || !opener) return;
  opener.addEventListener("click", () => {
    error.hidden = true;
    dialog.showModal();
    form.elements.reason.focus();
  });
  // The console's history links here with #flag, to flag after the call.
  if (location.hash === "#flag") opener.click();
  $("flag-cancel").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => opener.focus());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const answer = await postForm(url, new FormData(form));
      if (!answer.ok) {
        error.textContent = (answer.body.error && answer.body.error.message) || t.flagFailed;
        error.hidden = false;
        return;
      }
      $("flag-status").textContent = format(t.flagRaised, { reason: t.fraudReasons[answer.body.reason] || answer.body.reason });
      form.reset();
      dialog.close();
    } catch {
      error.textContent = t.flagFailed;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
}
