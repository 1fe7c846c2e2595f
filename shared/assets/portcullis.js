// Portcullis hosted pages: small enhancements. Every page works without this script.
"use strict";
(function () {
  // Identifier first: the password field appears after Next, without a page load.
  var login = document.querySelector("form[data-login]");
  if (login && login.dataset.step === "identifier") {
    var step2 = login.querySelector("[data-step2]");
    var next = login.querySelector("button[data-next]");
    var identifier = login.querySelector("input[name=identifier]");
    if (step2 && next && identifier) {
      next.addEventListener("click", function (event) {
        if (!identifier.value.trim()) return;
        event.preventDefault();
        step2.hidden = false;
        next.hidden = true;
        login.dataset.step = "password";
        identifier.readOnly = true;
        var password = login.querySelector("input[name=password]");
        if (password) { password.disabled = false; password.focus(); }
      });
    }
  }

  // Signup: the username follows the email until the person edits it; the password rules tick.
  var signup = document.querySelector("form[data-signup]");
  if (signup) {
    var email = signup.querySelector("input[name=email]");
    var username = signup.querySelector("input[name=username]");
    var edited = username && username.value !== "";
    var timer = null;
    if (username) username.addEventListener("input", function () { edited = username.value !== ""; });
    if (email && username) {
      email.addEventListener("input", function () {
        if (edited) return;
        clearTimeout(timer);
        timer = setTimeout(function () {
          var value = email.value.trim();
          if (value.indexOf("@") < 1) return;
          fetch("/v1/username-suggestion?email=" + encodeURIComponent(value), { credentials: "omit" })
            .then(function (r) { return r.ok ? r.json() : null; })
            .then(function (body) { if (body && !edited) username.value = body.username; })
            .catch(function () {});
        }, 250);
      });
    }
    var password = signup.querySelector("input[name=password]");
    var rules = signup.querySelectorAll("[data-rule]");
    if (password && rules.length) {
      var check = function () {
        var v = password.value;
        rules.forEach(function (rule) {
          var met = false;
          switch (rule.dataset.rule) {
            case "length": met = v.length >= +rule.dataset.min && v.length <= +rule.dataset.max; break;
            case "letter": met = /\p{L}/u.test(v); break;
            case "digit": met = /\p{Nd}/u.test(v); break;
            case "special": met = /[^\p{L}\p{Nd}]/u.test(v); break;
          }
          rule.classList.toggle("met", met);
        });
      };
      password.addEventListener("input", check);
      check();
    }
  }

  // Copy the new secret key.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var target = document.getElementById(button.dataset.copy);
      if (!target || !navigator.clipboard) return;
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        button.textContent = button.dataset.copied || button.textContent;
      });
    });
  });

  // Provider sign-in ends at this page with the one-time code in the fragment: send it on.
  var complete = document.querySelector("form[data-oauth-complete]");
  if (complete) {
    var params = new URLSearchParams(location.hash.slice(1));
    history.replaceState(null, "", location.pathname);
    var code = params.get("code");
    var error = params.get("error");
    if (code) {
      complete.querySelector("input[name=code]").value = code;
      complete.submit();
    } else {
      complete.querySelector("input[name=error]").value = error || "invalid_state";
      complete.submit();
    }
  }
})();
