// The case page: when the person holding the case closes the page or goes elsewhere, a
// beacon returns their claim to the queue at once (the lease would otherwise keep an urgent
// case claimed by someone who has gone). Not when they submit a form on the page (deciding,
// noting, the supervisor's forms: the server moves the claim itself), nor on a reload (by
// keyboard, or as the Navigation API reports it); "Next case" does leave the case, so it
// releases it.
(function () {
  "use strict";

  var holder = document.querySelector("[data-release-on-leave]");
  if (!holder || !navigator.sendBeacon) { return; }
  var url = holder.getAttribute("data-release-on-leave");
  var staying = false;
  // A reload asked for but not happening (a shortcut the browser kept for itself) must not
  // keep the claim for good: the mark lapses unless the page goes within a few seconds.
  function stayBriefly() {
    staying = true;
    setTimeout(function () { staying = false; }, 3000);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.id === "next-case-form") { return; }
    staying = true;
    // A handler after this one may still cancel the submission (htmx does, for its own
    // forms): then the page stays and a later departure must release the claim.
    setTimeout(function () { if (event.defaultPrevented) { staying = false; } }, 0);
  });

  document.addEventListener("keydown", function (event) {
    var key = event.key;
    if (key === "F5" || ((event.ctrlKey || event.metaKey) && (key === "r" || key === "R"))) {
      stayBriefly();
    }
  });

  // A reload, or a link back to this same page, stays with the case; the Navigation API
  // (Chromium) tells one from a departure whichever way it was asked for.
  if (window.navigation) {
    window.navigation.addEventListener("navigate", function (event) {
      if (event.hashChange || event.downloadRequest !== null) { return; } // the page stays
      var to = new URL(event.destination.url);
      if (event.navigationType === "reload" || to.pathname === window.location.pathname) {
        stayBriefly(); // reloaded, or this very case page again
      }
    });
  }

  window.addEventListener("pageshow", function (event) {
    // Back from the browser's cache: the claim may be gone; the heartbeat will say so.
    if (event.persisted) { staying = false; }
  });

  window.addEventListener("pagehide", function () {
    if (staying) { return; }
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (!token) { return; }
    var data = new FormData();
    data.append("csrfmiddlewaretoken", token.value);
    navigator.sendBeacon(url, data);
  });
})();
