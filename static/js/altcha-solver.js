// The public form's anti-robot check: solves the server's ALTCHA proof-of-work challenge
// (find n with SHA-256(salt + n) == challenge) and puts the signed answer in the form.
// A static file on purpose: no inline script, no third-party request, no styles set.
(function () {
  "use strict";

  function hex(buffer) {
    var bytes = new Uint8Array(buffer);
    var out = "";
    for (var i = 0; i < bytes.length; i++) {
      out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    }
    return out;
  }

  async function solve(challenge) {
    var encoder = new TextEncoder();
    for (var n = 0; n <= challenge.maxNumber; n++) {
      var digest = await crypto.subtle.digest("SHA-256", encoder.encode(challenge.salt + n));
      if (hex(digest) === challenge.challenge) {
        return n;
      }
    }
    return null;
  }

  function init(box) {
    var form = box.closest("form");
    var input = box.querySelector('input[name="altcha"]');
    var status = box.querySelector("[data-altcha-status]");
    var solving = null;

    function start() {
      if (solving) {
        return solving;
      }
      status.textContent = box.dataset.working;
      box.classList.add("is-working");
      solving = fetch(box.dataset.challengeUrl, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("challenge " + response.status);
          }
          return response.json();
        })
        .then(async function (challenge) {
          var number = await solve(challenge);
          if (number === null) {
            throw new Error("unsolved");
          }
          input.value = btoa(JSON.stringify({
            algorithm: challenge.algorithm,
            challenge: challenge.challenge,
            number: number,
            salt: challenge.salt,
            signature: challenge.signature,
          }));
          status.textContent = box.dataset.done;
          box.classList.remove("is-working");
          box.classList.add("is-solved");
        })
        .catch(function () {
          status.textContent = box.dataset.failed;
          box.classList.remove("is-working");
          solving = null;
        });
      return solving;
    }

    form.addEventListener("submit", function (event) {
      if (!input.value) {
        event.preventDefault();
        start().then(function () {
          if (input.value) {
            form.requestSubmit();
          }
        });
      }
    });
    start();
  }

  document.querySelectorAll("[data-altcha]").forEach(init);
})();
