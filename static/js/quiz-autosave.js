/* Quiz autosave: saves answers on the server as they change, so nothing is lost if the
   connection drops or the tab closes. Progressive enhancement only: without this script
   every answer is saved when the learner presses a button. The reply says only what was
   saved, never whether an answer is right. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave-url]");
  if (!form || !window.fetch || !window.FormData) {
    return;
  }
  var statusLine = document.getElementById("autosave-status");
  var timer = null;
  var inFlight = false;
  var again = false;

  function say(text) {
    if (statusLine) {
      statusLine.textContent = text;
    }
  }

  function save() {
    timer = null;
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    fetch(form.getAttribute("data-autosave-url"), {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    })
      .then(function (response) {
        return response.json();
      })
      .then(function (body) {
        if (body.status === "saved") {
          say(form.getAttribute("data-saved-text"));
        } else if (body.redirect) {
          window.location.assign(body.redirect);
        }
      })
      .catch(function () {
        say(form.getAttribute("data-offline-text"));
      })
      .then(function () {
        inFlight = false;
        if (again) {
          again = false;
          schedule(0);
        }
      });
  }

  function schedule(delay) {
    if (timer) {
      window.clearTimeout(timer);
    }
    timer = window.setTimeout(save, delay);
  }

  form.addEventListener("change", function () {
    schedule(200);
  });
  form.addEventListener("input", function (event) {
    if (event.target && event.target.type === "text") {
      schedule(1500);
    }
  });
})();
