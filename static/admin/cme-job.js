// A running background export's page (templates/admin/job.html) reloads itself every
// few seconds until the job is done: the server says how often and where.
(function () {
  var note = document.getElementById("job-refresh");
  if (!note) return;
  var seconds = parseInt(note.getAttribute("data-refresh-seconds"), 10) || 3;
  var url = note.getAttribute("data-refresh-url");
  window.setTimeout(function () { window.location.replace(url); }, seconds * 1000);
})();
