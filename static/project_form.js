// The project form (templates/admin/project_form.html): lecturer rows added and
// removed in place, named as Flask-Admin's inline forms are (lecturers-N-field,
// del-lecturers-N for a saved row), so the server reads them unchanged.
(function () {
  'use strict';

  var form = document.querySelector('form.project-form');
  if (!form) { return; }
  // Every rule is checked on the server and shown in Chinese next to its field;
  // the browser's own required-field bubbles would pre-empt that.
  form.noValidate = true;

  // Submit once: the new form's one-time token, unless the browser restored the token of
  // this form as it was submitted (Back, then 提交): then the server sees that token again
  // and opens the project already added instead of adding a second one.
  var token = form.querySelector('input[name=submission]');
  if (token && !token.value && form.dataset.submission) {
    token.value = form.dataset.submission;
  }

  var table = document.getElementById('lecturers');
  var body = table.tBodies[0];
  var template = document.getElementById('lecturer-row-template');
  var addButton = document.getElementById('lecturer-add');

  function nextIndex() {
    var next = 0;
    body.querySelectorAll('tr.lecturer-row').forEach(function (row) {
      var index = parseInt(row.id.split('-').pop(), 10);
      if (!isNaN(index) && index >= next) { next = index + 1; }
    });
    return next;
  }

  function addRow() {
    var index = String(nextIndex());
    var row = template.content.firstElementChild.cloneNode(true);
    row.id = row.id.replace('__i__', index);
    row.querySelectorAll('[name], [id], [for]').forEach(function (el) {
      ['name', 'id', 'for'].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) { el.setAttribute(attr, value.replace('__i__', index)); }
      });
    });
    body.appendChild(row);
    return row;
  }

  addButton.addEventListener('click', function () {
    var row = addRow();
    var first = row.querySelector('input:not([type=hidden])');
    if (first) { first.focus(); }
  });

  body.addEventListener('click', function (event) {
    var button = event.target.closest('.lecturer-remove');
    if (!button) { return; }
    var row = button.closest('tr');
    var saved = row.querySelector('input.lecturer-delete');
    if (saved) {
      // A saved lecturer is deleted when the form is submitted.
      saved.checked = true;
      row.classList.add('lecturer-deleted');
    } else {
      row.remove();
    }
    addButton.focus();
  });

  // A new form offers one empty row to start with.
  if (!body.querySelector('tr.lecturer-row:not(.lecturer-deleted)')) { addRow(); }
})();
