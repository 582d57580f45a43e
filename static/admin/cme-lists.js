// The project lists' workflow buttons: each says how many rows are ticked and
// stays disabled until one is; a button with data-confirm asks first (the same
// questions Flask-Admin's action menu asked). Also used by the details page.
(function () {
  'use strict';

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll('input.action-checkbox'));
  }

  function refresh() {
    var all = boxes();
    var ticked = all.filter(function (box) { return box.checked; }).length;
    document.querySelectorAll('.cme-list-button').forEach(function (button) {
      button.disabled = ticked === 0;
      button.textContent = ticked ? button.dataset.title + ' (' + ticked + ')' : button.dataset.title;
    });
    var toggle = document.querySelector('input.action-rowtoggle');
    if (toggle) {
      toggle.checked = all.length > 0 && ticked === all.length;
    }
  }

  document.addEventListener('change', function (event) {
    var target = event.target;
    if (target.matches('input.action-rowtoggle')) {
      boxes().forEach(function (box) { box.checked = target.checked; });
    }
    if (target.matches('input.action-checkbox, input.action-rowtoggle')) {
      refresh();
    }
  });

  document.addEventListener('submit', function (event) {
    var button = event.submitter;
    var question = (button && button.dataset.confirm) || event.target.dataset.confirm;
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // The browser may restore ticks when the user comes back to the page.
  window.addEventListener('pageshow', refresh);
  refresh();
}());
