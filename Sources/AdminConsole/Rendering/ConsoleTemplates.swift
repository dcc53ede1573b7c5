/// The console's Mustache templates, compiled into the binary so that `tenantgate serve` needs no files beside it.
/// `{{ }}` escapes HTML; the pages carry no inline script (the CSP forbids it), only `data-` attributes that
/// `console.js` reads.
enum ConsoleTemplates {
    static let all: [String: String] = [
        "top": top, "bottom": bottom, "message": message, "isolation": isolation,
        "cross_tenant_access": crossTenantAccess, "setting_rows": settingRows, "activity": activity,
        "activity_row": activityRow, "report": report, "what_if": whatIf,
    ]

    static let top = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · TenantGate</title>
        <link rel="stylesheet" href="/console/assets/console.css">
        <script src="/console/assets/console.js" defer></script>
        </head>
        <body data-csrf="{{csrf}}" data-tenant="{{tenantID}}">
        <a class="skip" href="#main">Skip to content</a>
        <header class="bar">
          <a class="brand" href="/console">TenantGate</a>
          {{#signedIn}}
          <nav aria-label="Console">
            <ul>
            {{#nav}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>{{/nav}}
            </ul>
          </nav>
          <div class="who">
            <span id="signed-in-user">{{userName}}</span> <span class="muted">{{tenantName}} · {{roles}}</span>
            <form method="post" action="/console/signout">
              <input type="hidden" name="csrf" value="{{csrf}}">
              <button type="submit" id="sign-out" class="link">Sign out</button>
            </form>
          </div>
          {{/signedIn}}
        </header>
        <main id="main" tabindex="-1">
        """

    static let bottom = """
        </main>
        </body>
        </html>
        """

    static let message = """
        {{> top}}
        <section class="card narrow" id="message">
          <h1>{{heading}}</h1>
          <p>{{text}}</p>
          {{#link}}<p><a class="button" href="{{href}}" id="message-link">{{label}}</a></p>{{/link}}
        </section>
        {{> bottom}}
        """

    static let isolation = """
        {{> top}}
        <h1>Tenant isolation</h1>
        <p class="lead">{{tenantName}} <code>{{tenantID}}</code>. While isolation is On, a connection between your tenant
        and another needs a rule in this allowlist: outbound when your makers sign in to the other tenant, inbound when
        the other tenant's makers sign in to yours.</p>
        <div id="conflict" class="banner" role="alert" hidden>
          These settings changed since you opened this page. <button type="button" data-action="reload">Reload</button>
        </div>
        <section class="card" id="isolation" data-etag="{{etag}}"
          data-policy-url="{{policyURL}}" data-rules-url="{{policyURL}}/rules"
          data-prefill-tenant="{{prefillTenant}}" data-prefill-direction="{{prefillDirection}}">
          <div class="row">
            <label class="switch" for="isolation-enabled">
              <input type="checkbox" role="switch" id="isolation-enabled" data-action="toggle-isolation"{{#enabled}} checked{{/enabled}}>
              Tenant isolation is <strong id="isolation-state">{{#enabled}}On{{/enabled}}{{^enabled}}Off{{/enabled}}</strong>
            </label>
          </div>
          <p class="error" data-error role="alert"></p>
          <div class="row spread">
            <h2>Allowlist</h2>
            <button type="button" id="new-rule" data-open-dialog="rule-dialog">New tenant rule</button>
          </div>
          <div class="scroll">
          <table id="rules">
            <caption class="visually-hidden">Tenants allowed to connect with {{tenantName}}</caption>
            <thead><tr><th scope="col">Tenant</th><th scope="col">Domain</th><th scope="col">Tenant ID</th>
            <th scope="col">Direction</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
            {{#rules}}
            <tr data-rule-row="{{subject}}">
              <td>{{name}}</td><td>{{domain}}</td><td><code>{{subject}}</code></td>
              <td>
                <label class="visually-hidden" for="direction-{{index}}">Direction of the rule for {{name}}</label>
                <select id="direction-{{index}}" data-action="change-direction" data-rule="{{subject}}">
                  <option value="inbound"{{#inbound}} selected{{/inbound}}>Inbound</option>
                  <option value="outbound"{{#outbound}} selected{{/outbound}}>Outbound</option>
                  <option value="both"{{#both}} selected{{/both}}>Both</option>
                </select>
              </td>
              <td><button type="button" class="danger" data-action="delete-rule" data-rule="{{subject}}"
                aria-label="Delete the rule for {{name}}">Delete</button></td>
            </tr>
            {{/rules}}
            {{#hasMoreRules}}<tr><td colspan="5" class="muted">{{moreRules}} more rules are not shown here; the API
            lists them all (<code>GET {{policyURL}}/rules</code>).</td></tr>{{/hasMoreRules}}
            {{^rules}}<tr><td colspan="5" class="muted">No rules: with isolation On, only connections within
            {{tenantName}} are allowed.</td></tr>{{/rules}}
            </tbody>
          </table>
          </div>
        </section>
        <dialog id="rule-dialog" aria-labelledby="rule-dialog-title">
          <form data-action="add-rule">
            <h2 id="rule-dialog-title">New tenant rule</h2>
            <label for="rule-tenant">Tenant domain or ID</label>
            <input id="rule-tenant" name="tenant" required autocomplete="off" aria-describedby="rule-resolved"
              placeholder="fabrikam.onmicrosoft.com, a tenant ID, or *" data-lookup="/console/tenants/lookup">
            <p id="rule-resolved" class="muted" aria-live="polite"></p>
            <label for="rule-direction">Direction</label>
            <select id="rule-direction" name="direction">
              <option value="inbound">Inbound</option>
              <option value="outbound">Outbound</option>
              <option value="both" selected>Both</option>
            </select>
            <p class="error" data-error role="alert"></p>
            <div class="actions">
              <button type="submit" id="rule-save">Save</button>
              <button type="button" class="secondary" data-action="close-dialog">Cancel</button>
            </div>
          </form>
        </dialog>
        {{> bottom}}
        """

    static let settingRows = """
        {{#settings}}
        <tr>
          <th scope="row">{{label}}</th>
          <td>{{#inherited}}<span class="badge">Inherited from default</span> {{/inherited}}{{usersAndGroups}}</td>
          <td>{{applications}}</td>
        </tr>
        {{/settings}}
        """

    static let crossTenantAccess = """
        {{> top}}
        <h1>Cross-tenant access settings</h1>
        <p class="lead">{{tenantName}} <code>{{tenantID}}</code>: B2B collaboration, B2B direct connect and tenant
        restrictions, by default and per organization. A value an organization does not set is inherited from the
        default.</p>
        <div id="conflict" class="banner" role="alert" hidden>
          These settings changed since you opened this page. <button type="button" data-action="reload">Reload</button>
        </div>
        <section class="card" id="cross-tenant-access" data-etag="{{etag}}" data-base-url="{{baseURL}}">
          <p class="error" data-error role="alert"></p>
          <div class="row spread">
            <h2>Default settings</h2>
            <div class="actions">
              <button type="button" id="edit-default" data-action="edit-document" data-title="Edit default settings"
                data-method="PATCH" data-url="{{baseURL}}/default" data-document="{{defaultJSON}}">Edit</button>
              <button type="button" class="secondary" id="reset-default" data-action="reset-default">Reset to system default</button>
            </div>
          </div>
          <div class="scroll">
          <table class="settings" id="default-settings">
            <thead><tr><th scope="col">Setting</th><th scope="col">Users and groups</th><th scope="col">Applications</th></tr></thead>
            <tbody>{{#default}}{{> setting_rows}}{{/default}}</tbody>
          </table>
          </div>
          <div class="row spread">
            <h2>Organizational settings</h2>
            <button type="button" id="add-partner" data-open-dialog="partner-dialog">Add organization</button>
          </div>
          {{#partners}}
          <article class="partner" data-partner="{{tenantID}}">
            <div class="row spread">
              <h3>{{name}} <code>{{tenantID}}</code></h3>
              <div class="actions">
                <button type="button" data-action="edit-document" data-title="Edit settings for {{name}}"
                  data-method="PATCH" data-url="{{baseURL}}/partners/{{tenantID}}" data-document="{{documentJSON}}"
                  aria-label="Edit the settings for {{name}}">Edit</button>
                <button type="button" class="danger" data-action="delete-partner" data-partner="{{tenantID}}"
                  aria-label="Delete the settings for {{name}}">Delete</button>
              </div>
            </div>
            <div class="scroll">
            <table class="settings">
              <thead><tr><th scope="col">Setting</th><th scope="col">Users and groups</th><th scope="col">Applications</th></tr></thead>
              <tbody>{{> setting_rows}}</tbody>
            </table>
            </div>
          </article>
          {{/partners}}
          {{^partners}}<p class="muted">No organizational settings: the default applies to every tenant.</p>{{/partners}}
        </section>
        <dialog id="partner-dialog" aria-labelledby="partner-dialog-title">
          <form data-action="add-partner">
            <h2 id="partner-dialog-title">Add organization</h2>
            <label for="partner-tenant">Tenant ID or domain</label>
            <input id="partner-tenant" name="tenant" required autocomplete="off">
            <p class="muted">Every setting starts inherited from the default.</p>
            <p class="error" data-error role="alert"></p>
            <div class="actions">
              <button type="submit" id="partner-save">Add</button>
              <button type="button" class="secondary" data-action="close-dialog">Cancel</button>
            </div>
          </form>
        </dialog>
        <dialog id="document-dialog" aria-labelledby="document-dialog-title">
          <form data-action="save-document">
            <h2 id="document-dialog-title">Edit settings</h2>
            <label for="document-text">Settings (Microsoft Graph JSON; leave a setting out or null to inherit)</label>
            <textarea id="document-text" name="document" rows="18" spellcheck="false"></textarea>
            <p class="error" data-error role="alert"></p>
            <div class="actions">
              <button type="submit" id="document-save">Save</button>
              <button type="button" class="secondary" data-action="close-dialog">Cancel</button>
            </div>
          </form>
        </dialog>
        {{> bottom}}
        """

    static let activityRow = """
        <tr class="decision-{{decision}}" data-correlation="{{correlationID}}">
          <td><time datetime="{{time}}">{{time}}</time></td>
          <td><span class="pill {{decision}}">{{decisionLabel}}</span></td>
          <td>{{creator}}</td><td>{{signIn}}</td><td><code>{{clientID}}</code></td>
          <td>{{host}}{{#resourceRequest}} <span class="pill resource" title="a request on a resource host, judged by the token it carries">{{method}} request</span>{{/resourceRequest}}</td>
          <td>{{reason}}</td>
          <td>{{#fixURL}}<a href="{{fixURL}}">{{fixLabel}}</a>{{/fixURL}}{{^fixURL}}{{fixLabel}}{{/fixURL}}</td>
        </tr>
        """

    static let activity = """
        {{> top}}
        <h1>Activity</h1>
        <p class="lead">The latest decisions, newest first; new ones appear as they happen.</p>
        <form class="filters card" method="get" action="/console/activity">
          <div><label for="filter-tenant">Tenant (domain or ID)</label>
            <input id="filter-tenant" name="tenant" value="{{filterTenant}}" autocomplete="off"></div>
          <div><label for="filter-decision">Decision</label>
            <select id="filter-decision" name="decision">
              {{#decisions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/decisions}}
            </select></div>
          <div><label for="filter-client">Client ID</label>
            <input id="filter-client" name="client" value="{{filterClient}}" autocomplete="off"></div>
          <div class="actions"><button type="submit" id="filter-apply">Filter</button>
            <a class="button secondary" href="/console/activity">Clear</a></div>
        </form>
        {{#filterError}}<p class="error" role="alert">{{filterError}}</p>{{/filterError}}
        <p id="live-status" class="muted" aria-live="polite">Connecting to live updates…</p>
        <div class="scroll">
        <table id="activity" data-stream="/console/activity/stream{{query}}">
          <caption class="visually-hidden">Decisions</caption>
          <thead><tr><th scope="col">Time</th><th scope="col">Decision</th><th scope="col">Creator</th>
          <th scope="col">Sign-in</th><th scope="col">Client ID</th><th scope="col">Host</th><th scope="col">Reason</th>
          <th scope="col">Fix</th></tr></thead>
          <tbody>{{#rows}}{{> activity_row}}{{/rows}}</tbody>
        </table>
        </div>
        {{> bottom}}
        """

    static let report = """
        {{> top}}
        <h1>Report</h1>
        <form class="filters card" method="get" action="/console/report">
          <div><label for="report-period">Period</label>
            <select id="report-period" name="period">
              {{#periods}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/periods}}
            </select></div>
          <div class="actions"><button type="submit" id="report-apply">Show</button></div>
        </form>
        {{#unavailable}}<p class="error" role="alert">{{unavailable}}</p>{{/unavailable}}
        {{#report}}
        <p class="muted">{{summary}}</p>
        <section class="card">
          <h2>Creator tenant × sign-in tenant</h2>
          {{#hasPairs}}
          <div class="scroll">
          <table class="matrix" id="matrix">
            <caption class="visually-hidden">Token exchanges by creator tenant (rows) and sign-in tenant (columns)</caption>
            <thead><tr><th scope="col">Creator ↓ · Sign-in →</th>{{#columns}}<th scope="col">{{name}}</th>{{/columns}}</tr></thead>
            <tbody>
            {{#rows}}<tr><th scope="row">{{name}}</th>{{#cells}}<td class="{{decision}}">{{#count}}<span class="count">{{count}}</span> <span class="pill {{decision}}">{{decisionLabel}}</span>{{/count}}</td>{{/cells}}</tr>{{/rows}}
            </tbody>
          </table>
          </div>
          {{/hasPairs}}
          {{^hasPairs}}<p class="muted">No cross-tenant exchanges in this period.</p>{{/hasPairs}}
        </section>
        <section class="card">
          <h2>Suggested rules for {{tenantName}}</h2>
          <p class="muted">Rules that keep the traffic seen in this period working once isolation is On.</p>
          <ul class="suggestions" id="suggestions">
          {{#suggestions}}<li><span>{{name}} <code>{{tenantID}}</code> · {{direction}}</span>
            <a class="button" href="{{addURL}}" aria-label="Add the rule {{name}} {{direction}}">Add rule</a></li>{{/suggestions}}
          {{^suggestions}}<li class="muted">None: the allowlist already covers what was seen.</li>{{/suggestions}}
          </ul>
        </section>
        {{/report}}
        {{> bottom}}
        """

    static let whatIf = """
        {{> top}}
        <h1>What if</h1>
        <p class="lead">Ask the policies in force one question, as <code>tenantgate check</code> does.</p>
        <form class="card question" method="get" action="/console/what-if">
          <div><label for="question-kind">Question</label>
            <select id="question-kind" name="kind">
              {{#kinds}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/kinds}}
            </select></div>
          <div><label for="question-tenant">Creator tenant, or whose settings (domain or ID)</label>
            <input id="question-tenant" name="tenant" value="{{tenant}}" required autocomplete="off"></div>
          <div><label for="question-other">Sign-in tenant, or partner (domain, ID, or unknown); or a resource host or Azure DevOps organisation URL the directory maps</label>
            <input id="question-other" name="other" value="{{other}}" required autocomplete="off"></div>
          <div><label for="question-direction">Direction (cross-tenant access)</label>
            <select id="question-direction" name="direction">
              <option value="inbound"{{#inbound}} selected{{/inbound}}>Inbound</option>
              <option value="outbound"{{#outbound}} selected{{/outbound}}>Outbound</option>
            </select></div>
          <div><label for="question-user">User object ID (optional)</label>
            <input id="question-user" name="user" value="{{user}}" autocomplete="off"></div>
          <div><label for="question-groups">Group IDs, comma-separated (optional)</label>
            <input id="question-groups" name="groups" value="{{groups}}" autocomplete="off"></div>
          <div><label for="question-app">Application ID (optional)</label>
            <input id="question-app" name="app" value="{{app}}" autocomplete="off"></div>
          <div class="actions"><button type="submit" id="question-ask">Ask</button></div>
        </form>
        {{#error}}<p class="error" role="alert" id="answer-error">{{error}}</p>{{/error}}
        {{#answer}}
        <section class="card answer {{decision}}" id="answer" aria-live="polite">
          <h2><span class="pill {{decision}}">{{decisionLabel}}</span></h2>
          <p id="explanation">{{explanation}}</p>
          {{#details}}<dl>{{#items}}<dt>{{term}}</dt><dd>{{value}}</dd>{{/items}}</dl>{{/details}}
        </section>
        {{/answer}}
        {{> bottom}}
        """
}
