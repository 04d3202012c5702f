// Local Sigma emulator: speaks Sigma's postMessage protocol with the host page.
// It posts Sigma's outbound events (Sigma's "Outbound event reference") and answers
// the inbound messages (Sigma's "Inbound event reference") the way Sigma documents,
// so the host's embed.js is tested against the real protocol. docs/embed-js.md lists
// what it does for each message.
// Messages go only to the framing origin, never "*", and are accepted only from
// window.parent at an allowed origin.
//
// What it needs from the emulator's pages: the JSON of #sigma-emulator-data
// (frameAncestors; then either event, on the error page, or responsiveHeight,
// variables and workbookId), main#sigma-emulator (the state panel is appended to
// it), and optionally table#control-values and button#add-row.
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

  function isPlainObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function newId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    return "b" + Math.random().toString(16).slice(2) + Date.now().toString(16);
  }

  var workbookId = typeof data.workbookId === "string" ? data.workbookId : null;
  var variables = Object.assign({}, data.variables || {});
  var params = new URLSearchParams(window.location.search);

  // Sigma keeps bookmarks server-side. The emulator keeps none (browsers may refuse
  // storage to a third-party frame): its bookmark IDs carry the name instead,
  // "bm-<name in base64url>-<random>", so a URL's :bookmark re-opens it on any mount.
  // Hosts must treat bookmark IDs as opaque; Sigma's are UUIDs.
  function encodeName(name) {
    var bytes = new TextEncoder().encode(name.slice(0, 60));
    var binary = "";
    bytes.forEach(function (b) { binary += String.fromCharCode(b); });
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function decodeName(id) {
    var match = /^bm-([A-Za-z0-9_-]+)-[0-9a-f]{8}$/.exec(id || "");
    if (!match) {
      return null;
    }
    try {
      var binary = atob(match[1].replace(/-/g, "+").replace(/_/g, "/"));
      var bytes = Uint8Array.from(binary, function (c) { return c.charCodeAt(0); });
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch (e) {
      return null;
    }
  }
  function newBookmarkId(name) {
    var random = new Uint8Array(4);
    window.crypto.getRandomValues(random);
    var hex = Array.prototype.map.call(random, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
    return "bm-" + encodeName(name) + "-" + hex;
  }

  var bookmarks = {};
  var opened = params.get(":bookmark");
  if (decodeName(opened) !== null) {
    bookmarks[opened] = { name: decodeName(opened), isDefault: false, isShared: false };
  }
  var state = {
    // The URL's :bookmark opens that bookmark when it exists.
    bookmark: opened && bookmarks[opened] ? opened : null,
    exploreKey: params.get(":explore"),
    // Whether the view changed since the bookmark was opened or saved.
    explored: false,
    fullScreenNode: null,
    selectedNode: null,
    sharingLink: null,
    sharingExplorationLink: null,
    mode: "view",
    modal: null,
    refresh: null,
    navigate: null,
    download: null
  };

  // --- What the page shows --------------------------------------------------------

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

  function element(tag, attributes, textContent) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    if (textContent !== undefined) {
      node.textContent = textContent;
    }
    return node;
  }

  // The embed's state as the host's messages left it, in a section of its own.
  var panel = element("section", { id: "sdk-state", "aria-label": "Embed state" });
  var stateList = element("dl");
  var fields = {};
  [
    ["bookmark", "Bookmark"],
    ["explore-key", "Exploration"],
    ["mode", "Mode"],
    ["full-screen", "Maximized element"],
    ["selected-node", "Selected node"],
    ["modal", "Open dialog"],
    ["refresh", "Data refresh request"],
    ["navigate", "Navigation request"],
    ["download", "Report download request"],
    ["sharing-link", "Sharing link"],
    ["sharing-exploration-link", "Exploration sharing link"]
  ].forEach(function (pair) {
    stateList.appendChild(element("dt", {}, pair[1]));
    fields[pair[0]] = stateList.appendChild(element("dd", { id: "state-" + pair[0] }));
  });
  var bookmarkList = element("ul", { id: "bookmarks" });
  var actions = element("p", { id: "sigma-actions" });
  panel.appendChild(element("h2", {}, "Embed state"));
  panel.appendChild(stateList);
  panel.appendChild(element("h2", {}, "Bookmarks"));
  panel.appendChild(bookmarkList);
  panel.appendChild(element("h2", {}, "Workbook actions"));
  panel.appendChild(actions);

  function renderState() {
    var current = state.bookmark ? bookmarks[state.bookmark] : null;
    fields.bookmark.textContent = current ? current.name + " (" + state.bookmark + ")" : "None";
    fields["explore-key"].textContent = state.exploreKey || "None";
    fields.mode.textContent = state.mode;
    fields["full-screen"].textContent = state.fullScreenNode || "None";
    fields["selected-node"].textContent = state.selectedNode
      ? state.selectedNode.nodeType + " " + state.selectedNode.id
      : "None";
    fields.modal.textContent = state.modal || "None";
    fields.refresh.textContent = state.refresh || "None";
    fields.navigate.textContent = state.navigate || "None";
    fields.download.textContent = state.download || "None";
    fields["sharing-link"].textContent = state.sharingLink || "None";
    fields["sharing-exploration-link"].textContent = state.sharingExplorationLink || "None";
    while (bookmarkList.firstChild) {
      bookmarkList.removeChild(bookmarkList.firstChild);
    }
    Object.keys(bookmarks).forEach(function (id) {
      var bookmark = bookmarks[id];
      var flags = [bookmark.isDefault ? "default" : "", bookmark.isShared ? "shared" : ""]
        .filter(Boolean)
        .join(", ");
      bookmarkList.appendChild(
        element(
          "li",
          { "data-bookmark-id": id },
          bookmark.name + (flags ? " (" + flags + ")" : "")
        )
      );
    });
  }

  // --- Outbound events: what Sigma posts when the user does something -------------

  function bookmarkEvent(type, id) {
    var bookmark = id ? bookmarks[id] : null;
    return {
      type: type,
      bookmarkName: bookmark ? bookmark.name : null,
      workbookId: workbookId,
      // Always null in embeds (Outbound event reference, workbook:bookmark:onchange).
      versionTagName: null,
      bookmarkId: bookmark ? id : null
    };
  }

  function explore() {
    state.exploreKey = newId();
    state.explored = true;
    renderState();
    post({ type: "workbook:exploreKey:onchange", exploreKey: state.exploreKey });
  }

  // Buttons standing in for what a user does inside a Sigma workbook.
  var userActions = [
    [
      "action-outbound",
      "Generate iframe event",
      function () {
        // A "Generate iframe event" workbook action with two event keys.
        post({
          type: "action:outbound",
          name: "open-account",
          values: { "Account ID": "ACME-001", Region: variables.Region || "" }
        });
      }
    ],
    [
      "select-cell",
      "Select a table cell",
      function () {
        post({
          type: "workbook:table:oncellselect",
          nodeId: "table-1",
          title: "Revenue by region",
          cells: [
            {
              value: 1250,
              cellType: "valueCell",
              columnName: "Revenue",
              underlyingData: { rows: [{ Region: "West", Revenue: 1250 }], isTruncated: false, length: 1 }
            }
          ]
        });
      }
    ],
    [
      "select-pivot-cell",
      "Select a pivot cell",
      function () {
        post({
          type: "workbook:pivottable:oncellselect",
          nodeId: "pivot-1",
          title: "Revenue by quarter",
          cells: [
            {
              value: 310,
              cellType: "valueCell",
              columnName: "Revenue",
              rowPath: [{ name: "Region", value: "West" }],
              columnPath: [{ name: "Quarter", value: "Q3" }]
            }
          ]
        });
      }
    ],
    [
      "select-chart-value",
      "Select a chart bar",
      function () {
        post({
          type: "workbook:chart:onvalueselect",
          nodeId: "chart-1",
          title: "Revenue chart",
          values: [{ Region: "West", Revenue: 1250 }]
        });
      }
    ],
    ["explore", "Explore", explore],
    [
      "maximize",
      "Maximize element",
      function () {
        state.fullScreenNode = state.fullScreenNode ? null : "chart-1";
        renderState();
        post({ type: "workbook:fullscreen:onchange", fullScreen: state.fullScreenNode !== null });
      }
    ],
    [
      "select-page",
      "Open page 2",
      function () {
        state.selectedNode = { id: "page-2", nodeType: "page" };
        renderState();
        post({ type: "workbook:selectednodeid:onchange", selectedNodeId: "page-2", nodeType: "page" });
      }
    ],
    [
      "publish",
      "Publish",
      function () {
        post({ type: "workbook:published", workbookId: workbookId });
      }
    ]
  ];
  userActions.forEach(function (spec) {
    var button = element("button", { type: "button", id: spec[0] }, spec[1]);
    button.addEventListener("click", spec[2]);
    actions.appendChild(button);
    actions.appendChild(document.createTextNode(" "));
  });

  // Clicks on the workbook itself: a table cell posts workbook:table:oncellselect
  // with the row as its underlying data; a page tab selects that page.
  function cellValue(text) {
    var number = Number(text);
    return text.trim() !== "" && isFinite(number) ? number : text;
  }

  function selectCell(cell, figure) {
    var table = cell.closest("table");
    var columns = Array.prototype.map.call(table.tHead.rows[0].cells, function (th) {
      return th.textContent;
    });
    var row = {};
    Array.prototype.forEach.call(cell.parentElement.cells, function (td, index) {
      row[columns[index]] = cellValue(td.textContent);
    });
    var caption = figure.querySelector("figcaption");
    post({
      type: "workbook:table:oncellselect",
      nodeId: figure.id.replace(/^element-/, ""),
      title: caption ? caption.textContent : "",
      cells: [
        {
          value: cellValue(cell.textContent),
          cellType: "valueCell",
          columnName: columns[cell.cellIndex],
          underlyingData: { rows: [row], isTruncated: false, length: 1 }
        }
      ]
    });
  }

  function selectPage(tab) {
    var index = Array.prototype.indexOf.call(tab.parentElement.children, tab);
    var section = document.querySelectorAll("section.sigma-page")[index];
    if (!section) {
      return;
    }
    var pageId = section.id.replace(/^page-/, "");
    state.selectedNode = { id: pageId, nodeType: "page" };
    renderState();
    post({ type: "workbook:selectednodeid:onchange", selectedNodeId: pageId, nodeType: "page" });
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) {
      return;
    }
    var cell = target.closest("figure.element table td");
    if (cell && !cell.classList.contains("no-data")) {
      selectCell(cell, cell.closest("figure.element"));
      return;
    }
    var tab = target.closest("#page-tabs li");
    if (tab) {
      selectPage(tab);
    }
  });

  // --- Inbound messages: what the host asks, and Sigma's documented answer --------

  // Sigma's two patterns for a sharing link (Inbound event reference).
  var SHARING_LINK = [
    /^https?:\/\/(www\.)?[-a-zA-Z0-9.~%:_\-@/?=&+*!$]{2,50}\.[a-z]{2,10}\b([-a-zA-Z0-9.~%:_\-@/?=&+*!$]*)$/,
    /^https?:\/\/[-a-zA-Z0-9.~%:_\-@/?=&+*!$]+(\\.[-a-zA-Z0-9.~%:_\-@/?=&+*!$]+)*(:[0-9]+)\/?(\/[.[-a-zA-Z0-9.~%:_\-@/?=&+*!$]+]*)*$/
  ];

  function validLink(link) {
    return (
      typeof link === "string" &&
      link.length <= 1000 &&
      SHARING_LINK.some(function (pattern) { return pattern.test(link); })
    );
  }

  function error(message, reply) {
    // Sigma documents these messages for workbook:bookmark:update but not their
    // code; EINVAL ("invalid argument") is the emulator's choice.
    reply({ type: "workbook:error", code: "EINVAL", message: message });
  }

  var INBOUND = {
    "workbook:variables:update": function (message, reply) {
      if (!isPlainObject(message.variables)) {
        return;
      }
      Object.keys(message.variables).forEach(function (name) {
        if (typeof message.variables[name] === "string") {
          variables[name] = message.variables[name];
        }
      });
      state.explored = true;
      renderVariables();
      reply({
        type: "workbook:variables:onchange",
        workbook: { variables: Object.assign({}, variables) }
      });
    },
    "workbook:variables:list": function (message, reply) {
      reply({ type: "workbook:variables:current", variables: Object.assign({}, variables) });
    },
    "workbook:bookmark:create": function (message, reply) {
      if (typeof message.name !== "string" || message.name === "") {
        return;
      }
      var id = newBookmarkId(message.name);
      bookmarks[id] = {
        name: message.name,
        isDefault: message.isDefault === true,
        isShared: message.isShared === true
      };
      state.bookmark = id;
      state.explored = false;
      renderState();
      reply(bookmarkEvent("workbook:bookmark:oncreate", id));
    },
    "workbook:bookmark:update": function (message, reply) {
      if (!state.bookmark) {
        error("Bookmark not selected", reply);
        return;
      }
      if (!state.explored) {
        error("Cannot update bookmark, no explore changes made", reply);
        return;
      }
      state.explored = false;
      var event = bookmarkEvent("workbook:bookmark:onupdate", state.bookmark);
      // Name, sharing and default travel only when the user changed them: not here.
      delete event.bookmarkName;
      reply(event);
    },
    "workbook:bookmark:delete": function (message, reply) {
      var id = message.bookmarkId;
      if (typeof id !== "string" || !bookmarks[id]) {
        return;
      }
      var event = bookmarkEvent("workbook:bookmark:ondelete", id);
      delete bookmarks[id];
      if (state.bookmark === id) {
        state.bookmark = null;
      }
      renderState();
      reply(event);
    },
    "workbook:bookmark:select": function (message, reply) {
      var id = message.bookmarkId;
      if (id === undefined || id === null) {
        state.bookmark = null;
      } else if (typeof id === "string" && bookmarks[id]) {
        state.bookmark = id;
      } else {
        return;
      }
      state.explored = false;
      renderState();
      reply(bookmarkEvent("workbook:bookmark:onchange", state.bookmark));
    },
    "workbook:fullscreen:update": function (message, reply) {
      var nodeId = typeof message.nodeId === "string" ? message.nodeId : null;
      state.fullScreenNode = state.fullScreenNode === nodeId ? null : nodeId;
      renderState();
      reply({ type: "workbook:fullscreen:onchange", fullScreen: state.fullScreenNode !== null });
    },
    "workbook:selectednodeid:update": function (message, reply) {
      var id = typeof message.selectedNodeId === "string" ? message.selectedNodeId : null;
      if (message.nodeType !== "element" && message.nodeType !== "page") {
        return;
      }
      state.selectedNode = id ? { id: id, nodeType: message.nodeType } : null;
      renderState();
      reply({
        type: "workbook:selectednodeid:onchange",
        selectedNodeId: id,
        nodeType: id ? message.nodeType : null
      });
    },
    "workbook:sharinglink:update": function (message) {
      // A link that fails Sigma's patterns is not set (Inbound event reference).
      if (message.sharingLink === null) {
        state.sharingLink = null;
      } else if (validLink(message.sharingLink)) {
        state.sharingLink = message.sharingLink;
      }
      if (message.sharingExplorationLink === null) {
        state.sharingExplorationLink = null;
      } else if (validLink(message.sharingExplorationLink)) {
        state.sharingExplorationLink = message.sharingExplorationLink;
      }
      renderState();
    },
    // Inbound event reference (2025-10): view and explore; release notes 2026-03:
    // "now supports edit as a mode".
    "workbook:mode:update": function (message) {
      if (message.mode === "view" || message.mode === "explore" || message.mode === "edit") {
        state.mode = message.mode;
        renderState();
      }
    },
    // Inbound event reference (2025-10): schedule, export, undefined; release notes
    // 2026-02: "now accepts a save-as modalType".
    "workbook:modal:toggle": function (message) {
      var type = message.modalType;
      if (type === undefined || type === "schedule" || type === "export" || type === "save-as") {
        state.modal = type || null;
        renderState();
      }
    },
    // Release notes 2026-02 / 2026-08 name these three messages; their fields were
    // not in any Sigma text we could reach, so the emulator only shows what came.
    "workbook:refresh": function (message) {
      state.refresh = received(message);
      renderState();
    },
    "document:navigateto": function (message) {
      state.navigate = received(message);
      renderState();
    },
    "report:download": function (message) {
      state.download = received(message);
      renderState();
    }
  };

  // The fields of a message other than its type, as JSON (shown with textContent).
  function received(message) {
    var fieldsOnly = {};
    Object.keys(message).forEach(function (name) {
      if (name !== "type") {
        fieldsOnly[name] = message[name];
      }
    });
    return "received " + JSON.stringify(fieldsOnly);
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent) {
      return;
    }
    if (targetOrigins().indexOf(event.origin) < 0) {
      return;
    }
    var message = event.data;
    if (!isPlainObject(message) || typeof message.type !== "string") {
      return;
    }
    if (!Object.prototype.hasOwnProperty.call(INBOUND, message.type)) {
      return;
    }
    INBOUND[message.type](message, function (reply) {
      window.parent.postMessage(reply, event.origin);
    });
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

  (document.getElementById("sigma-emulator") || document.body).appendChild(panel);
  renderState();

  post({
    type: "workbook:loaded",
    workbook: { variables: Object.assign({}, variables) },
  });
  // The elements' data after the metadata, as Sigma does.
  window.setTimeout(function () {
    post({ type: "workbook:dataloaded" });
    // Release notes 2026-03: document:element:nodata is sent "if no data is returned
    // for an element". Its fields were not reachable: the emulator sends the type only,
    // once per element that shows "No data".
    Array.prototype.forEach.call(document.querySelectorAll("figure.element .no-data"), function () {
      post({ type: "document:element:nodata" });
    });
  }, 0);

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
