// Loaded first on every minyi page: collects script errors, failed resource loads and
// console.error calls into `window.__minyiErrors`, so that the browser tests (and a
// curious operator in the developer tools) can assert that a page ran cleanly.
(function () {
  var errors = [];
  window.__minyiErrors = errors;
  window.addEventListener(
    "error",
    function (event) {
      var target = event.target;
      if (target && target !== window && (target.src || target.href)) {
        errors.push("failed to load " + (target.src || target.href));
      } else {
        errors.push(String(event.message || event.error));
      }
    },
    true
  );
  window.addEventListener("unhandledrejection", function (event) {
    errors.push("unhandled rejection: " + String(event.reason && event.reason.message || event.reason));
  });
  var original = console.error;
  console.error = function () {
    errors.push(Array.prototype.map.call(arguments, String).join(" "));
    return original.apply(console, arguments);
  };
})();
