/*
 * Host side of Sigma's browser protocol (spec section 5) for every element with
 * [data-sigma-embed]. Plain script, no build step, no inline code (CSP-clean).
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
 * - Text that comes from the frame is only ever set with textContent.
 *
 * Events dispatched on the [data-sigma-embed] element (CustomEvent, detail shown):
 *   sigma:loaded      {variables}            workbook:loaded
 *   sigma:error       {code, message, recovering}
 *   sigma:pageheight  {height}               after the iframe was resized
 *   sigma:variables   {variables}            workbook:variables:onchange
 *   sigma:url         {url}                  url:onchange
 *   sigma:explore     {exploreKey}           workbook:exploreKey:onchange
 *   sigma:bookmark    {bookmarkId}           workbook:bookmark:onchange / oncreate
 *   sigma:remounted   {reason}               a fresh URL was mounted
 *
 * API for the host page:
 *   var embed = window.SigmaEmbed.get();            // first embed, or get(element)
 *   embed.updateVariables({Region: "West,East"});   // workbook:variables:update
 *   embed.refresh();                                // re-mount with a fresh URL
 */
(function () {
  "use strict";

  // Sigma's page height is trusted only within these bounds (pixels).
  var MIN_HEIGHT = 50;
  var MAX_HEIGHT = 30000;
  // workbook:error messages that mean "this URL is spent": expired or replayed.
  var SPENT_URL = /\bexp\b|expired|replay|already been used|\bjti\b/i;
  // After this long without workbook:loaded, offer a retry.
  var SLOW_LOAD_MS = 20000;
  // Error reports sent per page, at most (the server rate-limits as well).
  var MAX_REPORTS = 5;
  // An explore key or bookmark ID the server will accept.
  var PLACE_KEY = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

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

  function SigmaEmbed(container) {
    var origins;
    try {
      origins = JSON.parse(container.getAttribute("data-sigma-origins") || "[]");
    } catch (e) {
      origins = [];
    }
    this.container = container;
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
    this.reports = 0;
    this.place = { explore: null, bookmark: null };

    var self = this;
    Array.prototype.forEach.call(
      container.querySelectorAll("[data-sigma-retry]"),
      function (button) {
        button.addEventListener("click", function () {
          self.recovered = false;
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

  SigmaEmbed.prototype.showLoading = function (text) {
    this.container.setAttribute("aria-busy", "true");
    this.errorBox.hidden = true;
    this.loadingText.textContent = text || "Loading " + this.title + "\u2026";
    this.loadingBox.querySelector("[data-sigma-retry]").hidden = true;
    this.loadingBox.hidden = false;
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
    this.errorBox.hidden = false;
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
    frame.src = url;
    this.loaded = false;
    this.frameOrigin = origin;
    this.deadline = Date.now() + (isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 0) * 1000;
    this.container.classList.remove("has-error", "is-loaded");
    this.showLoading();
    if (this.iframe && this.iframe.parentNode) {
      this.iframe.parentNode.replaceChild(frame, this.iframe);
    } else {
      this.viewport.appendChild(frame);
    }
    this.iframe = frame;
    var self = this;
    window.clearTimeout(this.slowTimer);
    this.slowTimer = window.setTimeout(function () {
      if (!self.loaded && self.errorBox.hidden) {
        self.loadingText.textContent = "This is taking longer than usual\u2026";
        self.loadingBox.querySelector("[data-sigma-retry]").hidden = false;
      }
    }, SLOW_LOAD_MS);
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
    // from it exactly as it did for the page.
    this.pending = window
      .fetch(this.refreshUrl + window.location.search, {
        method: "POST",
        credentials: "same-origin",
        // The page itself is no-referrer, under which a POST says "Origin: null"
        // and fails Django's CSRF origin check; same-origin still sends nothing
        // to any other origin.
        referrerPolicy: "same-origin",
        cache: "no-store",
        headers: {
          "Accept": "application/json",
          "Content-Type": "application/json",
          "X-CSRFToken": this.csrfToken
        },
        body: JSON.stringify(body)
      })
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

  // Push control values into the workbook (spec 5.3, workbook:variables:update).
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
    if (!this.iframe || !this.iframe.contentWindow || !this.frameOrigin) {
      return false;
    }
    this.iframe.contentWindow.postMessage(
      { type: "workbook:variables:update", variables: clean },
      this.frameOrigin
    );
    return true;
  };

  SigmaEmbed.prototype.report = function (code, message) {
    if (!this.errorReportUrl || this.reports >= MAX_REPORTS) {
      return;
    }
    this.reports += 1;
    window
      .fetch(this.errorReportUrl, {
        method: "POST",
        credentials: "same-origin",
        // The page itself is no-referrer, under which a POST says "Origin: null"
        // and fails Django's CSRF origin check; same-origin still sends nothing
        // to any other origin.
        referrerPolicy: "same-origin",
        keepalive: true,
        headers: {
          "Accept": "application/json",
          "Content-Type": "application/json",
          "X-CSRFToken": this.csrfToken
        },
        body: JSON.stringify({ code: code, message: message })
      })
      .catch(function () {
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
    var workbook = isPlainObject(data.workbook) ? data.workbook : {};
    switch (data.type) {
      case "workbook:loaded":
        this.loaded = true;
        this.recovered = false;
        window.clearTimeout(this.slowTimer);
        this.loadingBox.hidden = true;
        this.errorBox.hidden = true;
        this.container.setAttribute("aria-busy", "false");
        this.container.classList.add("is-loaded");
        this.emit("sigma:loaded", { variables: stringValues(workbook.variables) });
        break;
      case "workbook:error":
        this.onSigmaError(clip(data.code, 100), clip(data.message, 500));
        break;
      case "workbook:pageheight:onchange":
        this.onPageHeight(data.pageHeight);
        break;
      case "workbook:variables:onchange":
        this.emit("sigma:variables", { variables: stringValues(workbook.variables) });
        break;
      case "url:onchange":
        if (typeof data.url === "string") {
          this.emit("sigma:url", { url: data.url });
        }
        break;
      case "workbook:exploreKey:onchange":
        if (data.exploreKey === null || PLACE_KEY.test(data.exploreKey)) {
          this.place.explore = data.exploreKey;
          this.emit("sigma:explore", { exploreKey: data.exploreKey });
        }
        break;
      case "workbook:bookmark:onchange":
      case "workbook:bookmark:oncreate":
        if (data.bookmarkId === null || PLACE_KEY.test(data.bookmarkId)) {
          this.place.bookmark = data.bookmarkId;
          this.emit("sigma:bookmark", { bookmarkId: data.bookmarkId });
        }
        break;
      default:
        break;
    }
  };

  SigmaEmbed.prototype.onPageHeight = function (height) {
    if (!this.responsiveHeight) {
      return;
    }
    if (typeof height !== "number" || !isFinite(height)) {
      return;
    }
    if (height < MIN_HEIGHT || height > MAX_HEIGHT) {
      return;
    }
    var pixels = Math.ceil(height);
    this.iframe.style.height = pixels + "px";
    this.emit("sigma:pageheight", { height: pixels });
  };

  SigmaEmbed.prototype.onSigmaError = function (code, message) {
    this.report(code || "unknown", message);
    // A spent URL (expired, or replayed after back/forward) is fixed by a fresh one:
    // re-mount once on our own; if that fails too, the user sees the error.
    var recovering = !this.recovered && SPENT_URL.test(message);
    this.emit("sigma:error", { code: code, message: message, recovering: recovering });
    if (recovering) {
      this.recovered = true;
      this.refresh("expired");
      return;
    }
    this.showError(
      "Sigma could not open this content",
      message || "Sigma reported an error without a message.",
      code,
      "Try again. If it keeps happening, an administrator of this site can see this " +
        "error in the site's error reports."
    );
  };

  function find(target) {
    if (target === undefined || target === null) {
      return controllers[0] || null;
    }
    if (typeof target === "string") {
      target = document.getElementById(target);
    }
    for (var i = 0; i < controllers.length; i += 1) {
      if (controllers[i].container === target) {
        return controllers[i];
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
