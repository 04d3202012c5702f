/*
 * The admin preview's verdict, told by Sigma (issue 22).
 *
 * The page says "Allowed" by this site's rules; Sigma may still refuse the token
 * (a team it does not have, content not shared with the team). This script listens
 * to the preview frame's workbook:loaded / workbook:error, replaces the verdict with
 * Sigma's answer, notes the answer on the preview's access record (a fixed set of
 * outcomes and a Sigma-shaped code: the server trusts it for nothing else) and,
 * when Sigma refused, shows the host's remote finding that explains it.
 * Messages are accepted only from the frame's window at the signed URL's origin.
 */
(function () {
  "use strict";

  var ANSWER_TIMEOUT_MS = 20000;
  var section = document.getElementById("preview-result");
  var frame = document.getElementById("preview-frame");
  if (!section || !frame || !section.hasAttribute("data-preview-jti")) {
    return;
  }
  var origin = section.getAttribute("data-sigma-origin");
  var user = section.getAttribute("data-user");
  var title = section.getAttribute("data-title");
  var verdict = document.getElementById("preview-verdict");
  var status = document.getElementById("preview-sigma-status");
  var answerBox = document.getElementById("preview-sigma");
  var said = document.getElementById("preview-sigma-said");
  var findingsBox = document.getElementById("preview-findings");
  var checkButton = document.getElementById("preview-check");
  var answered = false;
  var lastCode = "";

  function clip(value, limit) {
    return typeof value === "string" ? value.slice(0, limit) : "";
  }

  function setVerdict(kind, text) {
    verdict.className = "verdict " + kind;
    verdict.textContent = text;
  }

  function post(outcome, code) {
    var body = new URLSearchParams();
    body.set("jti", section.getAttribute("data-preview-jti"));
    body.set("outcome", outcome);
    body.set("code", code || "");
    return window
      .fetch(section.getAttribute("data-outcome-url"), {
        method: "POST",
        credentials: "same-origin",
        // This page is no-referrer (it holds a signed URL); under it a POST says
        // "Origin: null" and fails Django's CSRF check.
        referrerPolicy: "same-origin",
        cache: "no-store",
        headers: {
          "Accept": "application/json",
          "X-CSRFToken": section.getAttribute("data-csrf-token")
        },
        body: body
      })
      .then(function (response) {
        return response.ok ? response.json() : { notice: "The site answered HTTP " + response.status + "." };
      })
      .catch(function () {
        return { notice: "The site could not be reached." };
      });
  }

  function showFindings(answer) {
    findingsBox.textContent = "";
    var findings = Array.isArray(answer.findings) ? answer.findings : [];
    if (answer.notice) {
      var notice = document.createElement("p");
      notice.className = "help";
      notice.id = "preview-check-notice";
      notice.textContent = answer.notice;
      findingsBox.appendChild(notice);
    }
    if (findings.length) {
      var intro = document.createElement("p");
      intro.textContent = "What the host's checks against Sigma found:";
      findingsBox.appendChild(intro);
      var list = document.createElement("ul");
      list.id = "preview-findings-list";
      findings.forEach(function (finding) {
        var item = document.createElement("li");
        item.setAttribute("data-finding", clip(finding.id, 50));
        var id = document.createElement("code");
        id.textContent = clip(finding.id, 50);
        item.appendChild(id);
        item.appendChild(document.createTextNode(" " + clip(finding.message, 500)));
        if (finding.hint) {
          var hint = document.createElement("div");
          hint.className = "help";
          hint.textContent = "Fix: " + clip(finding.hint, 500);
          item.appendChild(hint);
        }
        list.appendChild(item);
      });
      findingsBox.appendChild(list);
      if (!answered || lastCode) {
        // The first finding is the one that explains a refusal best (server order).
        status.textContent = "Explained by " + clip(findings[0].id, 50) + ": " +
          clip(findings[0].message, 300);
      }
    } else if (answer.checked) {
      var clean = document.createElement("p");
      clean.id = "preview-check-clean";
      clean.textContent = "Sigma's REST API shows nothing wrong with this embed and user.";
      findingsBox.appendChild(clean);
    }
    answerBox.hidden = false;
  }

  function check() {
    checkButton.disabled = true;
    checkButton.textContent = "Checking against Sigma\u2026";
    return post("", lastCode).then(function (answer) {
      showFindings(answer);
      checkButton.disabled = false;
      checkButton.textContent = "Check against Sigma";
    });
  }

  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow || event.origin !== origin) {
      return;
    }
    var data = event.data;
    if (!data || typeof data !== "object" || typeof data.type !== "string" || answered) {
      return;
    }
    if (data.type === "workbook:loaded") {
      answered = true;
      setVerdict("allowed", "Sigma opened it: " + user + " sees \u201c" + title + "\u201d");
      status.textContent = "This site's rules and Sigma both allow it.";
      post("loaded", "");
    } else if (data.type === "workbook:error") {
      answered = true;
      lastCode = clip(data.code, 20);
      var message = clip(data.message, 300);
      setVerdict("refused", "Sigma refused it: " + (lastCode || "error") + (message ? " " + message : ""));
      said.textContent = "This site's rules allow " + user + ", but Sigma answered " +
        (lastCode || "an error") + (message ? " (\u201c" + message + "\u201d)" : "") + ".";
      status.textContent = "Checking what explains it\u2026";
      answerBox.hidden = false;
      verdict.focus();
      post("error", /^E[A-Z]{2,15}$/.test(lastCode) ? lastCode : "").then(showFindings);
    }
  });

  window.setTimeout(function () {
    if (!answered) {
      answered = true;
      setVerdict("pending", "No answer from Sigma yet: " + user + " may view \u201c" + title + "\u201d by this site's rules");
      status.textContent = "The frame sent neither workbook:loaded nor workbook:error.";
      post("no_answer", "").then(showFindings);
    }
  }, ANSWER_TIMEOUT_MS);

  checkButton.addEventListener("click", check);
})();
