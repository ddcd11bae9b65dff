// Page behaviour shared by every page. No inline scripts: the CSP forbids them.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.requestSubmit(); // a submit event: case-leave.js keeps the claim
    }
  });

  // Timed requests (elements marked data-poll) are not a person at work: they say so with
  // X-Saring-Poll, and the server neither keeps the session alive for them nor renews a
  // claim. The case page's heartbeat (data-poll-activity) instead reports active=1 when the
  // person typed, clicked, scrolled or moved the pointer since its last beat.
  var activeSinceBeat = false;
  ["keydown", "pointerdown", "pointermove", "wheel", "scroll", "input"].forEach(function (name) {
    document.addEventListener(name, function () { activeSinceBeat = true; },
      { capture: true, passive: true });
  });
  document.addEventListener("htmx:configRequest", function (event) {
    var el = event.detail.elt;
    if (!(el instanceof Element) || !el.hasAttribute("data-poll")) { return; }
    if (el.hasAttribute("data-poll-activity") && activeSinceBeat) {
      activeSinceBeat = false;
      event.detail.parameters.active = "1";
      return;
    }
    event.detail.headers["X-Saring-Poll"] = "1";
  });
})();
