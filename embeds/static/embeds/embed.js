/*
 * Host side of Sigma's browser protocol for every element with [data-sigma-embed].
 * Plain script, no build step, no inline code (CSP-clean). docs/embed-js.md documents
 * every DOM event and API method; docs/sigma-protocol.md and Sigma's "Outbound event
 * reference" / "Inbound event reference" are the sources of the message shapes.
 *
 * Security rules (each one is why the code looks the way it does):
 * - A message is handled only when event.source is this embed's iframe window AND
 *   event.origin is exactly the iframe's origin AND that origin is one of the
 *   configured Sigma origins (data-sigma-origins). Anything else is dropped silently.
 * - Messages to Sigma go to the iframe's exact origin, never "*".
 * - A signed URL is single-use. Every (re)mount uses a URL fresh from the server
 *   (the page itself, or the refresh endpoint); a new iframe element with its own
 *   random name is created each time, so back/forward can never restore a spent
 *   URL into it, and a page restored from the back/forward cache re-mounts.
 * - Text that comes from the frame is only ever set with textContent; payloads are
 *   re-built field by field (expected types only) before a host listener sees them.
 *
 * API for the host page (docs/embed-js.md):
 *   var embed = window.SigmaEmbed.get("sales-overview");  // slug, element, id; none = first
 *   embed.updateVariables({Region: ["West", "East"]});    // workbook:variables:update
 *   embed.listVariables().then(function (variables) {});  // workbook:variables:list
 *   embed.createBookmark({name: "Q3", isShared: true});   // workbook:bookmark:create
 *   embed.on("action", function (detail) {});             // = addEventListener("sigma:action")
 */
(function () {
  "use strict";

  // Sigma's page height is trusted only within these bounds (pixels).
  var MIN_HEIGHT = 50;
  var MAX_HEIGHT = 30000;
  // Sigma's JWT "Common embed error codes and messages" gives EINVAL when "the JWT is
  // expired": the one code a fresh URL can fix (a used nonce is EINVAL only on its
  // legacy page). Only the code is read, never the wording of the message.
  var SPENT_URL_CODES = ["EINVAL"];
  // Sigma refusing this user the content: EACCES ("not shared ... with the user",
  // Sigma's JWT error page) or EPERM (its JWT QuickStart's code for the same
  // cause). A fresh URL cannot fix either; the hint says who can.
  var ACCESS_CODES = ["EACCES", "EPERM"];
  // Without workbook:loaded (nor workbook:error) this long after a mount, the URL is
  // re-signed and re-mounted once; after that, the user gets a Try again button.
  var LOAD_TIMEOUT_MS = 20000;
  // How long listVariables() waits for workbook:variables:current.
  var REPLY_TIMEOUT_MS = 10000;
  // Error reports sent per page, at most (the server rate-limits as well).
  var MAX_REPORTS = 5;
  // An explore key or bookmark ID the server will accept (embeds.views.PLACE_KEY).
  var PLACE_KEY = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
  // Longest string taken from a Sigma payload for an ID, name or message.
  var MAX_TEXT = 1000;
  // Sigma refuses sharing links longer than this (Inbound event reference).
  var MAX_SHARING_LINK = 1000;

  // What a viewer reads for Sigma's error codes (Sigma's own message is for the
  // site's administrators: it goes to the error report).
  var PLAIN_ERRORS = {
    EINVAL: "Sigma did not accept this site's sign-in for this content.",
    EACCES: "Your account may not view this content in Sigma.",
    EPERM: "Your account may not view this content in Sigma.",
    ENOENT: "Sigma could not find this content.",
    other: "Something went wrong on Sigma's side while opening this content."
  };

  var controllers = [];

  function isPlainObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function originOf(url) {
    try {
      return new URL(url, window.location.href).origin;
    } catch (e) {
      return null;
    }
  }

  function stringValues(source) {
    var result = {};
    if (!isPlainObject(source)) {
      return result;
    }
    Object.keys(source).forEach(function (name) {
      if (typeof source[name] === "string") {
        result[name] = source[name];
      }
    });
    return result;
  }

  function clip(value, limit) {
    return typeof value === "string" ? value.slice(0, limit) : "";
  }

  // A string field of a Sigma payload, or null when absent or of another type.
  function text(value) {
    return typeof value === "string" ? value.slice(0, MAX_TEXT) : null;
  }

  function list(value) {
    return Array.isArray(value) ? value : [];
  }

  function record(value) {
    return isPlainObject(value) ? value : {};
  }

  function scalarFields(data) {
    var detail = {};
    Object.keys(data).forEach(function (name) {
      var value = data[name];
      if (name === "type" || !/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name)) {
        return;
      }
      if (typeof value === "string") {
        detail[name] = clip(value, MAX_TEXT);
      } else if (
        value === null ||
        typeof value === "boolean" ||
        (typeof value === "number" && isFinite(value))
      ) {
        detail[name] = value;
      }
    });
    return detail;
  }

  function bookmarkDetail(data) {
    return {
      bookmarkId: text(data.bookmarkId),
      bookmarkName: text(data.bookmarkName),
      workbookId: text(data.workbookId),
      versionTagName: text(data.versionTagName)
    };
  }

  // The detail of an event that carries one string field, name.
  function textField(name) {
    return function (data) {
      var detail = {};
      detail[name] = text(data[name]);
      return detail;
    };
  }

  // A selection in an element: its node and title, then the list Sigma sends with it
  // under listName (cells of a table or pivot table, values of a chart).
  function selectionDetail(listName) {
    return function (data) {
      var detail = { nodeId: text(data.nodeId), title: text(data.title) };
      detail[listName] = list(data[listName]);
      return detail;
    };
  }

  // POST payload as JSON to this site (the refresh and error-report endpoints), with
  // the CSRF token and the extra fetch options given. The page itself is no-referrer,
  // under which a POST says "Origin: null" and fails Django's CSRF origin check;
  // same-origin still sends nothing to any other origin.
  function postToSite(url, csrfToken, payload, extra) {
    var init = {
      method: "POST",
      credentials: "same-origin",
      referrerPolicy: "same-origin",
      headers: {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": csrfToken
      },
      body: JSON.stringify(payload)
    };
    Object.keys(extra).forEach(function (name) {
      init[name] = extra[name];
    });
    return window.fetch(url, init);
  }

  // The place (bookmark, else exploration) a signed URL opens, from its parameters.
  function placeOf(url) {
    var place = { bookmark: null, explore: null };
    try {
      var params = new URL(url, window.location.href).searchParams;
      ["bookmark", "explore"].forEach(function (name) {
        var value = params.get(":" + name);
        if (value && PLACE_KEY.test(value)) {
          place[name] = value;
        }
      });
    } catch (e) {
      // Not a URL: no place.
    }
    return place;
  }

  /*
   * Sigma's events (outbound in Sigma's terms) and the DOM event each becomes.
   * detail(data) builds the CustomEvent detail from the checked message; "then"
   * names a controller method that runs first (state kept by the script itself).
   */
  var INBOUND = {
    "workbook:loaded": {
      event: "sigma:loaded",
      then: "onLoaded",
      detail: function (data) {
        return { variables: stringValues(record(data.workbook).variables) };
      }
    },
    "workbook:dataloaded": { event: "sigma:dataloaded", detail: function () { return {}; } },
    "workbook:error": { then: "onSigmaError" },
    "workbook:variables:onchange": {
      event: "sigma:variables",
      detail: function (data) {
        // Nested in workbook: the Outbound event reference and the SDK's types.ts
        // since embed-sdk 0.6.0 ("fixes the variable on change type").
        return { variables: stringValues(record(data.workbook).variables) };
      }
    },
    "workbook:variables:current": {
      event: "sigma:variables:current",
      then: "onCurrentVariables",
      detail: function (data) {
        return { variables: stringValues(data.variables) };
      }
    },
    "workbook:bookmark:onchange": {
      event: "sigma:bookmark",
      then: "onBookmarkChange",
      detail: bookmarkDetail
    },
    "workbook:bookmark:oncreate": {
      event: "sigma:bookmark:created",
      then: "onBookmarkCreate",
      detail: bookmarkDetail
    },
    "workbook:bookmark:onupdate": {
      event: "sigma:bookmark:updated",
      detail: function (data) {
        var detail = bookmarkDetail(data);
        // Optional: present only when the user changed them.
        ["isShared", "isDefault"].forEach(function (name) {
          if (typeof data[name] === "boolean") {
            detail[name] = data[name];
          }
        });
        return detail;
      }
    },
    "workbook:bookmark:ondelete": {
      event: "sigma:bookmark:deleted",
      then: "onBookmarkDelete",
      detail: bookmarkDetail
    },
    "workbook:exploreKey:onchange": {
      event: "sigma:explore",
      then: "onExploreKey",
      detail: textField("exploreKey")
    },
    "workbook:fullscreen:onchange": {
      event: "sigma:fullscreen",
      detail: function (data) {
        return { fullScreen: data.fullScreen === true };
      }
    },
    "workbook:pageheight:onchange": { then: "onPageHeight" },
    "workbook:selectednodeid:onchange": {
      event: "sigma:selectednode",
      detail: function (data) {
        return { selectedNodeId: text(data.selectedNodeId), nodeType: text(data.nodeType) };
      }
    },
    "workbook:table:oncellselect": {
      event: "sigma:table:cellselect",
      detail: selectionDetail("cells")
    },
    "workbook:pivottable:oncellselect": {
      event: "sigma:pivottable:cellselect",
      detail: selectionDetail("cells")
    },
    "workbook:chart:onvalueselect": {
      event: "sigma:chart:valueselect",
      detail: selectionDetail("values")
    },
    "workbook:chart:error": {
      event: "sigma:chart:error",
      detail: function (data) {
        return { nodeId: text(data.nodeId), code: text(data.code), message: text(data.message) };
      }
    },
    "action:outbound": {
      event: "sigma:action",
      detail: function (data) {
        return { name: text(data.name), values: record(data.values) };
      }
    },
    "workbook:published": {
      event: "sigma:published",
      detail: textField("workbookId")
    },
    "workbook:id:onchange": {
      event: "sigma:workbookid",
      detail: textField("id")
    },
    "url:onchange": {
      event: "sigma:url",
      detail: textField("url")
    },
    "workbook:ondelete": {
      event: "sigma:workbook:deleted",
      detail: textField("id")
    },
    // Release notes 2026-03 name this event but no text we could reach lists its
    // fields: the detail keeps the top-level strings (cut), finite numbers, booleans
    // and nulls Sigma sends, and nothing nested.
    "document:element:nodata": { event: "sigma:element:nodata", detail: scalarFields },
    "workbook:saveas": {
      event: "sigma:workbook:savedas",
      detail: function (data) {
        // The reference's example says saveWorkbookId, its table savedWorkbookID.
        return {
          workbookId: text(data.workbookId),
          savedWorkbookId:
            text(data.savedWorkbookId) || text(data.saveWorkbookId) || text(data.savedWorkbookID)
        };
      }
    }
  };

  function SigmaEmbed(container) {
    var origins;
    try {
      origins = JSON.parse(container.getAttribute("data-sigma-origins") || "[]");
    } catch (e) {
      origins = [];
    }
    this.container = container;
    this.slug = container.getAttribute("data-sigma-slug") || "";
    this.allowedOrigins = Array.isArray(origins)
      ? origins.filter(function (o) { return typeof o === "string"; })
      : [];
    this.title = container.getAttribute("data-title") || "Sigma content";
    this.refreshUrl = container.getAttribute("data-refresh-url");
    this.errorReportUrl = container.getAttribute("data-error-report-url");
    this.csrfToken = container.getAttribute("data-csrf-token") || "";
    this.responsiveHeight = container.getAttribute("data-responsive-height") === "true";
    this.viewport = container.querySelector("[data-sigma-viewport]");
    this.loadingBox = container.querySelector("[data-sigma-loading]");
    this.loadingText = container.querySelector("[data-sigma-loading-text]");
    this.errorBox = container.querySelector("[data-sigma-error]");
    this.iframe = null;
    this.frameOrigin = null;
    this.deadline = 0;
    this.loaded = false;
    this.recovered = false;
    this.pending = null;
    this.slowTimer = null;
    this.loadTimeout = LOAD_TIMEOUT_MS;
    this.reports = 0;
    this.waiting = [];
    this.place = { explore: null, bookmark: null };
    this.retried = false;
    this.frameStarted = false;

    var self = this;
    Array.prototype.forEach.call(
      container.querySelectorAll("[data-sigma-retry]"),
      function (button) {
        button.addEventListener("click", function () {
          self.recovered = false;
          self.retried = true;
          // Progress on the button itself: the error box stays until the new
          // URL is in, so the click is seen to do something.
          button.disabled = true;
          button.textContent = "Trying again\u2026";
          self.refresh("retry");
        });
      }
    );
    this.mount(
      container.getAttribute("data-src") || "",
      Number(container.getAttribute("data-expires-in")),
      container.getAttribute("data-frame-name") || ""
    );
  }

  SigmaEmbed.prototype.emit = function (name, detail) {
    this.container.dispatchEvent(new CustomEvent(name, { detail: detail, bubbles: true }));
  };

  // Listen to one of this embed's DOM events: on("action", fn) is
  // addEventListener("sigma:action", ...) with the detail as the argument.
  // Returns a function that removes the listener.
  SigmaEmbed.prototype.on = function (name, callback) {
    var type = name.indexOf("sigma:") === 0 ? name : "sigma:" + name;
    var listener = function (event) {
      callback(event.detail, event);
    };
    this.container.addEventListener(type, listener);
    var container = this.container;
    return function () {
      container.removeEventListener(type, listener);
    };
  };

  SigmaEmbed.prototype.showLoading = function (text) {
    this.container.setAttribute("aria-busy", "true");
    this.errorBox.hidden = true;
    this.loadingText.textContent = text || "Loading " + this.title + "\u2026";
    this.loadingBox.querySelector("[data-sigma-retry]").hidden = true;
    this.loadingBox.hidden = false;
  };

  // The document in the frame arrived (Sigma's page, or the browser's own page for
  // a frame it refused to show): from then on, silence means it did not start.
  SigmaEmbed.prototype.onFrameLoad = function (frame) {
    if (frame === this.iframe) {
      this.frameStarted = true;
    }
  };

  SigmaEmbed.prototype.showError = function (title, message, code, hint) {
    window.clearTimeout(this.slowTimer);
    this.container.setAttribute("aria-busy", "false");
    this.container.classList.add("has-error");
    this.loadingBox.hidden = true;
    this.errorBox.querySelector("[data-sigma-error-title]").textContent = title;
    this.errorBox.querySelector("[data-sigma-error-message]").textContent = message;
    var hintLine = this.errorBox.querySelector("[data-sigma-error-hint]");
    hintLine.textContent = hint || "";
    hintLine.hidden = !hint;
    var codeLine = this.errorBox.querySelector("[data-sigma-error-code-line]");
    this.errorBox.querySelector("[data-sigma-error-code]").textContent = code || "";
    codeLine.hidden = !code;
    this.resetRetryButtons();
    var retried = this.errorBox.querySelector("[data-sigma-error-retried]");
    if (retried) {
      retried.textContent = this.retried
        ? "Tried again at " + new Date().toLocaleTimeString() + ": still not available."
        : "";
      retried.hidden = !this.retried;
    }
    this.retried = false;
    this.errorBox.hidden = false;
    // Keyboard and screen-reader users land on the error, not on a vanished frame.
    this.errorBox.setAttribute("tabindex", "-1");
    this.errorBox.focus();
  };

  SigmaEmbed.prototype.resetRetryButtons = function () {
    Array.prototype.forEach.call(
      this.container.querySelectorAll("[data-sigma-retry]"),
      function (button) {
        button.disabled = false;
        button.textContent = "Try again";
      }
    );
  };

  // Mount a freshly signed URL in a brand-new iframe element.
  SigmaEmbed.prototype.mount = function (url, expiresIn, name) {
    var origin = originOf(url);
    if (!url || !origin || this.allowedOrigins.indexOf(origin) < 0) {
      this.showError(
        "This content cannot be shown",
        "The address of the Sigma content is not on this site's list of Sigma origins. " +
          "An administrator of this site can correct the embed.",
        ""
      );
      return;
    }
    var frame = document.createElement("iframe");
    frame.className = "sigma-embed";
    frame.title = this.title;
    // A fresh name: no session-history entry of an earlier page can match it.
    frame.name = name || "sigma-" + Math.random().toString(36).slice(2);
    frame.setAttribute("allow", "clipboard-read; clipboard-write; fullscreen");
    frame.setAttribute("allowfullscreen", "");
    frame.setAttribute("referrerpolicy", "no-referrer");
    frame.setAttribute("data-sigma-frame", "");
    if (this.container.getAttribute("data-frame-id")) {
      frame.id = this.container.getAttribute("data-frame-id");
    }
    var self = this;
    frame.addEventListener("load", function () {
      self.onFrameLoad(frame);
    });
    frame.src = url;
    this.loaded = false;
    this.frameStarted = false;
    this.frameOrigin = origin;
    // The URL opens this place (the page's own link, or the refresh body).
    this.place = placeOf(url);
    this.deadline = Date.now() + (isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 0) * 1000;
    this.container.classList.remove("has-error", "is-loaded");
    this.showLoading();
    if (this.iframe && this.iframe.parentNode) {
      this.iframe.parentNode.replaceChild(frame, this.iframe);
    } else {
      this.viewport.appendChild(frame);
    }
    this.iframe = frame;
    window.clearTimeout(this.slowTimer);
    this.slowTimer = window.setTimeout(function () {
      self.onLoadTimeout(frame);
    }, this.loadTimeout);
  };

  // Neither workbook:loaded nor workbook:error came: Sigma may have shown a message
  // without an event (e.g. an expired session). Re-mount once with a fresh URL;
  // after that, let the user decide.
  SigmaEmbed.prototype.onLoadTimeout = function (frame) {
    if (this.loaded || frame !== this.iframe || !this.errorBox.hidden) {
      return;
    }
    if (!this.recovered) {
      this.recovered = true;
      this.refresh("timeout");
      return;
    }
    if (this.frameStarted) {
      // A page arrived twice and neither time said workbook:loaded or :error: most
      // often the browser refused to frame it (frame-ancestors), which no new URL
      // fixes. Say so instead of "Loading" forever.
      this.showError(
        "The content did not start",
        "The frame opened but the content never started. The most likely cause: " +
          "the content's server does not allow this site (" + window.location.origin +
          ") to show it in a frame.",
        "frame_not_started",
        this.framingHint()
      );
      return;
    }
    this.loadingText.textContent = "This is taking longer than usual\u2026";
    this.loadingBox.querySelector("[data-sigma-retry]").hidden = false;
  };

  // Where framing is allowed: the local emulator's setting, or Sigma's side.
  SigmaEmbed.prototype.framingHint = function () {
    var host = "";
    try {
      host = new URL(this.frameOrigin).hostname;
    } catch (e) {
      host = "";
    }
    if (host === "127.0.0.1" || host === "localhost" || host === "[::1]") {
      return "With the local Sigma emulator, add " + window.location.origin +
        " to SIGMA_EMULATOR_FRAME_ANCESTORS and restart it.";
    }
    return "An administrator of this site can check that Sigma allows " +
      window.location.origin + " to embed content, and that this site's " +
      "Content-Security-Policy frame-src lists " + this.frameOrigin + ".";
  };

  // Ask the server for a new signed URL (same login and rules as the page) and
  // re-mount, keeping the user's place (bookmark, else exploration).
  SigmaEmbed.prototype.refresh = function (reason) {
    var self = this;
    if (this.pending) {
      return this.pending;
    }
    if (!this.refreshUrl) {
      return Promise.resolve(false);
    }
    this.showLoading("Reconnecting to " + this.title + "\u2026");
    var body = {};
    if (this.place.bookmark) {
      body.bookmark = this.place.bookmark;
    } else if (this.place.explore) {
      body.explore = this.place.explore;
    }
    // The page's own query string: the server applies allowlisted control values
    // from it exactly as it did for the page (the place comes from the body only).
    this.pending = postToSite(
      this.refreshUrl + window.location.search, this.csrfToken, body, { cache: "no-store" }
    )
      .then(function (response) {
        return response.json().then(
          function (data) { return { response: response, data: data }; },
          function () { return { response: response, data: null }; }
        );
      })
      .then(function (result) {
        var data = result.data;
        if (result.response.ok && data && typeof data.url === "string") {
          self.mount(data.url, Number(data.expiresIn), "");
          self.emit("sigma:remounted", { reason: reason || "refresh" });
          return true;
        }
        var error = data && isPlainObject(data.error) ? data.error : null;
        if (error) {
          self.showError(
            clip(error.title, 200) || "This content is not available",
            clip(error.message, 500),
            clip(error.code, 100)
          );
        } else {
          self.showError(
            "The content could not be reloaded",
            "This site answered with an error (HTTP " + result.response.status + "). " +
              "Reload the page to try again.",
            ""
          );
        }
        return false;
      })
      .catch(function () {
        self.showError(
          "The content could not be reloaded",
          "This site could not be reached. Check your connection and try again.",
          ""
        );
        return false;
      })
      .then(function (ok) {
        self.pending = null;
        return ok;
      });
    return this.pending;
  };

  SigmaEmbed.prototype.refreshIfExpired = function (reason) {
    if (this.iframe && Date.now() >= this.deadline) {
      this.refresh(reason);
    }
  };

  // --- Messages to Sigma (inbound in Sigma's terms) ---------------------------------

  // Post one message to the iframe, at its exact origin. False when there is no
  // frame to post to (not mounted, or showing an error).
  SigmaEmbed.prototype.send = function (message) {
    if (!this.iframe || !this.iframe.contentWindow || !this.frameOrigin) {
      return false;
    }
    this.iframe.contentWindow.postMessage(message, this.frameOrigin);
    return true;
  };

  function requireText(value, what) {
    if (typeof value !== "string" || value === "") {
      throw new TypeError(what + " must be a non-empty string.");
    }
    return value;
  }

  // workbook:variables:update: set control values (control ID -> value).
  SigmaEmbed.prototype.updateVariables = function (variables) {
    if (!isPlainObject(variables)) {
      throw new TypeError("updateVariables expects an object of control ID to value.");
    }
    var clean = {};
    Object.keys(variables).forEach(function (name) {
      var value = variables[name];
      if (Array.isArray(value)) {
        // Several values of one control travel as one comma-joined string.
        value = value.map(String).join(",");
      }
      if (typeof value !== "string") {
        throw new TypeError("Control " + name + ": a value is a string or a list of strings.");
      }
      clean[name] = value;
    });
    return this.send({ type: "workbook:variables:update", variables: clean });
  };

  // workbook:variables:list; resolves with the variables of Sigma's
  // workbook:variables:current reply, rejects after REPLY_TIMEOUT_MS without one.
  SigmaEmbed.prototype.listVariables = function () {
    var self = this;
    return new Promise(function (resolve, reject) {
      var waiter = { resolve: resolve };
      waiter.timer = window.setTimeout(function () {
        self.waiting = self.waiting.filter(function (w) { return w !== waiter; });
        reject(new Error("Sigma did not answer workbook:variables:list."));
      }, REPLY_TIMEOUT_MS);
      self.waiting.push(waiter);
      if (!self.send({ type: "workbook:variables:list" })) {
        window.clearTimeout(waiter.timer);
        self.waiting = self.waiting.filter(function (w) { return w !== waiter; });
        reject(new Error("The Sigma content is not mounted."));
      }
    });
  };

  // workbook:bookmark:create: save the current view as a bookmark ("saved view").
  SigmaEmbed.prototype.createBookmark = function (options) {
    var bookmark = isPlainObject(options) ? options : { name: options };
    return this.send({
      type: "workbook:bookmark:create",
      name: requireText(bookmark.name, "The bookmark name"),
      isDefault: bookmark.isDefault === true,
      isShared: bookmark.isShared === true
    });
  };

  // workbook:bookmark:update: save the current exploration into the selected bookmark.
  SigmaEmbed.prototype.updateBookmark = function () {
    return this.send({ type: "workbook:bookmark:update" });
  };

  // workbook:bookmark:delete. Deleting the current bookmark also forgets it at once,
  // so a re-mount before Sigma's ondelete arrives never asks for a dead ID.
  SigmaEmbed.prototype.deleteBookmark = function (bookmarkId) {
    requireText(bookmarkId, "The bookmark ID");
    var sent = this.send({ type: "workbook:bookmark:delete", bookmarkId: bookmarkId });
    if (sent) {
      this.forgetBookmark(bookmarkId);
    }
    return sent;
  };

  // workbook:bookmark:select: open a bookmark; null or no argument clears it
  // (Sigma then shows the published version).
  SigmaEmbed.prototype.selectBookmark = function (bookmarkId) {
    var message = { type: "workbook:bookmark:select" };
    if (bookmarkId !== undefined && bookmarkId !== null) {
      message.bookmarkId = requireText(bookmarkId, "The bookmark ID");
    }
    return this.send(message);
  };

  // workbook:fullscreen:update: maximize the element, or minimize it if maximized.
  SigmaEmbed.prototype.toggleFullscreen = function (nodeId) {
    if (nodeId !== null) {
      requireText(nodeId, "The element ID");
    }
    return this.send({ type: "workbook:fullscreen:update", nodeId: nodeId });
  };

  // workbook:selectednodeid:update: select a page or an element. The field is
  // selectedNodeId (Inbound event reference; embed-sdk's mutations.ts since 0.7.0,
  // "Fix bug with selected node id event using the wrong key").
  SigmaEmbed.prototype.selectNode = function (nodeId, nodeType) {
    if (nodeId !== null) {
      requireText(nodeId, "The node ID");
    }
    if (nodeType !== "element" && nodeType !== "page") {
      throw new TypeError('The node type must be "element" or "page".');
    }
    return this.send({
      type: "workbook:selectednodeid:update",
      selectedNodeId: nodeId,
      nodeType: nodeType
    });
  };

  function checkLink(link, what) {
    if (link === null || link === undefined) {
      return null;
    }
    if (typeof link !== "string" || link.length > MAX_SHARING_LINK || !/^https?:\/\//.test(link)) {
      throw new TypeError(what + " must be an http(s) URL of at most 1000 characters, or null.");
    }
    return link;
  }

  // workbook:sharinglink:update: the host URL Sigma offers in its share menu, footer
  // and export emails (null removes it). Sigma loads it for whoever gets the link:
  // it must be a page of this site that signs the user in first.
  SigmaEmbed.prototype.setSharingLink = function (sharingLink, sharingExplorationLink) {
    var message = {
      type: "workbook:sharinglink:update",
      sharingLink: checkLink(sharingLink, "The sharing link")
    };
    if (sharingExplorationLink !== undefined) {
      message.sharingExplorationLink = checkLink(
        sharingExplorationLink,
        "The exploration sharing link"
      );
    }
    return this.send(message);
  };

  // workbook:mode:update: "view" or "explore" (Inbound event reference), "edit"
  // (release notes 2026-03). No effect without the permission.
  var MODES = ["view", "explore", "edit"];
  SigmaEmbed.prototype.setMode = function (mode) {
    if (MODES.indexOf(mode) < 0) {
      throw new TypeError('The mode must be "view", "explore" or "edit".');
    }
    return this.send({ type: "workbook:mode:update", mode: mode });
  };

  // workbook:modal:toggle: "schedule" or "export" (Inbound event reference) or
  // "save-as" (release notes 2026-02) opens that dialog; no argument closes it.
  var MODAL_TYPES = ["schedule", "export", "save-as"];
  SigmaEmbed.prototype.toggleModal = function (modalType) {
    if (modalType !== undefined && MODAL_TYPES.indexOf(modalType) < 0) {
      throw new TypeError('The modal type must be "schedule", "export", "save-as" or undefined.');
    }
    var message = { type: "workbook:modal:toggle" };
    if (modalType !== undefined) {
      message.modalType = modalType;
    }
    return this.send(message);
  };

  // Sigma's release notes name three more messages (workbook:refresh, 2026-08;
  // document:navigateto and report:download, 2026-02) but no Sigma text we could
  // reach gives their fields. So these methods send the type and exactly the fields
  // the caller passes (names as in Sigma's current Inbound event reference), checked
  // for shape only: names are identifiers, values strings, finite numbers, booleans
  // or null.
  var FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
  function messageWith(type, fields) {
    var message = { type: type };
    if (fields === undefined) {
      return message;
    }
    if (!isPlainObject(fields)) {
      throw new TypeError("The fields must be an object.");
    }
    Object.keys(fields).forEach(function (name) {
      var value = fields[name];
      if (!FIELD_NAME.test(name) || name === "type") {
        throw new TypeError("A field name is a letter, then letters, digits or _.");
      }
      var scalar =
        value === null ||
        typeof value === "boolean" ||
        (typeof value === "number" && isFinite(value)) ||
        (typeof value === "string" && value.length <= MAX_TEXT);
      if (!scalar) {
        throw new TypeError("A field value is a string, a finite number, a boolean or null.");
      }
      message[name] = value;
    });
    return message;
  }

  SigmaEmbed.prototype.refreshData = function (fields) {
    return this.send(messageWith("workbook:refresh", fields));
  };

  SigmaEmbed.prototype.navigateTo = function (fields) {
    return this.send(messageWith("document:navigateto", fields));
  };

  SigmaEmbed.prototype.downloadReport = function (fields) {
    return this.send(messageWith("report:download", fields));
  };

  // --- Events from Sigma (outbound in Sigma's terms) --------------------------------

  SigmaEmbed.prototype.report = function (code, message) {
    if (!this.errorReportUrl || this.reports >= MAX_REPORTS) {
      return;
    }
    this.reports += 1;
    postToSite(this.errorReportUrl, this.csrfToken, { code: code, message: message }, {
      keepalive: true
    }).catch(function () {
      // Reporting is best effort; the user already sees the error.
    });
  };

  SigmaEmbed.prototype.handle = function (event) {
    // Both checks, always: the window must be our iframe's, and the origin must be
    // exactly the one we loaded it from (which was checked against the allowlist).
    if (!this.iframe || event.source !== this.iframe.contentWindow) {
      return;
    }
    if (event.origin !== this.frameOrigin || this.allowedOrigins.indexOf(event.origin) < 0) {
      return;
    }
    var data = event.data;
    if (!isPlainObject(data) || typeof data.type !== "string") {
      return;
    }
    if (!Object.prototype.hasOwnProperty.call(INBOUND, data.type)) {
      return;
    }
    var spec = INBOUND[data.type];
    var detail = spec.detail ? spec.detail(data) : null;
    if (spec.then) {
      this[spec.then](data, detail);
    }
    if (spec.event) {
      this.emit(spec.event, detail);
      this.emit("sigma:message", { type: data.type, detail: detail });
    }
  };

  SigmaEmbed.prototype.onLoaded = function () {
    this.loaded = true;
    this.recovered = false;
    this.retried = false;
    window.clearTimeout(this.slowTimer);
    this.loadingBox.hidden = true;
    this.errorBox.hidden = true;
    this.container.setAttribute("aria-busy", "false");
    this.container.classList.add("is-loaded");
  };

  SigmaEmbed.prototype.onCurrentVariables = function (data, detail) {
    var waiting = this.waiting;
    this.waiting = [];
    waiting.forEach(function (waiter) {
      window.clearTimeout(waiter.timer);
      waiter.resolve(detail.variables);
    });
  };

  SigmaEmbed.prototype.keepPlace = function (name, value) {
    if (value === null || PLACE_KEY.test(value)) {
      this.place[name] = value;
    }
  };

  SigmaEmbed.prototype.onBookmarkChange = function (data, detail) {
    this.keepPlace("bookmark", detail.bookmarkId);
  };

  SigmaEmbed.prototype.onBookmarkCreate = function (data, detail) {
    // The new bookmark is the one shown now (the sigma:bookmark event says so too).
    if (detail.bookmarkId) {
      this.keepPlace("bookmark", detail.bookmarkId);
      this.emit("sigma:bookmark", detail);
    }
  };

  SigmaEmbed.prototype.onBookmarkDelete = function (data, detail) {
    if (detail.bookmarkId && this.forgetBookmark(detail.bookmarkId)) {
      this.emit("sigma:bookmark", {
        bookmarkId: null,
        bookmarkName: null,
        workbookId: detail.workbookId,
        versionTagName: null
      });
    }
  };

  // Forget a deleted bookmark: the next re-mount must not ask Sigma for it, and a
  // reload of the page must not either (the page's own link may carry it).
  SigmaEmbed.prototype.forgetBookmark = function (bookmarkId) {
    var url = new URL(window.location.href);
    if (url.searchParams.get(":bookmark") === bookmarkId) {
      url.searchParams.delete(":bookmark");
      window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
    }
    if (this.place.bookmark !== bookmarkId) {
      return false;
    }
    this.place.bookmark = null;
    return true;
  };

  SigmaEmbed.prototype.onExploreKey = function (data, detail) {
    this.keepPlace("explore", detail.exploreKey);
  };

  // Every workbook:pageheight:onchange with a finite number is dispatched, like every
  // other event; the iframe is resized only with responsive height on and a height
  // within bounds (then "height" is the pixels applied, else null).
  SigmaEmbed.prototype.onPageHeight = function (data) {
    var height = data.pageHeight;
    if (typeof height !== "number" || !isFinite(height)) {
      return;
    }
    var applied =
      this.responsiveHeight && height >= MIN_HEIGHT && height <= MAX_HEIGHT && !!this.iframe;
    var pixels = applied ? Math.ceil(height) : null;
    if (applied) {
      this.iframe.style.height = pixels + "px";
    }
    var detail = { height: pixels, pageHeight: height, applied: applied };
    this.emit("sigma:pageheight", detail);
    this.emit("sigma:message", { type: data.type, detail: detail });
  };

  SigmaEmbed.prototype.onSigmaError = function (data) {
    var code = clip(data.code, 100);
    var message = clip(data.message, 500);
    this.report(code || "unknown", message);
    // A spent URL (expired, or replayed after back/forward) is fixed by a fresh one:
    // re-mount once on our own; if that fails too, the user sees the error. Only an
    // error before workbook:loaded can mean that: later ones are about what the user
    // did (e.g. "Bookmark not selected") and leave the content in place.
    var recovering =
      !this.loaded && !this.recovered && SPENT_URL_CODES.indexOf(code) >= 0;
    var detail = { code: code, message: message, recovering: recovering };
    this.emit("sigma:error", detail);
    this.emit("sigma:message", { type: data.type, detail: detail });
    if (recovering) {
      this.recovered = true;
      this.refresh("expired");
      return;
    }
    if (this.loaded) {
      return;
    }
    // Sigma's message is written for developers ("Invalid clientID"): it went to
    // the error report above; the viewer reads plain words and the code.
    this.showError(
      "Sigma could not open this content",
      PLAIN_ERRORS[code] || PLAIN_ERRORS.other,
      code || "unknown",
      ACCESS_CODES.indexOf(code) >= 0
        ? "Sigma does not let your account open this content. An administrator of " +
            "this site can check that it is shared with your team in Sigma."
        : "Try again. If it keeps happening, tell an administrator of this site the " +
            "code below: they can see the details in the site's error reports."
    );
  };

  function find(target) {
    if (target === undefined || target === null) {
      return controllers[0] || null;
    }
    for (var i = 0; i < controllers.length; i += 1) {
      var controller = controllers[i];
      if (typeof target === "string") {
        if (controller.slug === target || controller.container.id === target) {
          return controller;
        }
      } else if (controller.container === target) {
        return controller;
      }
    }
    return null;
  }

  window.addEventListener("message", function (event) {
    controllers.forEach(function (controller) {
      controller.handle(event);
    });
  });

  // Restored from the back/forward cache: the URL in the iframe is spent.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      controllers.forEach(function (controller) {
        controller.refresh("pageshow");
      });
    }
  });

  // The user comes back after the token's lifetime: mount a fresh URL.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      controllers.forEach(function (controller) {
        controller.refreshIfExpired("returned");
      });
    }
  });

  function start() {
    Array.prototype.forEach.call(
      document.querySelectorAll("[data-sigma-embed]"),
      function (container) {
        if (!find(container)) {
          controllers.push(new SigmaEmbed(container));
        }
      }
    );
  }

  window.SigmaEmbed = {
    get: find,
    all: function () {
      return controllers.slice();
    }
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
