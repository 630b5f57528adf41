// The workflow admin's rule checklist: choosing a preset ticks its rules (and
// "recording required" when the preset records the call) and shows where the
// regulation asks for each. Switching a preset rule off is still possible
// here; the server refuses the save (WorkflowTemplate._clean_rules) and says
// which rules the preset needs. The admin loads this in <head>: wait for the form.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const preset = document.getElementById("id_preset");
  const checklist = document.querySelector(".rule-checklist");
  const data = document.getElementById("preset-rule-sources");
  if (!preset || !checklist || !data) return;
  const sources = JSON.parse(data.textContent);
  let previous = preset.value;

  preset.addEventListener("change", () => {
    const rules = sources[preset.value] || {};
    const before = sources[previous] || {};
    previous = preset.value;
    const template = checklist.dataset.requiredBy;
    for (const box of checklist.querySelectorAll('input[type="checkbox"][name="rules"]')) {
      const source = rules[box.value];
      if (source) box.checked = true;
      // A rule only the preset left behind asked for goes with it; one picked by hand stays.
      else if (before[box.value]) box.checked = false;
      const note = checklist.querySelector(`.rule-source[data-rule="${box.value}"]`);
      if (note) note.textContent = source ? template.replace("%(source)s", source) : "";
    }
    const recording = document.getElementById("id_recording_required");
    if (rules.recording && recording) recording.checked = true;
  });
});
