// The clinic's few behaviours, here and not in the page: the Content-Security-Policy allows
// no inline script or event handler attribute.
"use strict";

// A select marked data-submit-on-change submits its form when changed (the calendars'
// location picker); the form's own button still works without script.
document.addEventListener("change", function (event) {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-submit-on-change") && target.form) {
    target.form.requestSubmit();
  }
});
