/* A live counter under every bounded text field (data-counter="200", set by the
   form base, admin_views/forms.py): "已输入 12 / 200 字".

   The words come from this script's own tag (data-typed, data-over, data-pasted),
   in the page's language; no inline script (the site's CSP). The counter is in the
   field's aria-describedby, so a screen reader reads it with the field; a polite
   live region announces, once typing pauses, only what matters: the last tenth of
   the room, or a text over its limit.

   A paste that would not fit is not cut by the browser (maxlength cuts it
   silently): the whole text goes in, the counter says by how much it is over, and
   the server refuses it with the field's limit until it is shortened. */
(function () {
  "use strict";

  var script = document.currentScript;
  var words = {
    typed: (script && script.getAttribute("data-typed")) || "{count} / {limit}",
    over: (script && script.getAttribute("data-over")) || "+{over}",
    pasted: (script && script.getAttribute("data-pasted")) || ""
  };
  var locale = document.documentElement.getAttribute("lang") || undefined;
  var number = function (n) {
    try {
      return n.toLocaleString(locale);
    } catch (e) {
      return String(n);
    }
  };
  var fill = function (text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, key) {
      return key in values ? values[key] : all;
    });
  };
  var serial = 0;

  function limitOf(field) {
    var limit = parseInt(field.getAttribute("data-counter"), 10);
    return isFinite(limit) && limit > 0 ? limit : null;
  }

  function parts(field) {
    if (field._cmeCounter) {
      return field._cmeCounter;
    }
    serial += 1;
    var id = (field.id || "cme-field-" + serial) + "-counter";
    var shown = document.createElement("div");
    shown.className = "form-text small cme-counter text-muted";
    shown.id = id;
    var spoken = document.createElement("div");
    spoken.className = "sr-only";
    spoken.setAttribute("aria-live", "polite");
    spoken.setAttribute("aria-atomic", "true");
    field.insertAdjacentElement("afterend", shown);
    shown.insertAdjacentElement("afterend", spoken);
    var described = (field.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    if (described.indexOf(id) < 0) {
      described.push(id);
      field.setAttribute("aria-describedby", described.join(" "));
    }
    field._cmeCounter = { shown: shown, spoken: spoken, timer: null };
    return field._cmeCounter;
  }

  function update(field, note) {
    var limit = limitOf(field);
    if (limit === null) {
      return;
    }
    var counter = parts(field);
    var count = field.value.length;
    var over = count - limit;
    var text = fill(words.typed, { count: number(count), limit: number(limit) });
    if (over > 0) {
      text += fill(words.over, { over: number(over), limit: number(limit) });
    }
    if (note) {
      text = note + text;
    }
    counter.shown.textContent = text;
    counter.shown.classList.toggle("text-muted", over <= 0);
    counter.shown.classList.toggle("text-danger", over > 0);
    counter.shown.classList.toggle("font-weight-bold", over > 0);
    counter.shown.setAttribute("data-over", over > 0 ? "1" : "0");
    window.clearTimeout(counter.timer);
    if (note || count * 10 >= limit * 9) {
      counter.timer = window.setTimeout(function () {
        counter.spoken.textContent = text;
      }, note ? 0 : 800);
    } else {
      counter.spoken.textContent = "";
    }
  }

  function bounded(target) {
    return target && target.getAttribute && target.hasAttribute("data-counter") ? target : null;
  }

  document.addEventListener("input", function (event) {
    var field = bounded(event.target);
    if (field) {
      update(field);
    }
  });

  document.addEventListener("focusin", function (event) {
    var field = bounded(event.target);
    if (field && !field._cmeCounter) {
      update(field);
    }
  });

  document.addEventListener("paste", function (event) {
    var field = bounded(event.target);
    var limit = field && limitOf(field);
    if (!limit || !event.clipboardData || typeof field.setRangeText !== "function") {
      return;
    }
    var pasted = event.clipboardData.getData("text/plain");
    var start = field.selectionStart;
    var end = field.selectionEnd;
    if (start === null || end === null) {
      return;
    }
    if (field.value.length - (end - start) + pasted.length <= limit) {
      return; // it fits: the browser pastes as usual
    }
    event.preventDefault();
    field.setRangeText(pasted, start, end, "end");
    field.dispatchEvent(new Event("input", { bubbles: true }));
    update(field, words.pasted);
  });

  function start() {
    var fields = document.querySelectorAll("[data-counter]");
    for (var i = 0; i < fields.length; i += 1) {
      if (!fields[i].closest("template") && fields[i].id.indexOf("__i__") < 0) {
        update(fields[i]);
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
