// The project form (templates/admin/project_form.html): 年度 follows 开始日期. When
// the start date is typed or picked, the year field takes the start date's year if
// it is empty or still holds the value proposed before (the default year, or the
// previous start date's year); a year the user typed by hand is left alone, and
// the server refuses it if it does not match (models.rules).
(function () {
  'use strict';

  var form = document.querySelector('form.project-form');
  if (!form) { return; }
  var year = form.querySelector('input[name="year"]');
  var start = form.querySelector('input[name="start_date"]');
  if (!year || !start) { return; }

  function yearOf(value) {
    var match = /^\s*(\d{4})-\d{1,2}-\d{1,2}\s*$/.exec(value || '');
    return match ? match[1] : null;
  }

  // What the page proposed: the default year of a new form, or a stored year that
  // already follows its start date.
  var initial = yearOf(start.value);
  var proposed = (!initial || initial === year.value.trim()) ? year.value.trim() : null;

  function follow() {
    var found = yearOf(start.value);
    if (!found) { return; }
    var current = year.value.trim();
    if (current === '' || current === proposed) {
      year.value = found;
      proposed = found;
    }
  }

  start.addEventListener('change', follow);
  start.addEventListener('input', follow);
}());
