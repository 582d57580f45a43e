// The open sign-in sheet counts its learners by itself: every 5 seconds it asks the
// sheet's count URL (admin_views/signin_sheet.py ``count``) and writes the answer into
// #signin-count (aria-live="polite", so a screen reader hears the change). It stops
// when the page is hidden and resumes when it is shown; an error leaves the last count.
(function () {
  "use strict";
  var target = document.getElementById("signin-count");
  if (!target || !target.dataset.countUrl) { return; }
  var url = target.dataset.countUrl;
  var timer = null;

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (body && body.text && target.textContent !== body.text) {
          target.textContent = body.text;
        }
      })
      .catch(function () { /* offline for a moment: keep the last count */ });
  }

  function start() { if (timer === null) { timer = window.setInterval(refresh, 5000); } }
  function stop() { if (timer !== null) { window.clearInterval(timer); timer = null; } }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { stop(); } else { refresh(); start(); }
  });
  start();
}());
