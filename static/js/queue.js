// The queue and the case page: keyboard shortcuts, evidence reveal, row navigation.
// No inline scripts or handlers anywhere: the Content-Security-Policy forbids them.
(function () {
  "use strict";

  function typing(event) {
    var el = event.target;
    return el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement ||
      el instanceof HTMLSelectElement || (el && el.isContentEditable);
  }

  // --- Queue rows: j/k move, Enter opens ----------------------------------------------
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-queue] tbody tr[data-href]"));
  }
  function selectRow(index) {
    var all = rows();
    if (!all.length) { return; }
    index = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (row, i) {
      row.classList.toggle("is-selected", i === index);
      row.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    all[index].scrollIntoView({ block: "nearest" });
  }
  function selectedIndex() {
    return rows().findIndex(function (row) { return row.classList.contains("is-selected"); });
  }

  // --- Evidence ----------------------------------------------------------------------
  function keepBlurred() {
    var section = document.getElementById("reports");
    return section && section.getAttribute("data-keep-blurred") === "true";
  }
  // Revealing removes only the blur: grayscale (is-gray) stays until the person turns it off
  // in their evidence settings. A picture shown unblurred (blur-none) has nothing to reveal.
  function reveal(thumb, on) {
    if (thumb.classList.contains("blur-none")) { return; }
    thumb.classList.toggle("is-blurred", !on);
    thumb.setAttribute("aria-pressed", on ? "true" : "false");
  }
  function revealEvidence() {
    var blurred = document.querySelectorAll(".evidence-thumb.is-blurred");
    if (!blurred.length) { return; }
    if (keepBlurred()) {
      reveal(blurred[0], true); // one picture at a time
    } else {
      Array.prototype.forEach.call(blurred, function (thumb) { reveal(thumb, true); });
    }
  }

  // --- Decisions ---------------------------------------------------------------------
  function openDecision(id) {
    var form = document.getElementById(id);
    if (!form) { return; }
    document.querySelectorAll("form.decision").forEach(function (other) {
      other.hidden = other !== form;
    });
    form.hidden = false;
    var first = form.querySelector("textarea, select");
    if (form.id === "decide-takedown") { first = form.querySelector("select[name=legal_basis]"); }
    if (first) { first.focus(); }
  }

  function showHelp() {
    var dialog = document.getElementById("shortcut-help");
    if (dialog && !dialog.open) { dialog.showModal(); }
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) { return; }
    var thumb = target.closest(".evidence-thumb");
    if (thumb) {
      reveal(thumb, thumb.classList.contains("is-blurred"));
      return;
    }
    if (target.closest("[data-reveal-all]")) { revealEvidence(); return; }
    var opener = target.closest("[data-open]");
    if (opener) { openDecision(opener.getAttribute("data-open")); return; }
    if (target.closest("[data-shortcut-help]")) { showHelp(); return; }
    var row = target.closest("[data-queue] tbody tr[data-href]");
    if (row && !target.closest("a, input, button, label")) {
      window.location.href = row.getAttribute("data-href");
    }
  });

  // With keep-blurred on, a revealed picture blurs again once the pointer leaves it.
  document.addEventListener("mouseout", function (event) {
    var thumb = event.target instanceof Element ? event.target.closest(".evidence-thumb") : null;
    if (thumb && keepBlurred() && !thumb.contains(event.relatedTarget)) { reveal(thumb, false); }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.hasAttribute("data-autosubmit-check") && target.form) {
      target.form.requestSubmit(); // a submit event: case-leave.js keeps the claim
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) { return; }
    var dialog = document.getElementById("shortcut-help");
    if (dialog && dialog.open) { return; }
    var key = event.key;
    var handled = true;
    if (key === "j") {
      selectRow(selectedIndex() + 1);
    } else if (key === "k") {
      selectRow(Math.max(selectedIndex() - 1, 0));
    } else if (key === "Enter" && selectedIndex() >= 0) {
      window.location.href = rows()[selectedIndex()].getAttribute("data-href");
    } else if (key === "n") {
      var next = document.getElementById("next-case-form");
      if (next) { next.requestSubmit(); } else { handled = false; }
    } else if (key === "d") {
      openDecision("decide-dismiss");
    } else if (key === "t") {
      openDecision("decide-takedown");
    } else if (key === "e") {
      openDecision("decide-escalate");
    } else if (key === "r") {
      revealEvidence();
    } else if (key === "?") {
      showHelp();
    } else {
      handled = false;
    }
    if (handled) { event.preventDefault(); }
  });
})();
