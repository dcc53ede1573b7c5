/// `/console/assets/console.js`: the little the pages need beyond HTML. Every change goes to the same JSON API as
/// any client, with the page's ETag in `If-Match` and the session's CSRF token; data from the server reaches the DOM
/// only as text, never as markup.
enum ConsoleScript {
    static let text = #"""
        "use strict";
        (function () {
          const csrf = document.body.dataset.csrf || "";
          const $ = (selector, root) => (root || document).querySelector(selector);
          const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));

          async function call(method, url, body, etag) {
            const headers = { "Accept": "application/json", "X-CSRF-Token": csrf };
            if (body !== undefined) headers["Content-Type"] = "application/json";
            if (etag) headers["If-Match"] = etag;
            const response = await fetch(url, {
              method, headers, credentials: "same-origin",
              body: body === undefined ? undefined : (typeof body === "string" ? body : JSON.stringify(body))
            });
            let json = null;
            try { json = await response.json(); } catch (_) { json = null; }
            return { status: response.status, json };
          }

          function message(result) {
            const error = result.json && result.json.error;
            if (error && typeof error === "object") {
              const details = (error.details || []).map((detail) => detail.message).join(" ");
              return [error.message, details].filter(Boolean).join(" ");
            }
            return "The change failed (HTTP " + result.status + ").";
          }

          function showError(scope, text) {
            const target = $("[data-error]", scope) || $("[data-error]");
            if (target) target.textContent = text;
          }

          // The same answer for every change: done reloads; a stale ETag shows the conflict; anything else is
          // said where the change was made.
          function settle(result, scope) {
            if (result.status >= 200 && result.status < 300) {
              // Reload without a suggestion's query, which would open the dialog again.
              const url = new URL(location.href);
              url.searchParams.delete("add");
              url.searchParams.delete("direction");
              location.replace(url.href);
              return;
            }
            if (result.status === 412) {
              const conflict = $("#conflict");
              if (conflict) { conflict.hidden = false; $("button", conflict).focus(); }
              const dialog = scope && scope.closest("dialog");
              if (dialog) dialog.close();
              return;
            }
            showError(scope, message(result));
          }

          function openDialog(id) {
            const dialog = document.getElementById(id);
            if (!dialog) return null;
            $$("[data-error]", dialog).forEach((node) => { node.textContent = ""; });
            dialog.showModal();
            const first = $("input, select, textarea", dialog);
            if (first) first.focus();
            return dialog;
          }

          document.addEventListener("click", async (event) => {
            const opener = event.target.closest("[data-open-dialog]");
            if (opener) { openDialog(opener.dataset.openDialog); return; }
            const action = event.target.closest("[data-action]");
            if (!action || action.tagName === "FORM" || action.tagName === "SELECT" || action.type === "checkbox") return;
            switch (action.dataset.action) {
              case "reload": location.reload(); break;
              case "close-dialog": action.closest("dialog").close(); break;
              case "delete-rule": {
                const section = $("#isolation");
                if (!confirm("Delete the rule for " + action.dataset.rule + "?")) return;
                const url = section.dataset.rulesUrl + "/" + encodeURIComponent(action.dataset.rule);
                settle(await call("DELETE", url, undefined, section.dataset.etag), section);
                break;
              }
              case "delete-partner": {
                const section = $("#cross-tenant-access");
                if (!confirm("Delete the settings for " + action.dataset.partner + "?")) return;
                const url = section.dataset.baseUrl + "/partners/" + encodeURIComponent(action.dataset.partner);
                settle(await call("DELETE", url, undefined, section.dataset.etag), section);
                break;
              }
              case "reset-default": {
                const section = $("#cross-tenant-access");
                if (!confirm("Reset the default settings to the system default?")) return;
                const url = section.dataset.baseUrl + "/default/resetToSystemDefault";
                settle(await call("POST", url, undefined, section.dataset.etag), section);
                break;
              }
              case "edit-document": {
                const dialog = openDialog("document-dialog");
                $("#document-dialog-title").textContent = action.dataset.title;
                const text = $("#document-text");
                try { text.value = JSON.stringify(JSON.parse(action.dataset.document), null, 2); }
                catch (_) { text.value = action.dataset.document; }
                const form = $("form", dialog);
                form.dataset.method = action.dataset.method;
                form.dataset.url = action.dataset.url;
                break;
              }
            }
          });

          document.addEventListener("change", async (event) => {
            const control = event.target;
            if (control.dataset.action === "change-direction") {
              const section = $("#isolation");
              const url = section.dataset.rulesUrl + "/" + encodeURIComponent(control.dataset.rule);
              settle(await call("PATCH", url, { direction: control.value }, section.dataset.etag), section);
            } else if (control.dataset.action === "toggle-isolation") {
              const section = $("#isolation");
              // Read when needed, not carried in the page: an allowlist may hold a million rules. The page's ETag
              // still guards the change, so one made since the page was opened is not written over.
              const current = await call("GET", section.dataset.policyUrl);
              const policy = current.status === 200 && current.json && current.json.properties ? current.json
                : { properties: { tenantId: document.body.dataset.tenant, allowedTenants: [] } };
              policy.properties.isDisabled = !control.checked;
              settle(await call("PUT", section.dataset.policyUrl, policy, section.dataset.etag), section);
            }
          });

          document.addEventListener("submit", async (event) => {
            const form = event.target;
            const action = form.dataset.action;
            if (!action) return;
            event.preventDefault();
            const data = new FormData(form);
            if (action === "add-rule") {
              const section = $("#isolation");
              const body = { tenant: String(data.get("tenant")).trim(), direction: data.get("direction") };
              settle(await call("POST", section.dataset.rulesUrl, body, section.dataset.etag), form);
            } else if (action === "add-partner") {
              const section = $("#cross-tenant-access");
              const body = { tenantId: String(data.get("tenant")).trim() };
              settle(await call("POST", section.dataset.baseUrl + "/partners", body, section.dataset.etag), form);
            } else if (action === "save-document") {
              const section = $("#cross-tenant-access");
              const text = String(data.get("document"));
              try { JSON.parse(text); } catch (error) { showError(form, "Not JSON: " + error.message); return; }
              settle(await call(form.dataset.method, form.dataset.url, text, section.dataset.etag), form);
            }
          });

          // The tenant typed in the dialog, resolved as the API will resolve it, while it is typed.
          let lookupTimer = null;
          async function lookUp(input) {
            const target = document.getElementById(input.getAttribute("aria-describedby"));
            const text = input.value.trim();
            if (!text) { target.textContent = ""; return; }
            const response = await fetch(input.dataset.lookup + "?q=" + encodeURIComponent(text),
              { credentials: "same-origin", headers: { "Accept": "application/json" } });
            const json = await response.json().catch(() => ({}));
            if (input.value.trim() !== text) return;
            target.textContent = response.ok
              ? json.name + (json.tenantId === "*" ? "" : " · " + json.tenantId)
                + (json.domains && json.domains.length ? " · " + json.domains.join(", ") : "")
              : (json.error || "Not found");
          }
          document.addEventListener("input", (event) => {
            const input = event.target;
            if (!input.dataset || !input.dataset.lookup) return;
            clearTimeout(lookupTimer);
            lookupTimer = setTimeout(() => lookUp(input), 250);
          });

          // A rule suggested elsewhere (Report, Activity) opens the dialog filled in, with the focus on Cancel: the
          // link may come from any site, so Enter alone must not save what it suggests.
          const isolation = $("#isolation");
          if (isolation && isolation.dataset.prefillTenant) {
            const dialog = openDialog("rule-dialog");
            $("#rule-tenant").value = isolation.dataset.prefillTenant;
            lookUp($("#rule-tenant"));
            if (isolation.dataset.prefillDirection) $("#rule-direction").value = isolation.dataset.prefillDirection;
            $("[data-action=close-dialog]", dialog).focus();
          }

          const activity = $("#activity");
          if (activity && window.EventSource) {
            const status = $("#live-status");
            const source = new EventSource(activity.dataset.stream);
            source.onopen = () => { status.textContent = "Live: new decisions appear at the top."; };
            source.onerror = () => { status.textContent = "Live updates interrupted; retrying…"; };
            source.onmessage = (event) => {
              const row = JSON.parse(event.data);
              const tr = document.createElement("tr");
              tr.className = "fresh decision-" + row.decision;
              tr.dataset.correlation = row.correlationID;
              const cell = (text, build) => {
                const td = document.createElement("td");
                if (build) build(td); else td.textContent = text || "";
                tr.appendChild(td);
              };
              cell(null, (td) => { const time = document.createElement("time"); time.dateTime = row.time;
                time.textContent = row.time; td.appendChild(time); });
              cell(null, (td) => { const pill = document.createElement("span"); pill.className = "pill " + row.decision;
                pill.textContent = row.decisionLabel; td.appendChild(pill); });
              cell(row.creator); cell(row.signIn);
              cell(null, (td) => { const code = document.createElement("code"); code.textContent = row.clientID || "";
                td.appendChild(code); });
              cell(row.host); cell(row.reason);
              cell(null, (td) => {
                if (row.fixURL) { const link = document.createElement("a"); link.href = row.fixURL;
                  link.textContent = row.fixLabel; td.appendChild(link); }
                else td.textContent = row.fixLabel || "";
              });
              const body = $("tbody", activity);
              body.insertBefore(tr, body.firstChild);
              while (body.rows.length > 500) body.deleteRow(body.rows.length - 1);
            };
          }
        })();
        """#
}
