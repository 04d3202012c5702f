// Local Sigma emulator: posts Sigma's events to the host page (spec §5).
// Messages go only to the framing origin, never "*", and are accepted only from
// window.parent at an allowed origin.
(function () {
  "use strict";

  var dataNode = document.getElementById("sigma-emulator-data");
  if (!dataNode) {
    return;
  }
  var data = JSON.parse(dataNode.textContent);
  var allowed = Array.isArray(data.frameAncestors) ? data.frameAncestors : [];
  var framed = window.parent && window.parent !== window;

  // The framing origin when the browser tells us (Chromium, WebKit). Firefox has
  // no ancestorOrigins: then each allowed origin is tried, and the browser
  // delivers only to the one that matches the parent's real origin.
  function targetOrigins() {
    var ancestors = window.location.ancestorOrigins;
    if (ancestors && ancestors.length > 0) {
      return allowed.indexOf(ancestors[0]) >= 0 ? [ancestors[0]] : [];
    }
    return allowed.slice();
  }

  function post(message) {
    if (!framed) {
      return;
    }
    targetOrigins().forEach(function (origin) {
      window.parent.postMessage(message, origin);
    });
  }

  if (data.event) {
    // The error page: one workbook:error event, nothing else.
    post(data.event);
    return;
  }

  var variables = Object.assign({}, data.variables || {});

  function renderVariables() {
    var table = document.getElementById("control-values");
    if (!table) {
      return;
    }
    var body = table.tBodies[0];
    while (body.firstChild) {
      body.removeChild(body.firstChild);
    }
    var names = Object.keys(variables).sort();
    if (names.length === 0) {
      var empty = body.insertRow();
      var cell = empty.insertCell();
      cell.colSpan = 2;
      cell.textContent = "None";
      return;
    }
    names.forEach(function (name) {
      var row = body.insertRow();
      row.insertCell().textContent = name;
      row.insertCell().textContent = variables[name];
    });
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent) {
      return;
    }
    if (targetOrigins().indexOf(event.origin) < 0) {
      return;
    }
    var message = event.data;
    if (!message || message.type !== "workbook:variables:update") {
      return;
    }
    var update = message.variables;
    if (!update || typeof update !== "object" || Array.isArray(update)) {
      return;
    }
    Object.keys(update).forEach(function (name) {
      if (typeof update[name] === "string") {
        variables[name] = update[name];
      }
    });
    renderVariables();
    window.parent.postMessage(
      {
        type: "workbook:variables:onchange",
        workbook: { variables: Object.assign({}, variables) },
      },
      event.origin
    );
  });

  var addRow = document.getElementById("add-row");
  if (addRow) {
    addRow.addEventListener("click", function () {
      var rows = document.getElementById("rows");
      var item = document.createElement("li");
      item.textContent = "Row " + (rows.children.length + 1);
      rows.appendChild(item);
    });
  }

  post({
    type: "workbook:loaded",
    workbook: { variables: Object.assign({}, variables) },
  });

  if (data.responsiveHeight) {
    var lastHeight = null;
    var reportHeight = function () {
      // The body's own height, not the viewport's: once the host sizes the iframe
      // to it, documentElement.scrollHeight could never shrink again.
      var height = Math.ceil(document.body.getBoundingClientRect().height);
      if (height !== lastHeight) {
        lastHeight = height;
        post({ type: "workbook:pageheight:onchange", pageHeight: height });
      }
    };
    reportHeight();
    if (typeof ResizeObserver === "function") {
      new ResizeObserver(reportHeight).observe(document.body);
    }
  }
})();
