// Herald's pages work without this file except for Test-then-Save and the
// live preview; it adds those and a few conveniences. No libraries.
"use strict";

// post sends a form's fields the way the browser would and reads JSON back.
async function post(url, form) {
  const res = await fetch(url, {
    method: "POST",
    body: new URLSearchParams(new FormData(form)),
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  let data = {};
  try { data = await res.json(); } catch (e) { data = { error: "Unexpected answer (HTTP " + res.status + ")." }; }
  return { ok: res.ok, status: res.status, data };
}

// Rows that can be added and removed: header rows, filters, custom params.
function wireRows(root, onChange) {
  root.addEventListener("click", (ev) => {
    const remove = ev.target.closest("[data-remove-row]");
    if (remove) {
      const row = remove.closest("[data-row], [data-header-row]");
      const focusTo = row.parentElement.closest("fieldset");
      row.remove();
      if (focusTo) focusTo.querySelector("button[data-add-row], button[data-add-header]")?.focus();
      onChange();
      return;
    }
    const add = ev.target.closest("[data-add-row], [data-add-header]");
    if (add) {
      const kind = add.dataset.addRow;
      const tpl = kind ? root.querySelector(`template[data-row-template="${kind}"]`) : document.getElementById("header-row-template");
      const box = kind ? root.querySelector(`[data-rows="${kind}"]`) : root.querySelector("[data-header-rows]");
      const row = tpl.content.firstElementChild.cloneNode(true);
      box.appendChild(row);
      row.querySelector("input, select")?.focus();
      onChange();
    }
  });
}

// The webhook form: Save is enabled only while the tested fields hold
// values a test passed with. The server checks the same thing.
function webhookForm(form) {
  const save = form.querySelector("[data-save]");
  const saveState = form.querySelector("[data-save-state]");
  const testBtn = form.querySelector("[data-test]");
  const result = form.querySelector("[data-test-result]");
  const passed = new Set();
  // Signatures a test passed on this page, not only before it: for a
  // webhook disabled after failures only such a test lets it back in.
  const passedNow = new Set();
  const outage = form.dataset.outage === "true";

  // What a test verifies, as typed. Header rows left empty do not count:
  // the server drops them too.
  const signature = () => JSON.stringify([...form.querySelectorAll("[data-tested]")]
    .filter((el) => {
      const row = el.closest("[data-header-row]");
      return !row || [...row.querySelectorAll("input")].some((i) => i.value !== "");
    })
    .map((el) => [el.name, el.value]));

  const update = () => {
    const sig = signature();
    const ok = passed.has(sig);
    save.disabled = !ok;
    if (!ok) saveState.textContent = "Test these settings before saving.";
    else if (outage && !passedNow.has(sig)) {
      saveState.textContent = "Passed a test before the outage: you can save, but it stays disabled until a test from now on passes.";
    } else saveState.textContent = "Tested: ready to save.";
  };

  const clearErrors = () => {
    form.querySelectorAll("[data-error-for], [data-row-error]").forEach((el) => { el.hidden = true; el.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  };
  const showError = (field, message) => {
    let el = form.querySelector(`[data-error-for="${CSS.escape(field || "")}"]`);
    const m = /^headers\[(\d+)\]/.exec(field || "");
    if (m) {
      const rows = [...form.querySelectorAll("[data-header-row]")].filter((r) =>
        r.querySelector("[name=header_name]").value.trim() !== "" || r.querySelector("[name=header_value]").value !== "");
      el = rows[+m[1]]?.querySelector("[data-row-error]") || el;
    }
    if (!el && /^subscriptions/.test(field || "")) {
      el = form.querySelector('[data-error-for="subscriptions"]');
      message = field + ": " + message;
    }
    el = el || form.querySelector('[data-error-for=""]');
    const text = message.charAt(0).toUpperCase() + message.slice(1);
    el.textContent = m ? field.replace(/^headers\[\d+\]\./, "") + ": " + text : text;
    el.hidden = false;
    markInvalid(el);
    el.closest(".field, .header-row")?.querySelector("input, select")?.focus();
  };

  if (form.dataset.verified === "true") passed.add(signature());
  update();
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  wireRows(form, update);

  testBtn.addEventListener("click", async () => {
    clearErrors();
    const sig = signature();
    testBtn.disabled = true;
    testBtn.textContent = "Testing…";
    try {
      const { ok, data } = await post(form.dataset.testUrl, form);
      if (!ok) {
        result.hidden = true;
        showError(data.field, data.error || "The test could not run.");
        return;
      }
      if (data.passed) { passed.add(sig); passedNow.add(sig); } else { passed.delete(sig); passedNow.delete(sig); }
      result.hidden = false;
      const badge = result.querySelector("[data-result-badge]");
      badge.textContent = data.passed ? "passed" : "failed";
      badge.className = "badge " + (data.passed ? "ok" : "bad");
      result.querySelector("[data-result-status]").textContent = data.status_code ? "HTTP " + data.status_code : "no answer";
      result.querySelector("[data-result-latency]").textContent = data.latency_ms + " ms";
      const err = result.querySelector("[data-result-error]");
      // A status says it all; only a request that got none needs its error.
      err.textContent = data.passed ? "" : data.status_code
        ? "Only HTTP 200 verifies a webhook: fix the receiver or these settings, then test again."
        : data.error;
      err.hidden = err.textContent === "";
      result.querySelector("[data-result-body]").textContent = data.body || "(empty)";
    } finally {
      testBtn.disabled = false;
      testBtn.textContent = "Test";
      update();
    }
  });

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (save.disabled) return;
    clearErrors();
    save.disabled = true;
    const { ok, data } = await post(form.action, form);
    if (!ok) {
      showError(data.field, data.error || "Not saved.");
      update();
      return;
    }
    if (data.signing_secret) {
      const box = document.querySelector("[data-secret-once]");
      form.hidden = true;
      box.hidden = false;
      box.querySelector("[data-secret-value]").textContent = data.signing_secret;
      const next = box.querySelector("[data-secret-continue]");
      next.href = data.redirect;
      next.focus();
      return;
    }
    window.location.assign(data.redirect);
  });
}

// The webhook form's body format: the template editor shows for the
// template format, and its preview (the sample event rendered by the
// server's own engine) follows what is typed.
function templateEditor(form) {
  const format = form.querySelector("[name=body_format]");
  const editor = form.querySelector("[data-template-editor]");
  if (!format || !editor) return;
  const out = editor.querySelector("[data-template-preview]");
  const type = editor.querySelector("[data-preview-type]");
  const err = editor.querySelector("[data-preview-error]");
  let timer = null;
  let asked = 0;
  const refresh = () => {
    editor.hidden = format.value !== "template";
    if (editor.hidden) return;
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++asked;
      const { ok, data } = await post(form.dataset.previewUrl, form);
      if (mine !== asked) return; // a newer preview is on its way
      err.hidden = ok;
      err.textContent = ok ? "" : (data.error || "The preview cannot be built.");
      out.textContent = ok ? data.body : "";
      type.textContent = ok ? "Content-Type: " + data.content_type : "";
      editor.dataset.previewState = ok ? "ok" : "error";
    }, 200);
  };
  form.addEventListener("input", (ev) => { if (editor.contains(ev.target) || ev.target === format) refresh(); });
  form.addEventListener("change", (ev) => { if (editor.contains(ev.target) || ev.target === format) refresh(); });
  refresh();
}

// The webhook step's preview follows its form.
function previewForm(form) {
  const out = document.querySelector("[data-preview]");
  let timer = null;
  const refresh = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const { ok, data } = await post(form.dataset.previewUrl, form);
      out.textContent = ok ? data.preview : "The preview cannot be built: " + (data.error || "unknown error");
    }, 150);
  };
  form.addEventListener("input", refresh);
  form.addEventListener("change", refresh);
  return refresh;
}

// markInvalid marks the field a shown error message belongs to as invalid,
// for screen readers (aria-invalid) and the eye (its red border).
function markInvalid(msg) {
  const field = msg.closest(".field, .header-row")?.querySelector("input, select, textarea");
  if (field) field.setAttribute("aria-invalid", "true");
}

// Copy buttons copy the text of the element they name.
async function copyFrom(button) {
  const el = document.getElementById(button.dataset.copy);
  if (!el) return;
  const value = el.textContent.trim();
  try {
    await navigator.clipboard.writeText(value);
  } catch (e) {
    // No clipboard API (a page over plain HTTP elsewhere than localhost):
    // select the text so Ctrl+C copies it.
    const range = document.createRange();
    range.selectNodeContents(el);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    button.textContent = "Selected: press Ctrl+C";
    return;
  }
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = "Copy"; }, 2000);
}

document.addEventListener("DOMContentLoaded", () => {
  // A confirmation after a post that returns to a part of the page (the
  // log, a step) shows there, where the user is, not scrolled off at the top.
  const flash = document.querySelector("main > .flash");
  const target = location.hash.length > 1 ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
  if (flash && target && target !== flash) {
    target.prepend(flash);
    flash.scrollIntoView({ block: "nearest" });
  }
  // Errors the server put next to fields mark those fields invalid too.
  document.querySelectorAll(".field-error:not([hidden]), [data-error-for]:not([hidden])").forEach((el) => {
    if (el.textContent.trim() !== "") markInvalid(el);
  });
  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-copy]");
    if (b) copyFrom(b);
  });
  document.querySelectorAll("form[data-webhook-form]").forEach((form) => { webhookForm(form); templateEditor(form); });
  document.querySelectorAll("form[data-rows-form]").forEach((form) => wireRows(form, () => {}));
  document.querySelectorAll("form.step-form").forEach((form) => {
    const refresh = form.dataset.previewUrl ? previewForm(form) : () => {};
    wireRows(form, refresh);
    // Unsaved edits of a step are not dropped without a word: leaving for
    // another step (or page) asks first.
    let dirty = false;
    form.addEventListener("input", () => { dirty = true; });
    form.addEventListener("change", () => { dirty = true; });
    form.addEventListener("submit", () => { dirty = false; });
    document.addEventListener("click", (ev) => {
      const link = ev.target.closest("a[href]");
      if (!dirty || !link || form.contains(link)) return;
      if (!window.confirm("This step has changes that are not saved. Leave them?")) ev.preventDefault();
      else dirty = false;
    });
    window.addEventListener("beforeunload", (ev) => { if (dirty) ev.preventDefault(); });
  });
  // A confirmation closes with Escape, and focus returns to its button.
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "Escape") return;
    const open = document.activeElement?.closest("details.confirm[open]");
    if (open) { open.open = false; open.querySelector("summary").focus(); }
  });
});
