/* The page behaviours that used to be inline event handlers (onclick=, onchange=),
   which the Content-Security-Policy refuses: bound here once, by delegation, from
   data- attributes. Plain JavaScript, since the public pages load no jQuery. */
(function () {
  "use strict";
  if (window.cmeHandlers) {
    return; // loaded twice (the panel's layout and an included error message)
  }
  window.cmeHandlers = true;

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) {
      return;
    }
    // The error page's "back to the form": the browser's history keeps what was typed.
    var back = target.closest("[data-cme-history-back]");
    if (back && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
      return;
    }
    // A list's "with selected" action (Flask-Admin's actions.js defines modelActions).
    var action = target.closest("[data-cme-action]");
    if (action) {
      event.preventDefault();
      if (window.modelActions) {
        window.modelActions.execute(action.getAttribute("data-cme-action"));
      }
      return;
    }
    // A button that asks first (a row's delete).
    var confirmed = target.closest("[data-cme-confirm]");
    if (confirmed) {
      if (!window.confirm(confirmed.getAttribute("data-cme-confirm"))) {
        event.preventDefault();
      }
      return;
    }
    // Flask-Admin's filter menu items and current-tab links lead nowhere; a javascript:
    // address would be refused by the policy, "#" would scroll to the top.
    var inert = target.closest('a.filter[href="#"], a[href^="javascript:"]');
    if (inert) {
      event.preventDefault();
    }
  });

  // A menu's dropdown toggle (系统管理, the account menu) is a link to "#": Bootstrap
  // opens the menu, but Flask-Admin's multi-level dropdown script stops the click on
  // the link itself, before the handler above could keep "#" from being followed
  // (the address would change and the page scroll). Caught on the way down instead.
  document.addEventListener(
    "click",
    function (event) {
      var target = event.target instanceof Element ? event.target : null;
      if (target && target.closest('a[data-toggle="dropdown"][href="#"]')) {
        event.preventDefault();
      }
    },
    true
  );

  // A select that shows its choice at once (the filing rules' year).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-cme-autosubmit")) {
      target.form.submit();
    }
  });
})();
